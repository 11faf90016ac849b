"""The barrier: every record is AES-256-GCM encrypted before it reaches storage.

Record layout (bytes), format 0x02::

    0x02 | u32be(key term) | u64be(seq) | nonce (12) | ciphertext || tag (16)

``seq`` numbers the write that made the record (see ``index.py``, which keeps
the seq each path's record must have). The associated data is a domain label,
the header and the storage path. Binding the path means a record copied or
swapped to another path fails to authenticate; binding the header means the
term cannot be altered to point the reader at another key, nor the seq to
pass an older copy off as the current one.

Format 0x01 (``0x01 | u32be(term) | nonce | ciphertext``, no seq) is what
stores written before record versions hold; it is still read, never written.
"""

from __future__ import annotations

import struct

from secretumvault.errors import CorruptRecord
from secretumvault.keystore._aead import NONCE_SIZE, TAG_SIZE, TagMismatchError
from secretumvault.keystore.keyring import Keyring

__all__ = ["UnknownTermError", "decrypt_record", "encrypt_record"]

_VERSION = 0x02
_HEADER = struct.Struct(">BIQ")
_DOMAIN = b"secretumvault.keystore.record.v2\x00"
_LEGACY_VERSION = 0x01
_LEGACY_HEADER = struct.Struct(">BI")
_LEGACY_DOMAIN = b"secretumvault.keystore.record.v1\x00"


class UnknownTermError(Exception):
    """Internal: the record uses a key term this keyring does not have (yet)."""

    def __init__(self, term: int) -> None:
        super().__init__(term)
        self.term = term


def encrypt_record(keyring: Keyring, path: str, plaintext: bytes, seq: int) -> bytes:
    term = keyring.active_term
    cipher = keyring.cipher(term)
    assert cipher is not None  # Keyring guarantees the active term has a key
    header = _HEADER.pack(_VERSION, term, seq)
    nonce, ciphertext = cipher.seal(plaintext, _DOMAIN + header + path.encode("utf-8"))
    return header + nonce + ciphertext


def decrypt_record(keyring: Keyring, path: str, record: bytes) -> tuple[bytes, int | None]:
    """The plaintext and the record's seq (None for a format 0x01 record).

    Raises CorruptRecord, or UnknownTermError (to reload the keyring).
    """
    if not record:
        raise CorruptRecord(f"record {path!r} is empty; it cannot be read")
    if record[0] == _VERSION:
        header_format, domain = _HEADER, _DOMAIN
    elif record[0] == _LEGACY_VERSION:
        header_format, domain = _LEGACY_HEADER, _LEGACY_DOMAIN
    else:
        raise CorruptRecord(f"record {path!r} has unknown format version {record[0]}")
    if len(record) < header_format.size + NONCE_SIZE + TAG_SIZE:
        raise CorruptRecord(f"record {path!r} is truncated ({len(record)} bytes); it cannot be read")
    header = record[: header_format.size]
    fields = header_format.unpack(header)
    term, seq = fields[1], (fields[2] if len(fields) == 3 else None)
    cipher = keyring.cipher(term)
    if cipher is None:
        raise UnknownTermError(term)
    nonce = record[header_format.size : header_format.size + NONCE_SIZE]
    try:
        plaintext = cipher.open(
            nonce, record[header_format.size + NONCE_SIZE :], domain + header + path.encode("utf-8")
        )
    except TagMismatchError:
        raise CorruptRecord(
            f"record {path!r} failed authentication: it was altered, truncated or moved "
            "from another path; restore it from a backup or delete it"
        ) from None
    return plaintext, seq
