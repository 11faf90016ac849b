"""Store-backed commands of ``secretumvault``: ``init``, ``unseal``, ``transit ...`` and ``pki ...``.

There is no server: each command opens the local store (``[storage]`` in the
configuration, or the SQLite file named by ``--store``), unseals it for this
process only, does one thing and exits; the keys are forgotten with the
process. Unseal material is read from ``--passphrase-file``/``--share-file``
or from ``SECRETUMVAULT_PASSPHRASE``/``SECRETUMVAULT_SHARES``, never from a
plain command-line value, which any user could read in ``ps``.

The engines (keystore, transit, pki) are imported inside the commands, so
building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from secretumvault.cli._io import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    check_output,
    read_input,
    refuse_foreign,
    settings,
    write_output,
)
from secretumvault.cli._messages import format_duration, plural
from secretumvault.errors import (
    InvalidCiphertext,
    InvalidSignature,
    KeyNotFound,
    NotInitialized,
    PolicyViolation,
    UnsealError,
)

TYPE_CHECKING = False  # typing costs milliseconds to import; `transit --help` need not pay them
if TYPE_CHECKING:
    import datetime
    from typing import Any, TypeAlias, TypeVar

    from secretumvault.keystore import Keystore, Storage
    from secretumvault.pki import PkiEngine
    from secretumvault.transit import KeyInfo, Transit

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    _Parser = TypeVar("_Parser", bound=argparse.ArgumentParser)

__all__ = [
    "MIN_PASSPHRASE_LENGTH",
    "PASSPHRASE_ENV",
    "SHARES_ENV",
    "add_engine_commands",
    "add_pki_commands",
    "add_store_commands",
    "add_transit_commands",
    "check_new_passphrase",
    "parse_ttl",
]

PASSPHRASE_ENV = "SECRETUMVAULT_PASSPHRASE"  # noqa: S105 - the variable's name, not a passphrase
SHARES_ENV = "SECRETUMVAULT_SHARES"
#: Shorter passphrases are refused when a store is initialised: the store file lets anyone who
#: copies it guess the passphrase offline, as fast as scrypt allows.
MIN_PASSPHRASE_LENGTH = 8

_NO_MATERIAL = (
    "the store is sealed and no unseal material was given: use --passphrase-file FILE or "
    f"--share-file FILE, or set {PASSPHRASE_ENV} or {SHARES_ENV}"
)
# Patterns, compiled (and cached by re) on first use rather than at every start of the command.
_SHARE_SEPARATORS = r"[,\s]+"
_TTL = r"(?:[0-9]{1,10}[smhd])+"
_TTL_PART = r"([0-9]{1,10})([smhd])"
_TTL_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_LAST_YEAR = 9999

#: What a store-using command gets: a passphrase (bytes) or the shares given.
UnsealMaterial = bytes | tuple[str, ...]


# -- small parsers -------------------------------------------------------------------


def parse_ttl(text: str, option: str) -> datetime.timedelta:
    """``"3600s"``, ``"90m"``, ``"24h"``, ``"30d"`` or a sum such as ``"1h30m"``; UsageError otherwise."""
    import datetime

    if not re.fullmatch(_TTL, text):
        raise UsageError(f"{option} {text!r} is not a duration; write it like 3600s, 90m, 24h or 30d")
    seconds = sum(int(count) * _TTL_UNIT_SECONDS[unit] for count, unit in re.findall(_TTL_PART, text))
    if seconds < 1:
        raise UsageError(f"{option} must be at least one second")
    try:
        ttl = datetime.timedelta(seconds=seconds)
        # Certificates and records carry an end date: it must be a date (X.509 stops at year 9999).
        if (datetime.datetime.now(datetime.UTC) + ttl).year > _LAST_YEAR:
            raise OverflowError
    except OverflowError:
        raise UsageError(
            f"{option} {text!r} ends after the year {_LAST_YEAR}, the last date a certificate can carry"
        ) from None
    return ttl


def _optional_ttl(text: str | None, option: str) -> datetime.timedelta | None:
    return None if text is None else parse_ttl(text, option)


def _names(text: str, option: str) -> tuple[str, ...]:
    """``"a.com,b.com"`` -> ``("a.com", "b.com")``; an empty item is a mistake."""
    items = tuple(item.strip() for item in text.split(","))
    if not all(items):
        raise UsageError(f"{option} takes names separated by commas, with none empty: {text!r}")
    return items


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


# -- unseal material ------------------------------------------------------------------


def _read_secret_file(path: str, what: str) -> bytes:
    if path == "-":
        raise UsageError(f"the {what} must be a file, not stdin (stdin may carry the command's input)")
    return read_input(path, what)


def _passphrase_from_file(path: str) -> bytes:
    """The file's bytes without one trailing line ending, as ``echo`` or an editor leaves it."""
    data = _read_secret_file(path, "passphrase file")
    for ending in (b"\r\n", b"\n"):
        if data.endswith(ending):
            return data[: -len(ending)]
    return data


def _split_shares(text: str, source: str) -> tuple[str, ...]:
    shares = tuple(share for share in re.split(_SHARE_SEPARATORS, text) if share)
    if not shares:
        raise UnsealError(f"{source} holds no unseal shares")
    return shares


def _shares_from_file(path: str) -> tuple[str, ...]:
    try:
        text = _read_secret_file(path, "share file").decode("ascii")
    except UnicodeDecodeError:
        raise UnsealError(f"share file {path!r} is not unseal shares (they are ASCII text)") from None
    return _split_shares(text, f"share file {path!r}")


def _unseal_material(args: argparse.Namespace) -> UnsealMaterial:
    """From --passphrase-file or --share-file (exclusive), else from the environment."""
    if args.passphrase_file is not None:
        return _passphrase_from_file(args.passphrase_file)
    if args.share_file is not None:
        return _shares_from_file(args.share_file)
    passphrase, shares = os.environ.get(PASSPHRASE_ENV), os.environ.get(SHARES_ENV)
    if passphrase and shares:
        raise UsageError(f"both {PASSPHRASE_ENV} and {SHARES_ENV} are set; unset the one this store lacks")
    if passphrase:
        return os.fsencode(passphrase)
    if shares:
        return _split_shares(shares, SHARES_ENV)
    raise UnsealError(_NO_MATERIAL)


def _unseal(keystore: Keystore, material: UnsealMaterial) -> None:
    """Unseal with a passphrase, or with shares until the threshold is reached."""
    if isinstance(material, bytes):
        keystore.unseal(material)
        return
    provided, threshold = 0, 0
    for share in material:
        progress = keystore.unseal_share(share)
        if not progress.sealed:
            return
        provided, threshold = progress.provided, progress.threshold
    raise UnsealError(
        f"only {plural(provided, 'distinct unseal share')} {'was' if provided == 1 else 'were'} given "
        f"and this store needs {threshold}; give more"
    )


# -- opening the store ------------------------------------------------------------------


def _open_storage(args: argparse.Namespace, *, create: bool) -> Storage:
    """The configured storage, or the SQLite file of --store. Only ``init`` may create a file."""
    from secretumvault.keystore import open_storage

    config = settings(args)
    if args.store is None and config.storage.backend == "postgresql":
        return open_storage("postgresql", dsn=config.storage.dsn)
    path = args.store if args.store is not None else config.storage.path
    if not path:
        raise UsageError("--store needs a file name")
    if not create and not os.path.exists(path):
        raise NotInitialized(f"no store at {path!r}: run `secretumvault init` first, or name it with --store")
    return open_storage("sqlite", path=path)


@contextmanager
def _opened_keystore(args: argparse.Namespace, *, create: bool = False) -> Iterator[Keystore]:
    from secretumvault.keystore import Keystore

    storage = _open_storage(args, create=create)
    try:
        yield Keystore(storage)
    finally:
        storage.close()


@contextmanager
def _unsealed_keystore(args: argparse.Namespace) -> Iterator[Keystore]:
    """The store, unsealed for this process only.

    A missing store is reported as missing and an uninitialised one as such,
    before any question of unseal material.
    """
    with _opened_keystore(args) as keystore:
        if not keystore.initialized:
            raise NotInitialized("this store is not initialised: run `secretumvault init` first")
        _unseal(keystore, _unseal_material(args))
        try:
            yield keystore
        finally:
            keystore.seal()


def _with_transit(
    handler: Callable[[argparse.Namespace, Transit], int],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from secretumvault.transit import Transit

        with _unsealed_keystore(args) as keystore:
            return handler(args, Transit(keystore, backend=args.backend))

    return run


def _with_pki(
    handler: Callable[[argparse.Namespace, PkiEngine], int],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from secretumvault.pki import PkiEngine

        with _unsealed_keystore(args) as keystore:
            return handler(args, PkiEngine(keystore, backend=args.backend))

    return run


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
        passphrase = _passphrase_from_file(args.passphrase_file)
    elif os.environ.get(PASSPHRASE_ENV):
        passphrase = os.fsencode(os.environ[PASSPHRASE_ENV])
    else:
        raise UsageError(
            f"choose how the store is unsealed: --shares N --threshold T, or a passphrase "
            f"with --passphrase-file FILE or {PASSPHRASE_ENV}"
        )
    check_new_passphrase(passphrase)
    with _opened_keystore(args, create=True) as keystore:
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
    from secretumvault.keystore.seal import check_share_counts

    check_share_counts(shares, threshold)
    # Checked before initialising: shares that cannot be shown would leave a store nobody can unseal.
    if sys.stdout.isatty() and not args.show_shares:
        raise UsageError(
            "refusing to print unseal shares to a terminal; redirect stdout to a file, or add --show-shares"
        )
    with _opened_keystore(args, create=True) as keystore:
        created = keystore.initialize_with_shares(shares=shares, threshold=threshold)
    print(
        f"secretumvault: WARNING: these {shares} unseal shares are shown only now and are secrets; "
        f"any {threshold} of them unseal the store. Keep them apart, never beside the store.",
        file=sys.stderr,
    )
    sys.stdout.write("".join(f"{share}\n" for share in created))
    sys.stdout.flush()
    return EXIT_OK


def cmd_unseal(args: argparse.Namespace) -> int:
    with _unsealed_keystore(args):
        pass
    print("unsealed")
    return EXIT_OK


# -- transit --------------------------------------------------------------------------------


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
    info = transit.update_key_config(
        args.name,
        deletion_allowed=deletion_allowed,
        min_decryption_version=min_decryption,
        min_encryption_version=min_encryption,
    )
    print(_key_info_json(info))
    return EXIT_OK


@_with_transit
def cmd_transit_delete(args: argparse.Namespace, transit: Transit) -> int:
    try:
        transit.delete_key(args.name)
    except PolicyViolation:
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


# -- pki -----------------------------------------------------------------------------------------


def _pki_key_type(name: str) -> str:
    """The PKI key type as the library spells it (``ml-dsa-65`` -> ``ML-DSA-65``); unknown names pass."""
    from secretumvault.pki.sig_algorithms import KEY_TYPES

    return {known.casefold(): known for known in KEY_TYPES}.get(name.casefold(), name)


@_with_pki
def cmd_pki_root(args: argparse.Namespace, pki: PkiEngine) -> int:
    ttl = parse_ttl(args.ttl, "--ttl")
    key_type = _pki_key_type(args.key_type)
    sys.stdout.write(pki.create_root(args.name, common_name=args.common_name, key_type=key_type, ttl=ttl))
    return EXIT_OK


@_with_pki
def cmd_pki_role(args: argparse.Namespace, pki: PkiEngine) -> int:
    from secretumvault.pki import Role

    role = Role(
        issuer=args.issuer,
        allowed_domains=_names(args.allowed_domains, "--allowed-domains"),
        allow_bare_domains=args.allow_bare_domains,
        allow_subdomains=args.allow_subdomains,
        key_type=_pki_key_type(args.key_type),
        max_ttl=parse_ttl(args.max_ttl, "--max-ttl"),
        ttl=_optional_ttl(args.ttl, "--ttl"),
        allow_ip_sans=args.allow_ip_sans,
        allowed_uri_sans=_names(args.allowed_uri_sans, "--allowed-uri-sans") if args.allowed_uri_sans else (),
        ext_key_usage=_names(args.ext_key_usage, "--ext-key-usage") if args.ext_key_usage else (),
    )
    pki.put_role(args.name, role)
    ttl = format_duration(role.max_ttl.total_seconds())
    print(f"secretumvault: role {args.name!r} saved (issuer {args.issuer!r}, max TTL {ttl})", file=sys.stderr)
    return EXIT_OK


def _check_output_file(path: str, option: str) -> None:
    """A usability check before anything is issued; the write itself stays safe and reports its errors."""
    if path == "-":
        raise UsageError(f"{option} must name a file (stdout carries the serial number)")
    check_output(path, option, replace=True)
    parent = os.path.dirname(path) or "."
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{option} {path!r}: directory {parent!r} is not writable")


@_with_pki
def cmd_pki_issue(args: argparse.Namespace, pki: PkiEngine) -> int:
    _check_output_file(args.cert_out, "--cert-out")
    _check_output_file(args.key_out, "--key-out")
    if os.path.realpath(args.cert_out) == os.path.realpath(args.key_out):
        raise UsageError("--cert-out and --key-out must be different files")
    alt_names = _names(args.alt_names, "--alt-names") if args.alt_names else ()
    ip_sans = _names(args.ip_sans, "--ip-sans") if args.ip_sans else ()
    uri_sans = _names(args.uri_sans, "--uri-sans") if args.uri_sans else ()
    issued = pki.issue(
        args.role,
        args.common_name,
        alt_names=alt_names,
        ip_sans=ip_sans,
        uri_sans=uri_sans,
        ttl=_optional_ttl(args.ttl, "--ttl"),
    )
    if issued.private_key is None:
        raise UsageError(f"role {args.role!r} issued no private key")  # issue() always returns one
    try:
        key_pem, cert_pem = issued.private_key.encode("ascii"), issued.certificate.encode("ascii")
        write_output(args.key_out, key_pem, "private key", option="--key-out", secret=True)
        write_output(args.cert_out, cert_pem, "certificate", option="--cert-out")
    except UsageError as exc:
        raise UsageError(
            f"{exc}; certificate {issued.serial_number} was issued but not saved: "
            f"revoke it with `secretumvault pki revoke {issued.serial_number}`"
        ) from None
    print(issued.serial_number)
    return EXIT_OK


@_with_pki
def cmd_pki_revoke(args: argparse.Namespace, pki: PkiEngine) -> int:
    try:
        when = pki.revoke(args.serial)
    except KeyNotFound as exc:
        from secretumvault.pki.serials import format_serial, parse_serial

        # The library names the serial in its canonical form ("11"); answer about "00:11" as typed.
        if str(exc) == f"no certificate with serial {format_serial(parse_serial(args.serial))}":
            raise KeyNotFound(f"no certificate with serial {args.serial}") from None
        raise
    print(f"secretumvault: revoked {args.serial} at {when.isoformat()}", file=sys.stderr)
    return EXIT_OK


@_with_pki
def cmd_pki_crl(args: argparse.Namespace, pki: PkiEngine) -> int:
    crl = pki.crl_rotate(args.ca) if args.rotate else pki.crl(args.ca)
    write_output(args.out, crl.encode("ascii"), "CRL", option="--out")
    return EXIT_OK


@_with_pki
def cmd_pki_chain(args: argparse.Namespace, pki: PkiEngine) -> int:
    sys.stdout.write("".join(pki.ca_chain(args.ca)))
    return EXIT_OK


# -- parser ------------------------------------------------------------------------------------


class _IntermixedParser(argparse.ArgumentParser):
    """A leaf command whose options may come between its positionals.

    Plain argparse fills an optional positional (``[INPUT]``) from the first run
    of positionals, so ``transit encrypt NAME --associated-data X FILE`` would
    reject FILE. Intermixed parsing reads the options first, then the
    positionals. It calls ``parse_known_args`` itself, hence the guard.
    """

    _intermixing = False

    # Any: one signature that serves each of typeshed's overloads (namespace or not).
    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        if self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


# The parents are never parsed; they are _IntermixedParser only so that typeshed accepts
# them as parents of _IntermixedParser commands.
def _store_parent(common: argparse.ArgumentParser) -> _IntermixedParser:
    parent = _IntermixedParser(add_help=False, parents=[common])
    parent.add_argument(
        "--store", metavar="PATH", help="SQLite store file (instead of [storage] in the configuration)"
    )
    return parent


def _unseal_parent(store: _IntermixedParser) -> _IntermixedParser:
    parent = _IntermixedParser(add_help=False, parents=[store])
    material = parent.add_mutually_exclusive_group()
    material.add_argument(
        "--passphrase-file", metavar="FILE", help=f"file holding the passphrase (else ${PASSPHRASE_ENV})"
    )
    material.add_argument(
        "--share-file", metavar="FILE", help=f"unseal shares, one per line (else ${SHARES_ENV})"
    )
    return parent


def _add(
    sub: argparse._SubParsersAction[_Parser],
    name: str,
    parent: _Parser,
    func: Callable[[argparse.Namespace], int],
    text: str,
) -> _Parser:
    parser = sub.add_parser(name, parents=[parent], help=text, description=text)
    parser.set_defaults(func=func)
    return parser


def _add_store_commands(sub: _Subparsers, store: _IntermixedParser, unseal: _IntermixedParser) -> None:
    p = _add(sub, "init", store, cmd_init, "initialise a new store (once)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--shares", type=int, metavar="N", help="split the unseal key into N shares")
    how.add_argument(
        "--passphrase-file", metavar="FILE", help=f"unseal with this passphrase (or ${PASSPHRASE_ENV})"
    )
    p.add_argument("--threshold", type=int, metavar="T", help="how many shares unseal the store")
    p.add_argument("--show-shares", action="store_true", help="print the shares even to a terminal")
    _add(sub, "unseal", unseal, cmd_unseal, "check that the unseal material opens the store")


def _add_transit_commands(sub: _Subparsers, unseal: _IntermixedParser) -> None:
    group = sub.add_parser("transit", help="named, versioned keys: encrypt, decrypt, sign, verify")
    commands = group.add_subparsers(
        dest="transit_command", required=True, metavar="COMMAND", parser_class=_IntermixedParser
    )

    p = _add(commands, "create", unseal, cmd_transit_create, "create a key at version 1")
    p.add_argument("name")
    p.add_argument("--type", default="aes256-gcm96", help="key type, e.g. ml-kem-768, ml-dsa-65, hmac")
    _add(commands, "list", unseal, cmd_transit_list, "list key names")
    for name, func, text in (
        ("read", cmd_transit_read, "key metadata and public keys as JSON"),
        ("rotate", cmd_transit_rotate, "add a new key version"),
        ("delete", cmd_transit_delete, "delete a key and every version (needs --deletion-allowed)"),
    ):
        _add(commands, name, unseal, func, text).add_argument("name")

    p = _add(commands, "config", unseal, cmd_transit_config, "change a key's policy")
    p.add_argument("name")
    p.add_argument("--deletion-allowed", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--min-decryption-version", type=int, metavar="N")
    p.add_argument("--min-encryption-version", type=int, metavar="N", help="0: the latest")

    for name, func, text, what in (
        ("encrypt", cmd_transit_encrypt, "print a vault:v<N>: ciphertext", "plaintext file"),
        ("decrypt", cmd_transit_decrypt, "recover the plaintext", "ciphertext file"),
        ("rewrap", cmd_transit_rewrap, "re-encrypt under the latest version", "ciphertext file"),
    ):
        p = _add(commands, name, unseal, func, text)
        p.add_argument("name")
        p.add_argument("input", nargs="?", default="-", help=f"{what} (default: stdin)")
        p.add_argument("--associated-data", metavar="TEXT", help="bound to the ciphertext; give it again")
        if name == "decrypt":
            p.add_argument("--out", default="-", help="plaintext output (default: stdout, never a terminal)")

    p = _add(commands, "sign", unseal, cmd_transit_sign, "print a vault:v<N>: signature")
    p.add_argument("name")
    p.add_argument("input", nargs="?", default="-", help="message file (default: stdin)")
    p.add_argument("--context", default="", help="FIPS 204 context string (ML-DSA keys)")
    p = _add(commands, "verify", unseal, cmd_transit_verify, "verify a signature; exit 1 if it does not")
    p.add_argument("name")
    p.add_argument("input", nargs="?", default="-", help="message file (default: stdin)")
    p.add_argument("--signature", required=True, help="a vault:v<N>: string, or a file holding one")
    p.add_argument("--context", default="", help="the context string used when signing")


def _add_pki_commands(sub: _Subparsers, unseal: _IntermixedParser) -> None:
    group = sub.add_parser("pki", help="certificate authorities, roles, issuance, revocation")
    commands = group.add_subparsers(
        dest="pki_command", required=True, metavar="COMMAND", parser_class=_IntermixedParser
    )

    p = _add(commands, "root", unseal, cmd_pki_root, "create a root CA; print its certificate")
    p.add_argument("name")
    p.add_argument("--common-name", required=True, metavar="CN")
    p.add_argument("--key-type", default="ML-DSA-65", help="ML-DSA-44/65/87, Ed25519, ECDSA-P256, RSA-3072")
    p.add_argument("--ttl", default="87600h", help="validity, e.g. 87600h or 3650d")

    p = _add(commands, "role", unseal, cmd_pki_role, "create or replace a role")
    p.add_argument("name")
    p.add_argument("--issuer", required=True, metavar="CA")
    p.add_argument("--allowed-domains", required=True, metavar="A,B", help="e.g. example.com,example.org")
    p.add_argument("--allow-subdomains", action="store_true", help="names below the allowed domains")
    p.add_argument("--allow-bare-domains", action="store_true", help="the allowed domains themselves")
    p.add_argument("--key-type", default="ML-DSA-65", help="leaf key type")
    p.add_argument("--max-ttl", default="720h", help="longest validity (default: 720h)")
    p.add_argument("--ttl", help="default validity (default: --max-ttl)")
    p.add_argument("--allow-ip-sans", action="store_true", help="IP address subject alternative names")
    p.add_argument("--allowed-uri-sans", metavar="A,B", help="URI SAN patterns, e.g. spiffe://example.org/*")
    p.add_argument("--ext-key-usage", metavar="A,B", help="more EKUs, e.g. CodeSigning,EmailProtection")

    p = _add(commands, "issue", unseal, cmd_pki_issue, "issue a certificate and key; print the serial")
    p.add_argument("role")
    p.add_argument("common_name", metavar="COMMON_NAME")
    p.add_argument("--alt-names", metavar="A,B", help="more DNS names")
    p.add_argument("--ip-sans", metavar="A,B", help="IP address names")
    p.add_argument("--uri-sans", metavar="A,B", help="URI names")
    p.add_argument("--ttl", help="validity (default: the role's)")
    p.add_argument("--cert-out", required=True, metavar="FILE")
    p.add_argument("--key-out", required=True, metavar="FILE", help="private key (created mode 0600)")

    p = _add(commands, "revoke", unseal, cmd_pki_revoke, "revoke a certificate by serial")
    p.add_argument("serial", help="as printed by issue, e.g. 4f:0a:...")
    p = _add(commands, "crl", unseal, cmd_pki_crl, "print a CA's current CRL (re-signed when it expires)")
    p.add_argument("ca")
    p.add_argument("--rotate", action="store_true", help="sign a new complete CRL now")
    p.add_argument("--out", default="-", help="CRL output (default: stdout)")
    p = _add(commands, "chain", unseal, cmd_pki_chain, "print a CA's certificate and its issuers")
    p.add_argument("ca")


def add_engine_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``init``, ``unseal``, ``transit ...`` and ``pki ...`` to the ``secretumvault`` parser."""
    add_store_commands(subparsers, common_parent)
    add_transit_commands(subparsers, common_parent)
    add_pki_commands(subparsers, common_parent)


# One registration per group, so that a command builds only its own group's parsers.


def add_store_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``init`` and ``unseal``."""
    store = _store_parent(common_parent)
    _add_store_commands(subparsers, store, _unseal_parent(store))


def add_transit_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``transit ...``."""
    _add_transit_commands(subparsers, _unseal_parent(_store_parent(common_parent)))


def add_pki_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``pki ...``."""
    _add_pki_commands(subparsers, _unseal_parent(_store_parent(common_parent)))
