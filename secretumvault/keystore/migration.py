"""Seal migration as a configuration asks for it: Vault's way, with the store's old seal marked
``disabled = true`` beside the new one (or no seal at all, for Shamir).

:func:`plan` compares the store's seal (stored in clear) with the configured seals and says
whether a migration is pending and in which direction; :func:`prepare` checks the material the
operator gives (the store's unseal shares or passphrase, or its recovery shares when it is
auto-sealed) and wraps the root key for the new seal, as
:meth:`~secretumvault.keystore.Keystore.prepare_seal_migration` does. Nothing is written until
:meth:`~secretumvault.keystore.Keystore.complete_rekey`, one compare-and-set of the core record,
so a process killed at any step leaves a store that exactly one of the two seals opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from secretumvault._frozen import Frozen, set_field
from secretumvault.errors import UnsealError
from secretumvault.keystore.seal import AutoSeal, KeyWrapper, SealConfig, ShamirSeal

if TYPE_CHECKING:
    from secretumvault.keystore.rekey import PendingRekey
    from secretumvault.keystore.store import Keystore

__all__ = ["SealMigration", "plan", "prepare"]


class SealMigration(Frozen):
    """A pending migration: from the store's seal (``source``: "shamir", "passphrase", or the
    auto seal's type) to ``new`` (None: Shamir, the recovery shares becoming unseal shares).
    ``old`` is the configured (disabled) seal that opens the store now, None if it is not auto."""

    __slots__ = _fields = ("source", "old", "new", "threshold")
    source: str
    old: KeyWrapper | None
    new: KeyWrapper | None
    #: How many shares (unseal or recovery) authorise it; 1 for a passphrase.
    threshold: int

    def __init__(self, source: str, old: KeyWrapper | None, new: KeyWrapper | None, threshold: int) -> None:
        set_field(self, "source", source)
        set_field(self, "old", old)
        set_field(self, "new", new)
        set_field(self, "threshold", threshold)

    @property
    def target(self) -> str:
        return "shamir" if self.new is None else self.new.seal_type

    @property
    def material(self) -> str:
        """What the operator gives to authorise it."""
        if self.source == "passphrase":
            return "the store's passphrase"
        return "the store's recovery keys" if self.old is not None else "the store's unseal keys"

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


def _same(seal: AutoSeal, wrapper: KeyWrapper | None) -> bool:
    return wrapper is not None and (wrapper.seal_type, wrapper.key_id) == (seal.seal_type, seal.key_id)


def plan(seal: SealConfig, new: KeyWrapper | None, old: KeyWrapper | None) -> SealMigration | None:
    """The migration the configured seals ask of a store sealed with ``seal``; None if none.

    ``new`` is the seal in use (None: Shamir), ``old`` the one marked ``disabled = true``.
    A store already on ``new`` needs nothing (the disabled seal is then a leftover); an
    auto-sealed store on neither seal is not a migration (unsealing says which key it needs).
    """
    if isinstance(seal, AutoSeal):
        if _same(seal, new) or not _same(seal, old):
            return None
        return SealMigration(seal.seal_type, old, new, seal.recovery.threshold)
    if new is None:
        return None
    if isinstance(seal, ShamirSeal):
        return SealMigration("shamir", None, new, seal.threshold)
    return SealMigration("passphrase", None, new, 1)


def prepare(
    keystore: Keystore,
    migration: SealMigration,
    material: str | bytes | Sequence[str],
    *,
    recovery_shares: int = 1,
    recovery_threshold: int = 1,
) -> PendingRekey:
    """Check ``material`` (see :attr:`SealMigration.material`) and wrap the root key for the new
    seal; the store is unchanged until ``keystore.complete_rekey``. ``recovery_shares`` and
    ``recovery_threshold`` apply only to a passphrase store (it has no shares to carry over)."""
    current = keystore.seal_configuration
    if plan(current, migration.new, migration.old) != migration:
        raise UnsealError(
            f"the store's seal changed since this migration ({migration}) was planned; nothing was changed"
        )
    if migration.old is not None:
        if isinstance(material, (str, bytes)):
            raise UnsealError("give the store's recovery shares as a list")
        return keystore.prepare_seal_migration(
            old_wrapper=migration.old, new_wrapper=migration.new, recovery=material
        )
    return keystore.prepare_seal_migration(
        current=material,
        new_wrapper=migration.new,
        recovery_shares=recovery_shares,
        recovery_threshold=recovery_threshold,
    )
