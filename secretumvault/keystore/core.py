"""The core record: seal configuration, wrapped root key and encrypted keyring, in one record.

Key hierarchy (as in Vault)::

    unseal key (KEK: scrypt of the passphrase, or rebuilt from Shamir shares; never stored)
      wraps   root key  (random, AES-256-GCM; associated data: the seal configuration)
        wraps keyring   (data keys by term; associated data: a label and the record's seq)
          encrypts records (barrier.py)
        derives the index keys (index.py)

All three live in one record, so that a rotation or a rekey replaces them
together: there is no state in which a store has, say, a root key but no
keyring. A rekey rewraps the root key only; nothing else is re-encrypted.

The record is a JSON envelope (format and version tagged, never pickle)::

    {"format": "secretumvault.keystore.core", "version": 2, "seq": 7,
     "seal": {...}, "root_key": {"algorithm", "nonce", "ciphertext"}, "keyring": {...}}

``seq`` numbers the write that made the record; the index root repeats it, so
an older copy of this record put back (say, from before a rekey) is noticed at
unseal. Version 1 (no ``seq``, written before the index existed) is still read;
the first write to such a store upgrades it.
"""

from __future__ import annotations

import struct
from typing import Any

from secretumvault._frozen import Frozen, set_field
from secretumvault.encoding import tagged_json as _json
from secretumvault.errors import CorruptRecord, UnsealError
from secretumvault.keystore._aead import ALGORITHM, Aead, TagMismatchError
from secretumvault.keystore.index import MAX_SEQ, IndexKeys
from secretumvault.keystore.keyring import Keyring
from secretumvault.keystore.seal import SealConfig, seal_from_dict

__all__ = ["CORE_PATH", "CoreRecord", "Unlocked", "Wrapped"]

CORE_PATH = "core/keyring"
_FORMAT = "secretumvault.keystore.core"
_VERSION = 2
_LEGACY_VERSION = 1
_ROOT_DOMAIN = b"secretumvault.keystore.root-key.v1\x00"
_KEYRING_DOMAIN = b"secretumvault.keystore.keyring.v2\x00"
_LEGACY_KEYRING_DOMAIN = b"secretumvault.keystore.keyring.v1\x00"
_SEQ = struct.Struct(">Q")
_WRONG_MATERIAL = (
    "unseal failed: wrong passphrase or shares (or the seal configuration was altered); "
    "the store is unchanged and still sealed"
)


class Wrapped(Frozen):
    """A key encrypted under another: nonce and ciphertext with tag."""

    __slots__ = _fields = ("nonce", "ciphertext")
    _secret_fields = ("nonce", "ciphertext")
    nonce: bytes
    ciphertext: bytes

    def __init__(self, nonce: bytes, ciphertext: bytes) -> None:
        set_field(self, "nonce", nonce)
        set_field(self, "ciphertext", ciphertext)

    def to_dict(self) -> dict[str, Any]:
        return {
            "algorithm": ALGORITHM,
            "nonce": _json.b64encode(self.nonce),
            "ciphertext": _json.b64encode(self.ciphertext),
        }

    @classmethod
    def from_dict(cls, obj: object) -> Wrapped:
        if not isinstance(obj, dict) or obj.get("algorithm") != ALGORITHM:
            raise _json.FormatError(f"wrapped key is not {ALGORITHM}")
        return cls(
            _json.b64decode(_json.require(obj, "nonce", str)),
            _json.b64decode(_json.require(obj, "ciphertext", str)),
        )


class Unlocked(Frozen):
    """What unsealing yields: the root key (to re-encrypt the keyring), the keyring, the index keys.

    ``root_key`` is the root key's bytes, kept so a server worker can hand the unsealed state to
    a sibling process (``Keystore.export_root_key``); never shown by repr.
    """

    __slots__ = _fields = ("root", "keyring", "index", "root_key")
    _secret_fields = ("root_key",)
    root: Aead
    keyring: Keyring
    index: IndexKeys
    root_key: bytes

    def __init__(self, root: Aead, keyring: Keyring, index: IndexKeys, root_key: bytes) -> None:
        set_field(self, "root", root)
        set_field(self, "keyring", keyring)
        set_field(self, "index", index)
        set_field(self, "root_key", root_key)


def wrap_root_key(kek: bytes, root_key: bytes, seal: SealConfig) -> Wrapped:
    """``root_key`` under ``kek``, bound to ``seal`` (changing the configuration breaks the unwrap)."""
    return Wrapped(*Aead(kek).seal(root_key, _root_associated_data(seal)))


def unlocked_from_root_key(root_key: bytes, keyring: Keyring) -> Unlocked:
    return Unlocked(Aead(root_key), keyring, IndexKeys(root_key), root_key)


class CoreRecord(Frozen):
    __slots__ = _fields = ("seal", "root_key", "keyring", "seq")
    seal: SealConfig
    root_key: Wrapped
    keyring: Wrapped
    seq: int | None  # None: a version 1 record, from before the index

    def __init__(self, seal: SealConfig, root_key: Wrapped, keyring: Wrapped, seq: int | None) -> None:
        set_field(self, "seal", seal)
        set_field(self, "root_key", root_key)
        set_field(self, "keyring", keyring)
        set_field(self, "seq", seq)

    @classmethod
    def build(cls, seal: SealConfig, root_key: Wrapped, root: Aead, keyring: Keyring, seq: int) -> CoreRecord:
        """A version 2 record written at ``seq``, the keyring wrapped under ``root``."""
        return cls(seal, root_key, _wrap_keyring(root, keyring, seq), seq)

    def unwrap_root_key(self, kek: bytes) -> bytes:
        """The root key; UnsealError if ``kek`` is wrong."""
        try:
            return Aead(kek).open(
                self.root_key.nonce, self.root_key.ciphertext, _root_associated_data(self.seal)
            )
        except TagMismatchError:
            raise UnsealError(_WRONG_MATERIAL) from None

    def unlock(self, kek: bytes) -> Unlocked:
        """Unwrap the root key and keyring; UnsealError if ``kek`` is wrong."""
        root_key = self.unwrap_root_key(kek)
        return unlocked_from_root_key(root_key, self.open_keyring(Aead(root_key)))

    def open_keyring(self, root: Aead) -> Keyring:
        try:
            plaintext = root.open(
                self.keyring.nonce, self.keyring.ciphertext, _keyring_associated_data(self.seq)
            )
        except TagMismatchError:
            raise CorruptRecord(f"the keyring in {CORE_PATH!r} failed authentication") from None
        try:
            return Keyring.from_json(plaintext)
        except (_json.FormatError, ValueError) as exc:
            raise CorruptRecord(f"the keyring in {CORE_PATH!r} is malformed: {exc}") from None

    def with_keyring(self, root: Aead, keyring: Keyring, seq: int) -> CoreRecord:
        return CoreRecord.build(self.seal, self.root_key, root, keyring, seq)

    def encode(self) -> bytes:
        obj: dict[str, Any] = {
            "format": _FORMAT,
            "version": _LEGACY_VERSION if self.seq is None else _VERSION,
            "seal": self.seal.to_dict(),
            "root_key": self.root_key.to_dict(),
            "keyring": self.keyring.to_dict(),
        }
        if self.seq is not None:
            obj["seq"] = self.seq
        return _json.dumps(obj)

    @classmethod
    def decode(cls, data: bytes) -> CoreRecord:
        try:
            obj, seq = _parse(data)
            return cls(
                seal_from_dict(obj.get("seal")),
                Wrapped.from_dict(obj.get("root_key")),
                Wrapped.from_dict(obj.get("keyring")),
                seq,
            )
        except _json.FormatError as exc:
            raise CorruptRecord(f"the keyring record {CORE_PATH!r} is corrupt: {exc}") from None
        except ValueError:  # e.g. json's limit on integer digits; its message quotes the record
            raise CorruptRecord(
                f"the keyring record {CORE_PATH!r} is corrupt: a value is out of range"
            ) from None


def _parse(data: bytes) -> tuple[dict[str, Any], int | None]:
    try:
        obj = _json.loads(data, _FORMAT, _VERSION)
    except _json.FormatError as current:
        try:
            return _json.loads(data, _FORMAT, _LEGACY_VERSION), None
        except _json.FormatError:
            raise current from None
    seq = obj.get("seq")
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ:
        raise _json.FormatError("field 'seq' is missing or out of range")
    return obj, seq


def _root_associated_data(seal: SealConfig) -> bytes:
    return _ROOT_DOMAIN + _json.dumps(seal.to_dict())


def _keyring_associated_data(seq: int | None) -> bytes:
    return _LEGACY_KEYRING_DOMAIN if seq is None else _KEYRING_DOMAIN + _SEQ.pack(seq)


def _wrap_keyring(root: Aead, keyring: Keyring, seq: int) -> Wrapped:
    return Wrapped(*root.seal(keyring.to_json(), _keyring_associated_data(seq)))
