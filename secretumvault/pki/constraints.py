"""Name constraints on CAs (RFC 5280 4.2.1.10): writing them, and honouring them when issuing.

A CA may be limited to DNS domains (``permitted_dns_domains``) and kept away
from others (``excluded_dns_domains``), as Vault's ``permitted_dns_domains``
and ``excluded_dns_domains``. A constraint ``example.com`` covers
``example.com`` and every name below it. The extension is critical, as RFC
5280 requires, and verifiers (pyca/cryptography, OpenSSL) enforce it.

The engine also checks every DNS, IP and URI name it is asked to certify
against the constraints of the issuing CA and every CA above it, so it never
issues a certificate that the path validation would then refuse. Constraints
of other name types (directory names, email) are left to the verifier.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Iterable, Sequence

from cryptography import x509

from secretumvault.errors import InvalidType, NameNotAllowed
from secretumvault.pki.names import check_dns_name
from secretumvault.pki.sans import IPAddress

__all__ = ["check_constrained_names", "check_dns_domains", "name_constraints_extension"]


def check_dns_domains(values: object, what: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, (tuple, list)):
        raise InvalidType(f"{what} must be a tuple or list of domains")
    return tuple(dict.fromkeys(check_dns_name(v) for v in values))


def name_constraints_extension(
    permitted: Sequence[str], excluded: Sequence[str]
) -> x509.Extension[x509.ExtensionType] | None:
    if not permitted and not excluded:
        return None
    value = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName(d) for d in permitted] or None,
        excluded_subtrees=[x509.DNSName(d) for d in excluded] or None,
    )
    return x509.Extension(value.oid, True, value)


def _dns_within(name: str, domain: str) -> bool:
    domain = domain.lower().lstrip(".")
    return name == domain or name.endswith("." + domain)


def _uri_within(uri: str, constraint: str) -> bool:
    # RFC 5280: the constraint applies to the host; ".example.com" means hosts below it only.
    host = (urllib.parse.urlsplit(uri).hostname or "").lower()
    constraint = constraint.lower()
    if constraint.startswith("."):
        return host.endswith(constraint)
    return host == constraint


def _matches(subtree: x509.GeneralName, kind: str, value: str | IPAddress) -> bool | None:
    """Whether ``value`` falls in ``subtree``; None if the subtree is of another name type."""
    if kind == "dns" and isinstance(subtree, x509.DNSName):
        return _dns_within(str(value), subtree.value)
    if kind == "ip" and isinstance(subtree, x509.IPAddress):
        network = subtree.value
        return isinstance(network, (ipaddress.IPv4Network, ipaddress.IPv6Network)) and value in network
    if kind == "uri" and isinstance(subtree, x509.UniformResourceIdentifier):
        return _uri_within(str(value), subtree.value)
    return None


def _check_one(constraints: x509.NameConstraints, ca: str, kind: str, value: str | IPAddress) -> None:
    for subtree in constraints.excluded_subtrees or ():
        if _matches(subtree, kind, value):
            rule = "excluded_dns_domains" if kind == "dns" else "name_constraints"
            raise NameNotAllowed(
                f"the name constraints of CA {ca!r} exclude the {kind.upper()} name {str(value)!r} "
                f"(rule {rule})",
                rule,
            )
    permitted = constraints.permitted_subtrees or ()
    relevant = [m for m in (_matches(s, kind, value) for s in permitted) if m is not None]
    if relevant and not any(relevant):
        rule = "permitted_dns_domains" if kind == "dns" else "name_constraints"
        raise NameNotAllowed(
            f"the name constraints of CA {ca!r} do not permit the {kind.upper()} name {str(value)!r} "
            f"(rule {rule})",
            rule,
        )


def check_constrained_names(
    ca_certificates: Iterable[x509.Certificate],
    ca: str,
    *,
    dns: Sequence[str] = (),
    ips: Sequence[IPAddress] = (),
    uris: Sequence[str] = (),
) -> None:
    """NameNotAllowed if any name falls outside the name constraints of the issuing CA's path."""
    for cert in ca_certificates:
        try:
            constraints = cert.extensions.get_extension_for_class(x509.NameConstraints).value
        except x509.ExtensionNotFound:
            continue
        for kind, values in (("dns", dns), ("ip", ips), ("uri", uris)):
            for value in values:
                _check_one(constraints, ca, kind, value)
