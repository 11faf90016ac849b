"""``secretumvault operator rekey``: new unseal material for the store, as Vault's ``operator rekey``;
``secretumvault operator migrate-seal``: move the store to the seal its configuration names.

The current material comes as for every store command (``--passphrase-file``,
``--share-file`` or the environment); the new one is a passphrase file
(``--new-passphrase-file``) or a number of new shares (``--new-shares N
--new-threshold T``). Only the root key is rewrapped; no record is re-encrypted.

New shares are printed, and flushed, before the store switches to them. If
the command is interrupted at any point, the store unseals with the old
material or the new, never neither: before the switch the old material
works and any shares printed are void; after it, the shares are out.

``migrate-seal`` reads the seals of ``-c FILE`` as Vault does: the seal in use, and the store's
current one marked ``disabled = true`` (with ``[[seal]]`` for two). Shamir (no seal in use) to
an auto seal: the unseal shares become its recovery shares; an auto seal to Shamir: the
recovery shares become the unseal shares; between auto seals the recovery shares stay. Run it
with the server stopped (or let the server do it: ``sys/unseal`` with ``migrate=true``).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from secretumvault.cli._io import EXIT_OK, UsageError, settings
from secretumvault.cli.engines import (
    _add,
    _IntermixedParser,
    _opened_keystore,
    _passphrase_from_file,
    _store_parent,
    _unseal_material,
    _unseal_parent,
    check_new_passphrase,
)
from secretumvault.errors import NotInitialized, SecretumVaultError, UnsealError

if TYPE_CHECKING:
    from typing import TypeAlias

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["add_operator_commands"]


def _new_passphrase(path: str) -> bytes:
    passphrase = _passphrase_from_file(path)
    check_new_passphrase(passphrase)  # the same rule as init
    return passphrase


def cmd_operator_rekey(args: argparse.Namespace) -> int:
    if (args.new_shares is None) != (args.new_threshold is None):
        raise UsageError("--new-shares and --new-threshold go together")
    if args.new_passphrase_file is None and args.new_shares is None:
        raise UsageError(
            "give the new unseal material: --new-passphrase-file FILE, or --new-shares N --new-threshold T"
        )
    new_passphrase = None if args.new_passphrase_file is None else _new_passphrase(args.new_passphrase_file)
    # Checked before anything is done: shares that cannot be shown must not take effect.
    if new_passphrase is None and sys.stdout.isatty() and not args.show_shares:
        raise UsageError(
            "refusing to print unseal shares to a terminal; redirect stdout to a file, or add --show-shares"
        )
    current = _unseal_material(args)
    with _opened_keystore(args) as keystore:
        if not keystore.initialized:
            raise NotInitialized("this store is not initialised: run `secretumvault init` first")
        if new_passphrase is not None:
            keystore.complete_rekey(keystore.prepare_rekey(current, passphrase=new_passphrase))
            print(
                "secretumvault: rekeyed; the store now unseals with the new passphrase only", file=sys.stderr
            )
            return EXIT_OK
        pending = keystore.prepare_rekey(current, shares=args.new_shares, threshold=args.new_threshold)
        sys.stdout.write("".join(f"{share}\n" for share in pending.shares))
        sys.stdout.flush()
        try:
            keystore.complete_rekey(pending)
        except SecretumVaultError:
            print(
                "secretumvault: the store was NOT rekeyed: it still unseals with the old material, "
                "and the shares printed above are void",
                file=sys.stderr,
            )
            raise
    print(
        f"secretumvault: rekeyed; WARNING: the {args.new_shares} unseal shares above are shown only now "
        f"and are secrets; any {args.new_threshold} of them unseal the store, and the old material "
        "no longer does. Keep them apart, never beside the store.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_operator_migrate_seal(args: argparse.Namespace) -> int:
    from secretumvault.keystore import migration
    from secretumvault.keystore.seals import configured_seals
    from secretumvault.server.state.shares import vault_key_to_share

    config = settings(args)
    if not config.seal_tables:
        raise UsageError(
            "the configuration (-c FILE) names no seal: give the seal to move to, and the store's "
            "current one marked disabled = true ([[seal]] twice), as Vault's seal migration"
        )
    new, old = configured_seals(config.seal_tables, args.config or "-c")
    material = _unseal_material(args)
    if not isinstance(material, bytes):  # shares as this CLI writes them, or as Vault's hex/base64 keys
        material = tuple(vault_key_to_share(share) for share in material)
    with _opened_keystore(args) as keystore:
        if not keystore.initialized:
            raise NotInitialized("this store is not initialised: run `secretumvault init` first")
        pending_migration = migration.plan(keystore.seal_configuration, new, old)
        if pending_migration is None:
            raise UnsealError(
                "nothing to migrate: the store is already on the seal in use (or on neither "
                "configured seal); the configuration's seal in use is "
                + ("Shamir (none)" if new is None else f"{new.seal_type} key {new.key_id!r}")
            )
        if pending_migration.source == "passphrase" and sys.stdout.isatty() and not args.show_shares:
            raise UsageError(
                "refusing to print recovery shares to a terminal; redirect stdout to a file, or add "
                "--show-shares"
            )
        pending = migration.prepare(
            keystore,
            pending_migration,
            material,
            recovery_shares=args.recovery_shares,
            recovery_threshold=args.recovery_threshold,
        )
        if pending.shares:  # a passphrase store's new recovery shares: out before the switch
            sys.stdout.write("".join(f"{share}\n" for share in pending.shares))
            sys.stdout.flush()
        try:
            keystore.complete_rekey(pending)
        except SecretumVaultError:
            print(
                "secretumvault: the store was NOT migrated: its seal is unchanged"
                + (", and the shares printed above are void" if pending.shares else ""),
                file=sys.stderr,
            )
            raise
    after = {
        "shamir": "the store's unseal shares are now its recovery shares",
        "passphrase": "the recovery shares printed above are shown only now",
    }.get(pending_migration.source, "its recovery shares are unchanged")
    if new is None:
        after = "its recovery shares are now its unseal shares"
    print(f"secretumvault: seal migrated ({pending_migration}); {after}", file=sys.stderr)
    return EXIT_OK


def add_operator_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``operator rekey`` and ``operator migrate-seal`` to the ``secretumvault`` parser."""
    group = subparsers.add_parser("operator", help="store administration: rekey, migrate-seal")
    commands = group.add_subparsers(
        dest="operator_command", required=True, metavar="COMMAND", parser_class=_IntermixedParser
    )
    text = (
        "replace the unseal material: give the current one (--passphrase-file, --share-file or the "
        "environment) and the new one; only the root key is rewrapped, and the old material stops working"
    )
    p = _add(commands, "rekey", _unseal_parent(_store_parent(common_parent)), cmd_operator_rekey, text)
    new = p.add_mutually_exclusive_group()
    new.add_argument("--new-passphrase-file", metavar="FILE", help="file holding the new passphrase")
    new.add_argument("--new-shares", type=int, metavar="N", help="split the new unseal key into N shares")
    p.add_argument("--new-threshold", type=int, metavar="T", help="how many new shares unseal the store")
    p.add_argument("--show-shares", action="store_true", help="print the new shares even to a terminal")

    text = (
        "move the store to the seal of the configuration (-c FILE), the store's current seal marked "
        "disabled = true, as Vault's seal migration; authorise it with the store's unseal shares or "
        "passphrase (--share-file, --passphrase-file or the environment), or with its recovery shares "
        "(--share-file) when it is auto-sealed. Only the root key is rewrapped"
    )
    p = _add(
        commands,
        "migrate-seal",
        _unseal_parent(_store_parent(common_parent)),
        cmd_operator_migrate_seal,
        text,
    )
    p.add_argument(
        "--recovery-shares",
        type=int,
        default=5,
        metavar="N",
        help="from a passphrase: new recovery shares (5)",
    )
    p.add_argument(
        "--recovery-threshold",
        type=int,
        default=3,
        metavar="T",
        help="from a passphrase: how many authorise (3)",
    )
    p.add_argument("--show-shares", action="store_true", help="print new recovery shares even to a terminal")
