"""A minimal DER encoder (X.690) for the parts of X.509 we build ourselves.

pyca/cryptography's builders refuse ML-DSA keys and can only sign with keys
they hold, so the TBS structures are assembled here and signed by the CA's
own key (through :mod:`secretumvault.pqc` for ML-DSA). Encoding only: every
structure we emit is parsed back and verified by pyca/cryptography in tests.
Lengths are always definite and minimal, as DER requires.
"""

from __future__ import annotations

import datetime

__all__ = [
    "bit_string",
    "boolean",
    "context_explicit",
    "context_implicit_constructed",
    "context_implicit_primitive",
    "enumerated",
    "generalized_time",
    "integer",
    "null",
    "octet_string",
    "oid",
    "sequence",
    "set_of",
    "time",
]

_TAG_BOOLEAN = 0x01
_TAG_INTEGER = 0x02
_TAG_BIT_STRING = 0x03
_TAG_OCTET_STRING = 0x04
_TAG_NULL = 0x05
_TAG_OID = 0x06
_TAG_ENUMERATED = 0x0A
_TAG_UTC_TIME = 0x17
_TAG_GENERALIZED_TIME = 0x18
_TAG_SEQUENCE = 0x30
_TAG_SET = 0x31


def _tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def sequence(*items: bytes) -> bytes:
    return _tlv(_TAG_SEQUENCE, b"".join(items))


def set_of(*items: bytes) -> bytes:
    # DER orders SET OF members by their encodings.
    return _tlv(_TAG_SET, b"".join(sorted(items)))


def integer(value: int) -> bytes:
    # Two's complement, minimal: one extra byte when the top bit would read as a sign.
    size = value.bit_length() // 8 + 1
    return _tlv(_TAG_INTEGER, value.to_bytes(size, "big", signed=True))


def enumerated(value: int) -> bytes:
    """A small non-negative ENUMERATED (OCSP's responseStatus)."""
    return _tlv(_TAG_ENUMERATED, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def boolean(value: bool) -> bytes:
    return _tlv(_TAG_BOOLEAN, b"\xff" if value else b"\x00")


def null() -> bytes:
    return _tlv(_TAG_NULL, b"")


def octet_string(data: bytes) -> bytes:
    return _tlv(_TAG_OCTET_STRING, data)


def bit_string(data: bytes) -> bytes:
    """A BIT STRING of whole bytes (no unused bits), as keys and signatures are."""
    return _tlv(_TAG_BIT_STRING, b"\x00" + data)


def oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"not an object identifier: {dotted}")  # programming error
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _tlv(_TAG_OID, bytes(body))


def time(moment: datetime.datetime) -> bytes:
    """RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; UTC, whole seconds."""
    utc = moment.astimezone(datetime.UTC)
    if utc.year < 2050:
        return _tlv(_TAG_UTC_TIME, utc.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return _tlv(_TAG_GENERALIZED_TIME, utc.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def generalized_time(moment: datetime.datetime) -> bytes:
    """GeneralizedTime in UTC, whole seconds, whatever the year (as OCSP always uses)."""
    utc = moment.astimezone(datetime.UTC)
    return _tlv(_TAG_GENERALIZED_TIME, utc.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def context_explicit(number: int, inner: bytes) -> bytes:
    """``[number] EXPLICIT``: a constructed context tag around a complete encoding."""
    return _tlv(0xA0 | number, inner)


def context_implicit_constructed(number: int, content: bytes) -> bytes:
    """``[number] IMPLICIT`` over a constructed type (e.g. SET OF): replaces its tag."""
    return _tlv(0xA0 | number, content)


def context_implicit_primitive(number: int, content: bytes) -> bytes:
    """``[number] IMPLICIT`` over a primitive type (e.g. OCTET STRING)."""
    return _tlv(0x80 | number, content)
