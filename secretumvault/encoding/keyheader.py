"""Self-describing byte encoding of hybrid keys ("keys at rest" in docs/design.md).

Layout::

    0x01 | kind | u8(len(algorithm)) | algorithm (ASCII) | body

The first byte is the format version, ``kind`` says public or secret, KEM or
signature, and the algorithm name travels with the key, so a key can never be
loaded as a different algorithm or role by accident. Keys are never pickled:
this encoding is the only way in or out. What the body holds is up to the
key class (see ``_hybrid_kem`` and ``_hybrid_sig``).
"""

from __future__ import annotations

import enum

from secretumvault._words import with_article
from secretumvault.errors import InvalidKey

__all__ = ["KEY_FORMAT_VERSION", "KeyKind", "decode_key", "encode_key", "header_size"]

KEY_FORMAT_VERSION = 0x01


class KeyKind(enum.IntEnum):
    KEM_PUBLIC = 0x01
    KEM_SECRET = 0x02
    SIGNATURE_PUBLIC = 0x03
    SIGNATURE_SECRET = 0x04

    @property
    def description(self) -> str:
        return self.name.lower().replace("_", " ") + " key"


def header_size(algorithm: str) -> int:
    """Bytes before the body: version, kind, the name's length, the name."""
    return 3 + len(algorithm.encode("ascii"))


def encode_key(kind: KeyKind, algorithm: str, body: bytes) -> bytes:
    name = algorithm.encode("ascii")
    if not 0 < len(name) < 256:  # the u8 length prefix
        raise ValueError("algorithm names are 1 to 255 ASCII characters")  # programming error
    return bytes((KEY_FORMAT_VERSION, kind, len(name))) + name + body


def decode_key(data: bytes, *, kind: KeyKind, algorithm: str) -> bytes:
    """Check the header against the expected kind and algorithm; return the body.

    Messages name the kinds and algorithms involved (public facts) but never
    any body bytes, which may be secret.
    """
    expected = f"{with_article(algorithm)} {kind.description}"
    if len(data) < 3:  # version, kind, name length
        raise InvalidKey(f"expected {expected}, got {len(data)} bytes: too short for a key header")
    if data[0] != KEY_FORMAT_VERSION:
        raise InvalidKey(
            f"expected {expected} in key format {KEY_FORMAT_VERSION:#04x}, got format byte "
            f"{data[0]:#04x} (a raw key, or one written by a newer SecretumVault?)"
        )
    try:
        found_kind = KeyKind(data[1])
    except ValueError:
        raise InvalidKey(f"expected {expected}, got unknown key kind {data[1]:#04x}") from None
    name_end = 3 + data[2]
    found_name = data[3:name_end]
    if len(found_name) != data[2]:
        raise InvalidKey(f"expected {expected}, got a truncated key header")
    if found_kind is not kind or found_name != algorithm.encode("ascii"):
        shown = found_name.decode("ascii", "replace")
        raise InvalidKey(f"expected {expected}, got a {shown!r} {found_kind.description}")
    return data[name_end:]
