"""Rekey: new unseal material for the same root key, as Vault's ``operator rekey``.

A rekey changes the passphrase, issues new Shamir shares (``t`` and ``n`` may
change) or moves between the two. It checks the current material, wraps the
same root key under a new key-encryption key and replaces the core record in
one atomic write: no record is re-encrypted, and at every moment the store
unseals with either the old material or the new, never neither (nor both).

It runs in two steps so that new shares can be recorded before they take
effect: :meth:`~secretumvault.keystore.Keystore.prepare_rekey` returns a
:class:`PendingRekey` holding them, with the store unchanged;
:meth:`~secretumvault.keystore.Keystore.complete_rekey` makes the switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from secretumvault.errors import ConflictError, InvalidArgument, InvalidType, UnsealError
from secretumvault.keystore import shamir
from secretumvault.keystore._aead import Aead, new_key
from secretumvault.keystore.core import CoreRecord, Unlocked, Wrapped, unlocked_from_root_key, wrap_root_key
from secretumvault.keystore.seal import AutoSeal, PassphraseSeal, ScryptParams, SealConfig, ShamirSeal
from secretumvault.pqc._buffers import as_bytes

__all__ = [
    "PendingRekey",
    "current_kek",
    "new_passphrase_seal",
    "passphrase_bytes",
    "prepare",
    "verify_current",
]


class PendingRekey:
    """New unseal material, made and checked but not yet in effect.

    ``shares`` holds the new shares (empty for a passphrase): secrets, shown
    only here. The object also holds the root key in memory; drop it once
    :meth:`~secretumvault.keystore.Keystore.complete_rekey` has run.
    """

    __slots__ = ("_old_root_key", "_old_seal", "seal", "shares", "unlocked", "wrapped_root_key")

    def __init__(
        self,
        seal: SealConfig,
        wrapped_root_key: Wrapped,
        shares: tuple[str, ...],
        unlocked: Unlocked,
        replaces: CoreRecord,
    ) -> None:
        self.seal = seal
        self.wrapped_root_key = wrapped_root_key
        self.shares = shares
        self.unlocked = unlocked
        self._old_seal = replaces.seal
        self._old_root_key = replaces.root_key

    def __repr__(self) -> str:
        if isinstance(self.seal, ShamirSeal):
            return f"PendingRekey(shares={self.seal.shares}, threshold={self.seal.threshold})"
        if isinstance(self.seal, AutoSeal):
            return f"PendingRekey({self.seal.seal_type}, key_id={self.seal.key_id!r})"
        return "PendingRekey(passphrase)"

    def check_still_current(self, core: CoreRecord) -> None:
        """ConflictError unless ``core`` still has the unseal material this rekey replaces."""
        if core.seal != self._old_seal or core.root_key != self._old_root_key:
            raise ConflictError(
                "the store was rekeyed by someone else since this rekey was prepared; the store is "
                "unchanged by this one. Start again with the unseal material now in effect"
            )


def passphrase_bytes(passphrase: object) -> bytes:
    if isinstance(passphrase, str):
        secret = passphrase.encode("utf-8")
    elif isinstance(passphrase, (bytes, bytearray, memoryview)):
        secret = as_bytes(passphrase, "passphrase")
    else:
        raise InvalidType(f"passphrase must be str or bytes, not {type(passphrase).__name__}")
    if not secret:
        raise InvalidArgument("passphrase must not be empty")
    return secret


def new_passphrase_seal(scrypt: ScryptParams | None, limit: ScryptParams) -> PassphraseSeal:
    """A passphrase seal with ``scrypt`` (default cost), which must be within ``limit``."""
    params = ScryptParams() if scrypt is None else scrypt
    if not isinstance(params, ScryptParams):
        raise InvalidType(f"scrypt must be a ScryptParams, not {type(params).__name__}")
    if not params.within(limit):
        raise InvalidArgument(
            f"scrypt cost {params} is above this keystore's scrypt_limit ({limit}); a store this "
            "keystore could not unseal is not made. Raise scrypt_limit first"
        )
    return PassphraseSeal.new(params)


def verify_current(core: CoreRecord, current: object, limit: ScryptParams) -> bytes:
    """The root key, unwrapped with the ``current`` material; UnsealError if it is wrong."""
    seal = core.seal
    if isinstance(seal, AutoSeal):
        raise UnsealError(
            f"this store is auto-sealed ({seal.seal_type}): it has no unseal material to rekey; "
            "migrate it with prepare_seal_migration()",
            seal="auto",
        )
    if isinstance(seal, PassphraseSeal):
        if not isinstance(current, (str, bytes, bytearray, memoryview)):
            raise UnsealError(
                "this store is sealed with a passphrase: give it as the current material", seal="passphrase"
            )
        secret = passphrase_bytes(current)
        seal.check_cost(limit)
        return core.unwrap_root_key(seal.derive_kek(secret))
    if isinstance(current, (str, bytes, bytearray, memoryview)) or not isinstance(current, Sequence):
        raise UnsealError(
            "this store is sealed with Shamir shares: give a list of current shares", seal="shares"
        )
    return core.unwrap_root_key(shamir.combine(_current_shares(seal, current)))


def current_kek(seal: ShamirSeal, current: Sequence[str] | str | bytes) -> bytes:
    """The KEK rebuilt from ``current`` shares (already checked by :func:`verify_current`)."""
    if isinstance(current, (str, bytes)):
        raise UnsealError(
            "this store is sealed with Shamir shares: give a list of current shares", seal="shares"
        )
    return shamir.combine(_current_shares(seal, current))


def _current_shares(seal: ShamirSeal, given: Sequence[object]) -> list[shamir.Share]:
    return shamir.quorum(
        given,
        seal,
        "current",
        foreign="a share given belongs to another store (or to its shares before a rekey)",
        needed_for=" to rekey",
    )


def prepare(
    core: CoreRecord,
    root_key: bytes,
    passphrase: str | bytes | None,
    shares: int | None,
    threshold: int | None,
    scrypt: ScryptParams | None,
    limit: ScryptParams,
) -> PendingRekey:
    """The new seal and the root key wrapped for it; nothing is written."""
    seal: SealConfig
    new_shares: tuple[str, ...] = ()
    if passphrase is not None:
        if shares is not None or threshold is not None:
            raise InvalidArgument("give the new passphrase or new shares/threshold, not both")
        secret = passphrase_bytes(passphrase)
        seal = new_passphrase_seal(scrypt, limit)
        kek = seal.derive_kek(secret)
    elif shares is not None or threshold is not None:
        if scrypt is not None:
            raise InvalidArgument("scrypt= applies to a new passphrase, not to shares")
        seal = ShamirSeal.new(cast(int, shares), cast(int, threshold))  # None is refused inside
        kek = new_key()
        new_shares = tuple(shamir.split(kek, seal))
    else:
        raise InvalidArgument("give the new unseal material: passphrase=..., or shares=N and threshold=T")
    unlocked = unlocked_from_root_key(root_key, core.open_keyring(Aead(root_key)))
    return PendingRekey(seal, wrap_root_key(kek, root_key, seal), new_shares, unlocked, core)
