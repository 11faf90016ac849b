"""The core record: seal configuration, wrapped root key and encrypted keyring, in one record.

Key hierarchy (as in Vault)::

    unseal key (KEK: scrypt of the passphrase, or rebuilt from Shamir shares; never stored)
      wraps   root key  (random, AES-256-GCM; associated data: the seal configuration)
        wraps keyring   (data keys by term; associated data: a fixed label)
          encrypts records (barrier.py)

All three live in one record so that initialisation is a single atomic
create-if-absent, and a rotation a single compare-and-set: there is no state
in which a store has, say, a root key but no keyring.

The record is a JSON envelope (format and version tagged, never pickle)::

    {"format": "secretumvault.keystore.core", "version": 1,
     "seal": {...}, "root_key": {"algorithm", "nonce", "ciphertext"}, "keyring": {...}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from secretumvault.encoding import tagged_json as _json
from secretumvault.errors import CorruptRecord, UnsealError
from secretumvault.keystore._aead import ALGORITHM, Aead, TagMismatchError, new_key
from secretumvault.keystore.keyring import Keyring
from secretumvault.keystore.seal import SealConfig, seal_from_dict

__all__ = ["CORE_PATH", "CoreRecord", "Unlocked"]

CORE_PATH = "core/keyring"
_FORMAT = "secretumvault.keystore.core"
_VERSION = 1
_ROOT_DOMAIN = b"secretumvault.keystore.root-key.v1\x00"
_KEYRING_DOMAIN = b"secretumvault.keystore.keyring.v1\x00"


@dataclass(frozen=True)
class _Wrapped:
    nonce: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "algorithm": ALGORITHM,
            "nonce": _json.b64encode(self.nonce),
            "ciphertext": _json.b64encode(self.ciphertext),
        }

    @classmethod
    def from_dict(cls, obj: object) -> _Wrapped:
        if not isinstance(obj, dict) or obj.get("algorithm") != ALGORITHM:
            raise _json.FormatError(f"wrapped key is not {ALGORITHM}")
        return cls(
            _json.b64decode(_json.require(obj, "nonce", str)),
            _json.b64decode(_json.require(obj, "ciphertext", str)),
        )


@dataclass(frozen=True)
class Unlocked:
    """What unsealing yields: the root key (to re-encrypt the keyring) and the keyring."""

    root: Aead
    keyring: Keyring


@dataclass(frozen=True)
class CoreRecord:
    seal: SealConfig
    root_key: _Wrapped
    keyring: _Wrapped

    @classmethod
    def create(cls, seal: SealConfig, kek: bytes) -> CoreRecord:
        """A fresh root key and keyring, the root key wrapped under ``kek``."""
        root_key = new_key()
        wrapped_root = _Wrapped(*Aead(kek).seal(root_key, _root_associated_data(seal)))
        return cls(seal, wrapped_root, _wrap_keyring(Aead(root_key), Keyring.new()))

    def unlock(self, kek: bytes) -> Unlocked:
        """Unwrap the root key and keyring; UnsealError if ``kek`` is wrong."""
        try:
            root_key = Aead(kek).open(
                self.root_key.nonce, self.root_key.ciphertext, _root_associated_data(self.seal)
            )
        except TagMismatchError:
            raise UnsealError(
                "unseal failed: wrong passphrase or shares (or the seal configuration was altered); "
                "the store is unchanged and still sealed"
            ) from None
        root = Aead(root_key)
        return Unlocked(root, self.open_keyring(root))

    def open_keyring(self, root: Aead) -> Keyring:
        try:
            plaintext = root.open(self.keyring.nonce, self.keyring.ciphertext, _KEYRING_DOMAIN)
        except TagMismatchError:
            raise CorruptRecord(f"the keyring in {CORE_PATH!r} failed authentication") from None
        try:
            return Keyring.from_json(plaintext)
        except _json.FormatError as exc:
            raise CorruptRecord(f"the keyring in {CORE_PATH!r} is malformed: {exc}") from None

    def with_keyring(self, root: Aead, keyring: Keyring) -> CoreRecord:
        return CoreRecord(self.seal, self.root_key, _wrap_keyring(root, keyring))

    def encode(self) -> bytes:
        return _json.dumps(
            {
                "format": _FORMAT,
                "version": _VERSION,
                "seal": self.seal.to_dict(),
                "root_key": self.root_key.to_dict(),
                "keyring": self.keyring.to_dict(),
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> CoreRecord:
        try:
            obj = _json.loads(data, _FORMAT, _VERSION)
            return cls(
                seal_from_dict(obj.get("seal")),
                _Wrapped.from_dict(obj.get("root_key")),
                _Wrapped.from_dict(obj.get("keyring")),
            )
        except _json.FormatError as exc:
            raise CorruptRecord(f"the keyring record {CORE_PATH!r} is corrupt: {exc}") from None
        except ValueError:  # e.g. json's limit on integer digits; its message quotes the record
            raise CorruptRecord(
                f"the keyring record {CORE_PATH!r} is corrupt: a value is out of range"
            ) from None


def _root_associated_data(seal: SealConfig) -> bytes:
    return _ROOT_DOMAIN + _json.dumps(seal.to_dict())


def _wrap_keyring(root: Aead, keyring: Keyring) -> _Wrapped:
    return _Wrapped(*root.seal(keyring.to_json(), _KEYRING_DOMAIN))
