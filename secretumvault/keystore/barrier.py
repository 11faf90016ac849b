"""The barrier: every record is AES-256-GCM encrypted before it reaches storage.

Record layout (bytes)::

    0x01 | u32be(key term) | nonce (12) | ciphertext || tag (16)

The associated data is a domain label, the 5-byte header and the storage path.
Binding the path means a record copied or swapped to another path fails to
authenticate; binding the header means the term cannot be altered to point
the reader at another key.
"""

from __future__ import annotations

import struct

from secretumvault.errors import CorruptRecord
from secretumvault.keystore._aead import NONCE_SIZE, TAG_SIZE, TagMismatchError
from secretumvault.keystore.keyring import Keyring

__all__ = ["UnknownTermError", "decrypt_record", "encrypt_record"]

_VERSION = 0x01
_HEADER = struct.Struct(">BI")
_DOMAIN = b"secretumvault.keystore.record.v1\x00"
_MIN_SIZE = _HEADER.size + NONCE_SIZE + TAG_SIZE


class UnknownTermError(Exception):
    """Internal: the record uses a key term this keyring does not have (yet)."""

    def __init__(self, term: int) -> None:
        super().__init__(term)
        self.term = term


def _associated_data(header: bytes, path: str) -> bytes:
    return _DOMAIN + header + path.encode("utf-8")


def encrypt_record(keyring: Keyring, path: str, plaintext: bytes) -> bytes:
    term = keyring.active_term
    cipher = keyring.cipher(term)
    assert cipher is not None  # Keyring guarantees the active term has a key
    header = _HEADER.pack(_VERSION, term)
    nonce, ciphertext = cipher.seal(plaintext, _associated_data(header, path))
    return header + nonce + ciphertext


def decrypt_record(keyring: Keyring, path: str, record: bytes) -> bytes:
    """Return the plaintext, or raise CorruptRecord (or UnknownTermError, to reload the keyring)."""
    if len(record) < _MIN_SIZE:
        raise CorruptRecord(f"record {path!r} is truncated ({len(record)} bytes); it cannot be read")
    header = record[: _HEADER.size]
    version, term = _HEADER.unpack(header)
    if version != _VERSION:
        raise CorruptRecord(f"record {path!r} has unknown format version {version}")
    cipher = keyring.cipher(term)
    if cipher is None:
        raise UnknownTermError(term)
    nonce = record[_HEADER.size : _HEADER.size + NONCE_SIZE]
    try:
        return cipher.open(nonce, record[_HEADER.size + NONCE_SIZE :], _associated_data(header, path))
    except TagMismatchError:
        raise CorruptRecord(
            f"record {path!r} failed authentication: it was altered, truncated or moved "
            "from another path; restore it from a backup or delete it"
        ) from None
