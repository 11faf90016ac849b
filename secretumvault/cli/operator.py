"""``secretumvault operator rekey``: new unseal material for the store, as Vault's ``operator rekey``.

The current material comes as for every store command (``--passphrase-file``,
``--share-file`` or the environment); the new one is a passphrase file
(``--new-passphrase-file``) or a number of new shares (``--new-shares N
--new-threshold T``). Only the root key is rewrapped; no record is re-encrypted.

New shares are printed, and flushed, before the store switches to them. If
the command is interrupted at any point, the store unseals with the old
material or the new, never neither: before the switch the old material
works and any shares printed are void; after it, the shares are out.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from secretumvault.cli._io import EXIT_OK, UsageError
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
from secretumvault.errors import NotInitialized, SecretumVaultError

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


def add_operator_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``operator rekey`` to the ``secretumvault`` parser."""
    group = subparsers.add_parser("operator", help="store administration: rekey")
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
