"""``secretumvault transit ...``: named, versioned keys in the store, as Vault's transit engine."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from secretumvault.cli._io import EXIT_FAILURE, EXIT_OK, UsageError, read_input, refuse_foreign, write_output
from secretumvault.cli._messages import format_duration
from secretumvault.cli._store import (
    IntermixedParser,
    add_command,
    store_parent,
    unseal_parent,
    unsealed_keystore,
)
from secretumvault.errors import InvalidArgument, InvalidCiphertext, InvalidSignature, PolicyViolation

if TYPE_CHECKING:
    from typing import TypeAlias

    from secretumvault.transit import KeyInfo, Transit

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["add_transit_commands"]


def _with_transit(
    handler: Callable[[argparse.Namespace, Transit], int],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from secretumvault.transit import Transit

        with unsealed_keystore(args) as keystore:
            return handler(args, Transit(keystore, backend=args.backend))

    return run


def _arg_bytes(text: str | None) -> bytes | None:
    """A command-line text as the bytes the user typed (os.fsencode undoes surrogateescape)."""
    return None if text is None else os.fsencode(text)


def _read_vault_string(path: str, what: str) -> str:
    """A ``vault:v<N>:<base64>`` string from a file or stdin, surrounding whitespace removed."""
    data = read_input(path, what)
    if not data.lstrip().startswith(b"vault:"):
        refuse_foreign(data, path, f"a vault:v<N>: {what}")
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InvalidCiphertext(f"the {what} in {path!r} is not a vault:v<N>:<base64> string") from None


def _key_info_json(info: KeyInfo) -> str:
    import base64
    import dataclasses
    import datetime
    import json

    def encode(value: object) -> str:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, datetime.datetime):
            return value.isoformat()
        if isinstance(value, datetime.timedelta):
            return format_duration(value.total_seconds())  # as the user writes it: 720h
        raise TypeError(f"cannot show a {type(value).__name__} as JSON")

    return json.dumps(dataclasses.asdict(info), indent=2, default=encode)


@_with_transit
def cmd_transit_create(args: argparse.Namespace, transit: Transit) -> int:
    print(_key_info_json(transit.create_key(args.name, type=args.type.lower())))
    return EXIT_OK


@_with_transit
def cmd_transit_list(args: argparse.Namespace, transit: Transit) -> int:
    for name in transit.list_keys():
        print(name)
    return EXIT_OK


@_with_transit
def cmd_transit_read(args: argparse.Namespace, transit: Transit) -> int:
    print(_key_info_json(transit.read_key(args.name)))
    return EXIT_OK


@_with_transit
def cmd_transit_rotate(args: argparse.Namespace, transit: Transit) -> int:
    print(_key_info_json(transit.rotate_key(args.name)))
    return EXIT_OK


@_with_transit
def cmd_transit_config(args: argparse.Namespace, transit: Transit) -> int:
    deletion_allowed: bool | None = args.deletion_allowed
    min_decryption: int | None = args.min_decryption_version
    min_encryption: int | None = args.min_encryption_version
    if deletion_allowed is None and min_decryption is None and min_encryption is None:
        raise UsageError("nothing to change: give --deletion-allowed or a --min-...-version")
    try:
        info = transit.update_key_config(
            args.name,
            deletion_allowed=deletion_allowed,
            min_decryption_version=min_decryption,
            min_encryption_version=min_encryption,
        )
    except InvalidArgument as exc:
        given = {
            "min_decryption_version": ("--min-decryption-version", min_decryption),
            "min_encryption_version": ("--min-encryption-version", min_encryption),
        }
        flag, value = given.get(exc.argument or "", ("", None))
        if value is None:
            raise
        raise UsageError(f"{flag} {value}: {exc}") from None
    print(_key_info_json(info))
    return EXIT_OK


@_with_transit
def cmd_transit_delete(args: argparse.Namespace, transit: Transit) -> int:
    try:
        transit.delete_key(args.name)
    except PolicyViolation as exc:
        if exc.argument != "deletion_allowed":
            raise
        raise PolicyViolation(
            f"transit key {args.name!r} does not allow deletion; run "
            f"`secretumvault transit config {args.name} --deletion-allowed` first"
        ) from None
    print(f"secretumvault: deleted transit key {args.name!r} and every version", file=sys.stderr)
    return EXIT_OK


@_with_transit
def cmd_transit_encrypt(args: argparse.Namespace, transit: Transit) -> int:
    plaintext = read_input(args.input, "plaintext")
    print(transit.encrypt(args.name, plaintext, _arg_bytes(args.associated_data)))
    return EXIT_OK


@_with_transit
def cmd_transit_decrypt(args: argparse.Namespace, transit: Transit) -> int:
    ciphertext = _read_vault_string(args.input, "ciphertext")
    plaintext = transit.decrypt(args.name, ciphertext, _arg_bytes(args.associated_data))
    write_output(args.out, plaintext, "plaintext", option="--out", secret=True)
    return EXIT_OK


@_with_transit
def cmd_transit_rewrap(args: argparse.Namespace, transit: Transit) -> int:
    ciphertext = _read_vault_string(args.input, "ciphertext")
    print(transit.rewrap(args.name, ciphertext, _arg_bytes(args.associated_data)))
    return EXIT_OK


@_with_transit
def cmd_transit_sign(args: argparse.Namespace, transit: Transit) -> int:
    message = read_input(args.input, "input")
    print(transit.sign(args.name, message, os.fsencode(args.context)))
    return EXIT_OK


@_with_transit
def cmd_transit_verify(args: argparse.Namespace, transit: Transit) -> int:
    given: str = args.signature
    signature = given if given.startswith("vault:") else _read_vault_string(given, "signature")
    message = read_input(args.input, "input")
    try:
        transit.verify(args.name, message, signature, os.fsencode(args.context))
    except InvalidSignature:
        print(f"secretumvault: signature does NOT verify under transit key {args.name!r}", file=sys.stderr)
        return EXIT_FAILURE
    print("signature OK", file=sys.stderr)
    return EXIT_OK


def add_transit_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``transit ...`` to the ``secretumvault`` parser."""
    unseal = unseal_parent(store_parent(common_parent))
    group = subparsers.add_parser("transit", help="named, versioned keys: encrypt, decrypt, sign, verify")
    commands = group.add_subparsers(
        dest="transit_command", required=True, metavar="COMMAND", parser_class=IntermixedParser
    )

    p = add_command(commands, "create", unseal, cmd_transit_create, "create a key at version 1")
    p.add_argument("name")
    p.add_argument("--type", default="aes256-gcm96", help="key type, e.g. ml-kem-768, ml-dsa-65, hmac")
    add_command(commands, "list", unseal, cmd_transit_list, "list key names")
    for name, func, text in (
        ("read", cmd_transit_read, "key metadata and public keys as JSON"),
        ("rotate", cmd_transit_rotate, "add a new key version"),
        ("delete", cmd_transit_delete, "delete a key and every version (needs --deletion-allowed)"),
    ):
        add_command(commands, name, unseal, func, text).add_argument("name")

    p = add_command(commands, "config", unseal, cmd_transit_config, "change a key's policy")
    p.add_argument("name")
    p.add_argument("--deletion-allowed", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--min-decryption-version", type=int, metavar="N")
    p.add_argument("--min-encryption-version", type=int, metavar="N", help="0: the latest")

    for name, func, text, what in (
        ("encrypt", cmd_transit_encrypt, "print a vault:v<N>: ciphertext", "plaintext file"),
        ("decrypt", cmd_transit_decrypt, "recover the plaintext", "ciphertext file"),
        ("rewrap", cmd_transit_rewrap, "re-encrypt under the latest version", "ciphertext file"),
    ):
        p = add_command(commands, name, unseal, func, text)
        p.add_argument("name")
        p.add_argument("input", nargs="?", default="-", help=f"{what} (default: stdin)")
        p.add_argument("--associated-data", metavar="TEXT", help="bound to the ciphertext; give it again")
        if name == "decrypt":
            p.add_argument("--out", default="-", help="plaintext output (default: stdout, never a terminal)")

    p = add_command(commands, "sign", unseal, cmd_transit_sign, "print a vault:v<N>: signature")
    p.add_argument("name")
    p.add_argument("input", nargs="?", default="-", help="message file (default: stdin)")
    p.add_argument("--context", default="", help="FIPS 204 context string (ML-DSA keys)")
    p = add_command(
        commands, "verify", unseal, cmd_transit_verify, "verify a signature; exit 1 if it does not"
    )
    p.add_argument("name")
    p.add_argument("input", nargs="?", default="-", help="message file (default: stdin)")
    p.add_argument("--signature", required=True, help="a vault:v<N>: string, or a file holding one")
    p.add_argument("--context", default="", help="the context string used when signing")
