"""``secretumvault pki ...``: certificate authorities, roles, issuance and revocation in the store."""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from secretumvault.cli._io import EXIT_OK, UsageError, check_output, write_output
from secretumvault.cli._messages import format_duration
from secretumvault.cli._store import (
    IntermixedParser,
    add_command,
    store_parent,
    unseal_parent,
    unsealed_keystore,
)
from secretumvault.errors import KeyNotFound, PolicyViolation

if TYPE_CHECKING:
    from typing import TypeAlias

    from secretumvault.pki import PkiEngine

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["add_pki_commands", "parse_ttl"]

# Patterns, compiled (and cached by re) on first use rather than at every start of the command.
_TTL = r"(?:[0-9]{1,10}[smhd])+"
_TTL_PART = r"([0-9]{1,10})([smhd])"
_TTL_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_LAST_YEAR = 9999


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


def _with_pki(
    handler: Callable[[argparse.Namespace, PkiEngine], int],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from secretumvault.pki import PkiEngine

        with unsealed_keystore(args) as keystore:
            return handler(args, PkiEngine(keystore, backend=args.backend))

    return run


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
    try:
        issued = pki.issue(
            args.role,
            args.common_name,
            alt_names=alt_names,
            ip_sans=ip_sans,
            uri_sans=uri_sans,
            ttl=_optional_ttl(args.ttl, "--ttl"),
        )
    except PolicyViolation as exc:
        limit = exc.limit
        if exc.argument != "ttl" or args.ttl is None or not isinstance(limit, datetime.timedelta):
            raise
        # Both durations as the user writes them (720h), not as Python prints them ("30 days, 0:00:00").
        shown = format_duration(limit.total_seconds())
        raise PolicyViolation(f"--ttl {args.ttl} exceeds the role's max TTL, {shown}") from None
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
        if exc.kind != "certificate":
            raise
        # The library names the serial in its canonical form ("11"); answer about "00:11" as typed.
        raise KeyNotFound(f"no certificate with serial {args.serial}", kind=exc.kind, name=exc.name) from None
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


def add_pki_commands(subparsers: _Subparsers, common_parent: argparse.ArgumentParser) -> None:
    """Add ``pki ...`` to the ``secretumvault`` parser."""
    unseal = unseal_parent(store_parent(common_parent))
    group = subparsers.add_parser("pki", help="certificate authorities, roles, issuance, revocation")
    commands = group.add_subparsers(
        dest="pki_command", required=True, metavar="COMMAND", parser_class=IntermixedParser
    )

    p = add_command(commands, "root", unseal, cmd_pki_root, "create a root CA; print its certificate")
    p.add_argument("name")
    p.add_argument("--common-name", required=True, metavar="CN")
    p.add_argument("--key-type", default="ML-DSA-65", help="ML-DSA-44/65/87, Ed25519, ECDSA-P256, RSA-3072")
    p.add_argument("--ttl", default="87600h", help="validity, e.g. 87600h or 3650d")

    p = add_command(commands, "role", unseal, cmd_pki_role, "create or replace a role")
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

    p = add_command(commands, "issue", unseal, cmd_pki_issue, "issue a certificate and key; print the serial")
    p.add_argument("role")
    p.add_argument("common_name", metavar="COMMON_NAME")
    p.add_argument("--alt-names", metavar="A,B", help="more DNS names")
    p.add_argument("--ip-sans", metavar="A,B", help="IP address names")
    p.add_argument("--uri-sans", metavar="A,B", help="URI names")
    p.add_argument("--ttl", help="validity (default: the role's)")
    p.add_argument("--cert-out", required=True, metavar="FILE")
    p.add_argument("--key-out", required=True, metavar="FILE", help="private key (created mode 0600)")

    p = add_command(commands, "revoke", unseal, cmd_pki_revoke, "revoke a certificate by serial")
    p.add_argument("serial", help="as printed by issue, e.g. 4f:0a:...")
    p = add_command(
        commands, "crl", unseal, cmd_pki_crl, "print a CA's current CRL (re-signed when it expires)"
    )
    p.add_argument("ca")
    p.add_argument("--rotate", action="store_true", help="sign a new complete CRL now")
    p.add_argument("--out", default="-", help="CRL output (default: stdout)")
    p = add_command(commands, "chain", unseal, cmd_pki_chain, "print a CA's certificate and its issuers")
    p.add_argument("ca")
