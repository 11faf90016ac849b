"""Store administration: ``init``, ``unseal`` and ``operator rekey``, as Vault's ``operator`` commands.

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
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from secretumvault.cli._io import EXIT_OK, UsageError
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
from secretumvault.errors import InvalidArgument, NotInitialized, SecretumVaultError

if TYPE_CHECKING:
    from typing import TypeAlias

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


def add_operator_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``operator rekey`` to the ``secretumvault`` parser."""
    group = subparsers.add_parser("operator", help="store administration: rekey")
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
