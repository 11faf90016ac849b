"""Store administration: ``init``, ``unseal``, ``operator rekey`` and ``operator migrate-seal``, as
Vault's ``operator`` commands.

``init`` creates the store and its unseal material (a passphrase, or shares
printed once); ``unseal`` checks that the material given opens it.

``operator rekey`` gives the store new unseal material. The current material
comes as for every store command (``--passphrase-file``, ``--share-file`` or
the environment); the new one is a passphrase file (``--new-passphrase-file``)
or a number of new shares (``--new-shares N --new-threshold T``). Only the
root key is rewrapped; no record is re-encrypted.

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
import os
import sys
from typing import TYPE_CHECKING

from secretumvault.cli._io import EXIT_OK, UsageError, settings
from secretumvault.cli._messages import plural
from secretumvault.cli._store import (
    PASSPHRASE_ENV,
    IntermixedParser,
    add_command,
    opened_keystore,
    passphrase_from_file,
    store_parent,
    unseal_material,
    unseal_parent,
    unsealed_keystore,
)
from secretumvault.errors import InvalidArgument, NotInitialized, SecretumVaultError, UnsealError

if TYPE_CHECKING:
    from typing import TypeAlias

    from secretumvault.keystore import Keystore
    from secretumvault.keystore.rekey import PendingRekey

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["MIN_PASSPHRASE_LENGTH", "add_operator_commands", "add_store_commands", "check_new_passphrase"]

#: Shorter passphrases are refused when a store is initialised: the store file lets anyone who
#: copies it guess the passphrase offline, as fast as scrypt allows.
MIN_PASSPHRASE_LENGTH = 8


# -- init and unseal ---------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    if args.shares is None:
        if args.threshold is not None or args.show_shares:
            raise UsageError("--threshold and --show-shares go with --shares N")
        return _init_with_passphrase(args)
    if args.threshold is None:
        raise UsageError("--shares N needs --threshold T: how many of the shares unseal the store")
    return _init_with_shares(args, args.shares, args.threshold)


def _init_with_passphrase(args: argparse.Namespace) -> int:
    if args.passphrase_file is not None:
        passphrase = passphrase_from_file(args.passphrase_file)
    elif os.environ.get(PASSPHRASE_ENV):
        passphrase = os.fsencode(os.environ[PASSPHRASE_ENV])
    else:
        raise UsageError(
            f"choose how the store is unsealed: --shares N --threshold T, or a passphrase "
            f"with --passphrase-file FILE or {PASSPHRASE_ENV}"
        )
    check_new_passphrase(passphrase)
    with opened_keystore(args, create=True) as keystore:
        keystore.initialize_with_passphrase(passphrase)
    print("secretumvault: store initialised; it unseals with this passphrase only", file=sys.stderr)
    return EXIT_OK


def check_new_passphrase(passphrase: bytes) -> None:
    """Refuse a passphrase too short to protect a store, saying why."""
    length = len(passphrase.decode("utf-8", "surrogateescape"))
    if length < MIN_PASSPHRASE_LENGTH:
        raise UsageError(
            f"the passphrase has {plural(length, 'character')}; use at least {MIN_PASSPHRASE_LENGTH}: "
            "anyone with a copy of the store can try short passphrases offline"
        )


def _init_with_shares(args: argparse.Namespace, shares: int, threshold: int) -> int:
    _check_share_counts(shares, threshold, "--shares", "--threshold")
    # Checked before initialising: shares that cannot be shown would leave a store nobody can unseal.
    if sys.stdout.isatty() and not args.show_shares:
        raise UsageError(
            "refusing to print unseal shares to a terminal; redirect stdout to a file, or add --show-shares"
        )
    with opened_keystore(args, create=True) as keystore:
        created = keystore.initialize_with_shares(shares=shares, threshold=threshold)
    print(
        f"secretumvault: WARNING: these {shares} unseal shares are shown only now and are secrets; "
        f"any {threshold} of them unseal the store. Keep them apart, never beside the store.",
        file=sys.stderr,
    )
    sys.stdout.write("".join(f"{share}\n" for share in created))
    sys.stdout.flush()
    return EXIT_OK


def _check_share_counts(shares: int, threshold: int, shares_flag: str, threshold_flag: str) -> None:
    """The library's rule for share counts, reported against the flags that gave them."""
    from secretumvault.keystore.seal import check_share_counts

    try:
        check_share_counts(shares, threshold)
    except InvalidArgument as exc:
        flags = {"shares": (shares_flag, shares), "threshold": (threshold_flag, threshold)}
        if exc.argument not in flags:
            raise
        flag, value = flags[exc.argument]
        raise UsageError(f"{flag} {value}: {exc}") from None


def cmd_unseal(args: argparse.Namespace) -> int:
    with unsealed_keystore(args):
        pass
    print("unsealed")
    return EXIT_OK


def add_store_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``init`` and ``unseal`` to the ``secretumvault`` parser."""
    store = store_parent(common_parent)
    unseal = unseal_parent(store)
    p = add_command(subparsers, "init", store, cmd_init, "initialise a new store (once)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--shares", type=int, metavar="N", help="split the unseal key into N shares")
    how.add_argument(
        "--passphrase-file", metavar="FILE", help=f"unseal with this passphrase (or ${PASSPHRASE_ENV})"
    )
    p.add_argument("--threshold", type=int, metavar="T", help="how many shares unseal the store")
    p.add_argument("--show-shares", action="store_true", help="print the shares even to a terminal")
    add_command(subparsers, "unseal", unseal, cmd_unseal, "check that the unseal material opens the store")


# -- operator rekey ------------------------------------------------------------------------


def _new_passphrase(path: str) -> bytes:
    passphrase = passphrase_from_file(path)
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
    if args.new_shares is not None:  # before the current material is even read, as for init
        _check_share_counts(args.new_shares, args.new_threshold, "--new-shares", "--new-threshold")
    current = unseal_material(args)
    with opened_keystore(args) as keystore:
        if not keystore.initialized:
            raise NotInitialized("this store is not initialised: run `secretumvault init` first")
        if new_passphrase is not None:
            keystore.complete_rekey(keystore.prepare_rekey(current, passphrase=new_passphrase))
            print(
                "secretumvault: rekeyed; the store now unseals with the new passphrase only", file=sys.stderr
            )
            return EXIT_OK
        pending = keystore.prepare_rekey(current, shares=args.new_shares, threshold=args.new_threshold)
        _print_shares_then_switch(keystore, pending, "rekeyed: it still unseals with the old material")
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
    material = unseal_material(args)
    if not isinstance(material, bytes):  # shares as this CLI writes them, or as Vault's hex/base64 keys
        material = tuple(vault_key_to_share(share) for share in material)
    with opened_keystore(args) as keystore:
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
        # A passphrase store's new recovery shares, if any, are printed before the switch.
        _print_shares_then_switch(keystore, pending, "migrated: its seal is unchanged")
    after = {
        "shamir": "the store's unseal shares are now its recovery shares",
        "passphrase": "the recovery shares printed above are shown only now",
    }.get(pending_migration.source, "its recovery shares are unchanged")
    if new is None:
        after = "its recovery shares are now its unseal shares"
    print(f"secretumvault: seal migrated ({pending_migration}); {after}", file=sys.stderr)
    return EXIT_OK


def _print_shares_then_switch(keystore: Keystore, pending: PendingRekey, not_done: str) -> None:
    """Print the new shares (flushed) before the store switches to them, so that a switch is never
    made with shares nobody saw; if the switch fails, say so: the store was NOT ``not_done``."""
    if pending.shares:
        sys.stdout.write("".join(f"{share}\n" for share in pending.shares))
        sys.stdout.flush()
    try:
        keystore.complete_rekey(pending)
    except SecretumVaultError:
        void = ", and the shares printed above are void" if pending.shares else ""
        print(f"secretumvault: the store was NOT {not_done}{void}", file=sys.stderr)
        raise


def add_operator_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``operator rekey`` and ``operator migrate-seal`` to the ``secretumvault`` parser."""
    group = subparsers.add_parser("operator", help="store administration: rekey, migrate-seal")
    commands = group.add_subparsers(
        dest="operator_command", required=True, metavar="COMMAND", parser_class=IntermixedParser
    )
    text = (
        "replace the unseal material: give the current one (--passphrase-file, --share-file or the "
        "environment) and the new one; only the root key is rewrapped, and the old material stops working"
    )
    p = add_command(commands, "rekey", unseal_parent(store_parent(common_parent)), cmd_operator_rekey, text)
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
    p = add_command(
        commands,
        "migrate-seal",
        unseal_parent(store_parent(common_parent)),
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
