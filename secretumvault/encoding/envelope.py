"""The versioned two-part envelope of hybrid ciphertexts, signatures and keys.

Wire format (docs/design.md, "Wire formats")::

    0x01 | u32be(len(classical)) | classical | pqc

This module only frames bytes; it knows nothing about algorithms. Callers say
how long each part must be, so every malformed input -- truncated, unknown
version, a length field pointing past the end, trailing bytes, swapped or
duplicated halves -- fails here with one exception type chosen by the caller
(``InvalidCiphertext`` for KEM ciphertexts, ``InvalidSignature`` for
signatures, ``InvalidKey`` for keys). The encoding is canonical: a value that
parses re-encodes to exactly the same bytes, so two different byte strings
never stand for the same pair of parts.
"""

from __future__ import annotations

import struct

from secretumvault._words import with_article
from secretumvault.errors import SecretumVaultError

__all__ = [
    "ENVELOPE_VERSION",
    "HEADER_SIZE",
    "LENGTH_FIELD_SIZE",
    "pack",
    "pack_body",
    "unpack",
    "unpack_body",
]

#: The only format version defined so far; the first byte of every envelope.
ENVELOPE_VERSION = 0x01

_LENGTH = struct.Struct(">I")
#: The big-endian 32-bit length of the classical part.
LENGTH_FIELD_SIZE = _LENGTH.size
#: Version byte plus the length field.
HEADER_SIZE = 1 + LENGTH_FIELD_SIZE


def pack_body(classical: bytes, pqc: bytes) -> bytes:
    """``u32be(len(classical)) | classical | pqc``: the envelope without its version byte."""
    return _LENGTH.pack(len(classical)) + classical + pqc


def pack(classical: bytes, pqc: bytes) -> bytes:
    """``0x01 | u32be(len(classical)) | classical | pqc``."""
    return bytes((ENVELOPE_VERSION,)) + pack_body(classical, pqc)


def unpack_body(
    data: bytes,
    *,
    classical_size: int,
    pqc_size: int,
    what: str,
    error: type[SecretumVaultError],
) -> tuple[bytes, bytes]:
    """Split ``u32be(len) | classical | pqc`` whose parts must have exactly the given sizes.

    Raises ``error`` naming ``what`` on any deviation. Messages carry only
    lengths, never content, so they are safe for secret-bearing inputs.
    """
    expected_total = _LENGTH.size + classical_size + pqc_size
    if len(data) < _LENGTH.size:
        raise error(f"{what} is truncated: {len(data)} bytes, expected {expected_total}")
    (declared,) = _LENGTH.unpack_from(data)
    # Checked before slicing so a huge or swapped length field is reported as
    # what it is rather than as a short read.
    if declared != classical_size:
        raise error(
            f"{what} declares {with_article(declared)}-byte classical part, expected {classical_size} "
            "(parts swapped, duplicated or from another algorithm?)"
        )
    if len(data) != expected_total:
        relation = "is truncated" if len(data) < expected_total else "has trailing bytes"
        raise error(f"{what} {relation}: {len(data)} bytes, expected {expected_total}")
    classical_end = _LENGTH.size + classical_size
    return data[_LENGTH.size : classical_end], data[classical_end:]


def unpack(
    data: bytes,
    *,
    classical_size: int,
    pqc_size: int,
    what: str,
    error: type[SecretumVaultError],
) -> tuple[bytes, bytes]:
    """Split a versioned envelope into ``(classical, pqc)``; see :func:`unpack_body`."""
    if not data:
        raise error(f"{what} is empty")
    if data[0] != ENVELOPE_VERSION:
        raise error(
            f"{what} has unknown format version {data[0]:#04x}; this library reads "
            f"version {ENVELOPE_VERSION:#04x} (was it made by a newer SecretumVault?)"
        )
    return unpack_body(data[1:], classical_size=classical_size, pqc_size=pqc_size, what=what, error=error)
