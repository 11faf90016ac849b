"""How a store is unsealed: its seal configuration, stored in clear beside the wrapped root key.

Three kinds, as in Vault:

- ``passphrase``: the key-encryption key (KEK) is scrypt(passphrase, salt).
  The scrypt parameters and salt are stored so the KEK can be derived again.
- ``shamir``: the KEK is 32 random bytes, split into shares at initialisation
  and never stored; ``threshold`` shares rebuild it (see ``shamir.py``).
- ``auto`` (``transit`` or ``pkcs11``): the KEK is 32 random bytes, wrapped by
  a key that lives elsewhere (another server's transit key, an HSM's AES key)
  through a :class:`KeyWrapper`; the wrapped KEK is stored here, so the store
  unseals itself whenever that key can be reached. Recovery shares (Shamir, of
  a separate recovery key) authorise migrating the store off the seal; they
  cannot unseal it. The wrapper does I/O, so it lives outside this pure layer,
  in :mod:`secretumvault.keystore.seals`; the keystore only calls it.

The configuration is stored in clear but is bound into the associated data of
the wrapped root key (``core.py``), so changing any field of it makes unsealing
fail instead of silently deriving something else. But that check needs the
KEK, so it comes only after scrypt has run: the parameters read back are
therefore checked first, against a limit (:func:`check_scrypt_limit`), so a
tampered store cannot make an unseal attempt spend gigabytes and seconds.
"""

from __future__ import annotations

import os
from typing import Any, Protocol, runtime_checkable

from secretumvault._frozen import Frozen, set_field
from secretumvault.encoding import tagged_json as _json
from secretumvault.errors import InvalidArgument, InvalidType, KeystoreError, UnsealError
from secretumvault.keystore._aead import KEY_SIZE

__all__ = [
    "AUTO_SEAL_TYPES",
    "MAX_SHARES",
    "AutoSeal",
    "KeyWrapper",
    "PassphraseSeal",
    "ScryptParams",
    "SealConfig",
    "ShamirSeal",
    "check_scrypt_limit",
    "seal_from_dict",
]

MAX_SHARES = 255  # share indices are one byte
_SALT_SIZE = 16
SET_ID_SIZE = 8


class ScryptParams(Frozen):
    """scrypt cost. The default (n=2**17, r=8, p=1: 128 MiB, a fraction of a second)
    follows OWASP's recommendation; n=2**14 (RFC 7914's interactive setting) is
    the lowest accepted, and n=2**20 the highest so a stored value cannot be
    used to exhaust memory."""

    __slots__ = _fields = ("n", "r", "p")
    n: int
    r: int
    p: int

    def __init__(self, n: int = 2**17, r: int = 8, p: int = 1) -> None:
        if not (2**14 <= n <= 2**20 and n & (n - 1) == 0):
            raise InvalidArgument("scrypt n must be a power of two from 2**14 to 2**20")
        if not 1 <= r <= 32:
            raise InvalidArgument("scrypt r must be from 1 to 32")
        if not 1 <= p <= 16:
            raise InvalidArgument("scrypt p must be from 1 to 16")
        set_field(self, "n", n)
        set_field(self, "r", r)
        set_field(self, "p", p)

    def __str__(self) -> str:
        return f"n=2**{self.n.bit_length() - 1}, r={self.r}, p={self.p} ({self.memory_mib} MiB)"

    @property
    def memory_mib(self) -> int:
        """The memory one derivation needs: 128 * r * n bytes."""
        return 128 * self.r * self.n // 2**20

    def within(self, limit: ScryptParams) -> bool:
        """Whether every parameter is at most the limit's (so memory and time are too)."""
        return self.n <= limit.n and self.r <= limit.r and self.p <= limit.p


def check_scrypt_limit(limit: object) -> ScryptParams:
    """A ``scrypt_limit`` argument: a :class:`ScryptParams`."""
    if not isinstance(limit, ScryptParams):
        raise InvalidType(f"scrypt_limit must be a ScryptParams, not {type(limit).__name__}")
    return limit


class PassphraseSeal(Frozen):
    __slots__ = _fields = ("params", "salt")
    _secret_fields = ("salt",)
    params: ScryptParams
    salt: bytes

    def __init__(self, params: ScryptParams, salt: bytes) -> None:
        set_field(self, "params", params)
        set_field(self, "salt", salt)

    @classmethod
    def new(cls, params: ScryptParams) -> PassphraseSeal:
        return cls(params, os.urandom(_SALT_SIZE))

    def check_cost(self, limit: ScryptParams) -> None:
        """UnsealError, before any scrypt runs, if this seal costs more than ``limit`` allows."""
        if not self.params.within(limit):
            raise UnsealError(
                f"unseal refused before running scrypt: this store's scrypt cost ({self.params}) is above "
                f"this keystore's scrypt_limit ({limit}). If the store was made with that cost on purpose, "
                "raise the limit (Keystore(..., scrypt_limit=ScryptParams(...))); otherwise its seal "
                "configuration was altered. The store is unchanged and still sealed"
            )

    def derive_kek(self, passphrase: bytes) -> bytes:
        # Imported here: only passphrase seals run scrypt, and stores sealed with shares never do.
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        kdf = Scrypt(salt=self.salt, length=KEY_SIZE, n=self.params.n, r=self.params.r, p=self.params.p)
        try:
            return kdf.derive(passphrase)
        except MemoryError:
            raise KeystoreError(
                f"scrypt ({self.params}) could not get the memory it needs in this process"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "passphrase",
            "kdf": "scrypt",
            "salt": _json.b64encode(self.salt),
            "n": self.params.n,
            "r": self.params.r,
            "p": self.params.p,
        }


class ShamirSeal(Frozen):
    __slots__ = _fields = ("shares", "threshold", "set_id")
    shares: int
    threshold: int
    # Random per store, carried in every share, so a share of another store is
    # recognised as such instead of producing a wrong key.
    set_id: bytes

    def __init__(self, shares: int, threshold: int, set_id: bytes) -> None:
        set_field(self, "shares", shares)
        set_field(self, "threshold", threshold)
        set_field(self, "set_id", set_id)

    @classmethod
    def new(cls, shares: int, threshold: int) -> ShamirSeal:
        check_share_counts(shares, threshold)
        return cls(shares, threshold, os.urandom(SET_ID_SIZE))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "shamir",
            "shares": self.shares,
            "threshold": self.threshold,
            "set_id": self.set_id.hex(),
        }


AUTO_SEAL_TYPES = ("transit", "pkcs11")
_MAX_WRAPPED = 64 * 1024  # a wrapped 32-byte key is well under a kilobyte in every seal


@runtime_checkable
class KeyWrapper(Protocol):
    """An auto-unseal seal's key, held elsewhere: wraps and unwraps the store's KEK.

    ``seal_type`` is one of :data:`AUTO_SEAL_TYPES`; ``key_id`` names the key
    (no secret in it: it is stored in clear). ``unwrap`` raises
    :class:`~secretumvault.errors.SealUnavailable` when the key cannot be
    reached (retry later) and :class:`~secretumvault.errors.UnsealError` when it
    answers but refuses (wrong key, altered blob).
    """

    @property
    def seal_type(self) -> str: ...

    @property
    def key_id(self) -> str: ...

    def wrap(self, plaintext: bytes, associated_data: bytes) -> bytes: ...

    def unwrap(self, blob: bytes, associated_data: bytes) -> bytes: ...


class AutoSeal(Frozen):
    """An auto-unseal seal: the KEK wrapped by ``seal_type``'s key ``key_id``.

    ``recovery`` is the Shamir configuration of the recovery key and
    ``recovery_check`` an AES-GCM tag under it (nonce || empty ciphertext || tag)
    that tells whether given recovery shares are right; the recovery key itself
    is never stored.
    """

    __slots__ = _fields = ("seal_type", "key_id", "wrapped_kek", "recovery", "recovery_check")
    _secret_fields = ("wrapped_kek", "recovery_check")
    seal_type: str
    key_id: str
    wrapped_kek: bytes
    recovery: ShamirSeal
    recovery_check: bytes

    def __init__(
        self, seal_type: str, key_id: str, wrapped_kek: bytes, recovery: ShamirSeal, recovery_check: bytes
    ) -> None:
        set_field(self, "seal_type", seal_type)
        set_field(self, "key_id", key_id)
        set_field(self, "wrapped_kek", wrapped_kek)
        set_field(self, "recovery", recovery)
        set_field(self, "recovery_check", recovery_check)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.seal_type,
            "key_id": self.key_id,
            "wrapped_kek": _json.b64encode(self.wrapped_kek),
            "recovery": self.recovery.to_dict(),
            "recovery_check": _json.b64encode(self.recovery_check),
        }


SealConfig = PassphraseSeal | ShamirSeal | AutoSeal


def check_share_counts(shares: object, threshold: object) -> None:
    """Vault's rules: 1 <= threshold <= shares <= 255, and threshold > 1 when shares > 1."""
    if not isinstance(shares, int) or isinstance(shares, bool) or not 1 <= shares <= MAX_SHARES:
        raise InvalidArgument(f"shares must be an integer from 1 to {MAX_SHARES}", argument="shares")
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 1 <= threshold <= shares:
        raise InvalidArgument(
            "threshold must be an integer from 1 to the number of shares", argument="threshold"
        )
    if shares > 1 and threshold == 1:
        raise InvalidArgument(
            "threshold must be at least 2 when there is more than one share", argument="threshold"
        )


def seal_from_dict(obj: object) -> SealConfig:
    """Parse a stored seal configuration; raises ``_json.FormatError`` if malformed."""
    if not isinstance(obj, dict):
        raise _json.FormatError("seal configuration is not an object")
    kind = obj.get("type")
    try:
        if kind == "passphrase" and obj.get("kdf") == "scrypt":
            params = ScryptParams(
                n=_json.require(obj, "n", int), r=_json.require(obj, "r", int), p=_json.require(obj, "p", int)
            )
            salt = _json.b64decode(_json.require(obj, "salt", str))
            if len(salt) != _SALT_SIZE:
                raise _json.FormatError("scrypt salt has the wrong length")
            return PassphraseSeal(params, salt)
        if kind == "shamir":
            shares, threshold = _json.require(obj, "shares", int), _json.require(obj, "threshold", int)
            check_share_counts(shares, threshold)
            set_id = bytes.fromhex(_json.require(obj, "set_id", str))
            if len(set_id) != SET_ID_SIZE:
                raise _json.FormatError("share set id has the wrong length")
            return ShamirSeal(shares, threshold, set_id)
        if kind in AUTO_SEAL_TYPES:
            recovery = seal_from_dict(obj.get("recovery"))
            if not isinstance(recovery, ShamirSeal):
                raise _json.FormatError("an auto seal's recovery configuration is not a Shamir one")
            wrapped = _json.b64decode(_json.require(obj, "wrapped_kek", str))
            check = _json.b64decode(_json.require(obj, "recovery_check", str))
            if not 0 < len(wrapped) <= _MAX_WRAPPED or len(check) != 28:
                raise _json.FormatError("an auto seal's wrapped key or recovery check has the wrong length")
            return AutoSeal(str(kind), _json.require(obj, "key_id", str), wrapped, recovery, check)
    except (InvalidArgument, ValueError) as exc:
        raise _json.FormatError(f"seal configuration out of bounds: {exc}") from exc
    raise _json.FormatError(f"unknown seal type {kind!r}")
