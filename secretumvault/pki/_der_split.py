"""Split a DER SEQUENCE into its members, to pick fields out of a parsed structure.

Used only on structures pyca/cryptography has already parsed (a CSR's
CertificationRequestInfo, its outer SEQUENCE), to take the exact bytes of a
field -- the SubjectPublicKeyInfo, the AlgorithmIdentifier -- without asking
cryptography to build a key object for an algorithm it may not support.
"""

from __future__ import annotations

from secretumvault.errors import InvalidArgument

__all__ = ["element_content", "sequence_members"]

_SEQUENCE = 0x30


def _element_end(data: bytes, start: int, what: str) -> int:
    """The index just past the TLV that starts at ``start`` (definite, minimal lengths only)."""
    if start + 2 > len(data):
        raise InvalidArgument(f"{what}: truncated DER")
    first = data[start + 1]
    if first < 0x80:
        length, header = first, 2
    else:
        size = first & 0x7F
        if size == 0 or size > 4 or start + 2 + size > len(data):
            raise InvalidArgument(f"{what}: unsupported DER length")
        length = int.from_bytes(data[start + 2 : start + 2 + size], "big")
        header = 2 + size
    end = start + header + length
    if end > len(data):
        raise InvalidArgument(f"{what}: truncated DER")
    return end


def sequence_members(data: bytes, what: str) -> list[bytes]:
    """The complete encodings of each member of the SEQUENCE that is all of ``data``."""
    if not data or data[0] != _SEQUENCE or _element_end(data, 0, what) != len(data):
        raise InvalidArgument(f"{what}: not a single DER SEQUENCE")
    first = data[1]
    position = 2 + (first & 0x7F if first >= 0x80 else 0)
    members = []
    while position < len(data):
        end = _element_end(data, position, what)
        members.append(data[position:end])
        position = end
    return members


def element_content(data: bytes, what: str) -> tuple[int, bytes]:
    """The tag and the contents of the single TLV that is all of ``data``."""
    if not data:
        raise InvalidArgument(f"{what}: empty DER")
    end = _element_end(data, 0, what)
    if end != len(data):
        raise InvalidArgument(f"{what}: trailing bytes after the DER element")
    first = data[1]
    header = 2 + (first & 0x7F if first >= 0x80 else 0)
    return data[0], data[header:end]
