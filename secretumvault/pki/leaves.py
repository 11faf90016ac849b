"""Checking what a leaf certificate may say: names, key usages, extended key usages, validity.

Each function raises the error that names the refused input and the rule
that refused it (NameNotAllowed for a name, PolicyViolation for a usage or
a ttl beyond the role), and writes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from cryptography import x509

from secretumvault.errors import InvalidArgument, InvalidType, PolicyViolation, UnsupportedAlgorithm
from secretumvault.pki import profiles
from secretumvault.pki._store import ActiveCa
from secretumvault.pki.constraints import check_constrained_names
from secretumvault.pki.names import check_dns_name
from secretumvault.pki.requests import SigningRequest, read_csr
from secretumvault.pki.roles import ANY_KEY_TYPE, Role
from secretumvault.pki.sans import IPAddress, check_ip, check_uri
from secretumvault.pki.usages import check_eku_oids, eku_oid, ext_key_usage_names, key_usage_names

__all__ = [
    "check_common_name",
    "check_ttl",
    "checked_names",
    "leaf_ttl",
    "role_request",
    "sequence",
    "verbatim_ext_key_usage",
    "verbatim_key_usage",
]


def sequence(value: object, what: str) -> tuple[object, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidType(f"{what} must be a sequence (list or tuple), not {type(value).__name__}")
    return tuple(value)


def check_ttl(ttl: object) -> datetime.timedelta:
    if not isinstance(ttl, datetime.timedelta):
        raise InvalidType(f"ttl must be a datetime.timedelta, not {type(ttl).__name__}")
    if ttl.total_seconds() < 1:
        raise InvalidArgument("ttl must be at least one second")
    return ttl


def role_request(role: str, policy: Role, csr: str | bytes, backend: str | None) -> SigningRequest:
    request = read_csr(csr, backend)
    found = request.public_key.key_type.name
    if policy.key_type not in (ANY_KEY_TYPE, found):
        raise UnsupportedAlgorithm(f"role {role!r} certifies {policy.key_type} keys; the CSR has {found}")
    policy.check_key_usage_for(found)
    return request


def verbatim_key_usage(
    role: str, policy: Role, request: SigningRequest, given: Sequence[str] | None
) -> tuple[str, ...]:
    if given is not None:
        usages = key_usage_names(sequence(given, "key_usage"))
    elif request.key_usage is not None:
        usages = request.key_usage
    else:
        return policy.key_usage
    beyond = [u for u in usages if u not in policy.key_usage]
    if beyond:
        raise PolicyViolation(
            f"role {role!r} does not allow the key usages {beyond} (rule key_usage={list(policy.key_usage)})"
        )
    policy.check_key_usage_for(request.public_key.key_type.name, usages)
    return usages


def verbatim_ext_key_usage(
    role: str,
    policy: Role,
    request: SigningRequest,
    names: Sequence[str] | None,
    oids: Sequence[str] | None,
) -> tuple[x509.ObjectIdentifier, ...]:
    if names is not None or oids is not None:
        wanted = [eku_oid(n) for n in ext_key_usage_names(sequence(names or (), "ext_key_usage"))]
        wanted += [
            x509.ObjectIdentifier(o) for o in check_eku_oids(sequence(oids or (), "ext_key_usage_oids"))
        ]
    elif request.ext_key_usage is not None:
        wanted = list(request.ext_key_usage)
    else:
        return policy.eku_oids()
    granted = policy.eku_oids()
    beyond = [o.dotted_string for o in wanted if o not in granted]
    if beyond:
        raise PolicyViolation(
            f"role {role!r} does not allow the extended key usages {beyond} "
            f"(rule ext_key_usage={list(policy.ext_key_usage)}, "
            f"ext_key_usage_oids={list(policy.ext_key_usage_oids)}, "
            f"server_flag={policy.server_flag}, client_flag={policy.client_flag})"
        )
    return tuple(dict.fromkeys(wanted))


def checked_names(
    role: str,
    policy: Role,
    ca: ActiveCa,
    dns: Sequence[object],
    ips: Sequence[object],
    uris: Sequence[object],
    common_name: str | None,
) -> profiles.LeafContents:
    """Every name checked for syntax, by the role, and by the CA's name constraints."""
    dns_names = tuple(dict.fromkeys(check_dns_name(n) for n in dns))
    addresses: tuple[IPAddress, ...] = tuple(dict.fromkeys(check_ip(a) for a in ips))
    uri_names = tuple(dict.fromkeys(check_uri(u) for u in uris))
    if common_name is not None:
        check_common_name(role, policy, common_name)
    for name in dns_names:
        policy.check_dns_name(role, name)
    for address in addresses:
        policy.check_ip(role, address)
    for uri in uri_names:
        policy.check_uri(role, uri)
    check_constrained_names(ca.path_certificates(), ca.name, dns=dns_names, ips=addresses, uris=uri_names)
    return profiles.LeafContents(dns_names=dns_names, ip_addresses=addresses, uris=uri_names)


def check_common_name(role: str, policy: Role, common_name: str) -> None:
    # A verbatim subject's common name is a host name or an address the role allows,
    # or anything at all under allow_any_name (a person's name on an email certificate).
    if policy.allow_any_name:
        return
    try:
        address = check_ip(common_name)
    except InvalidArgument:
        policy.check_dns_name(role, check_dns_name(common_name))
        return
    policy.check_ip(role, address)


def leaf_ttl(role: Role, ttl: datetime.timedelta | None) -> datetime.timedelta:
    chosen = check_ttl(ttl) if ttl is not None else (role.ttl or role.max_ttl)
    if chosen > role.max_ttl:
        raise PolicyViolation(
            f"ttl {chosen} exceeds the role's max_ttl {role.max_ttl}", argument="ttl", limit=role.max_ttl
        )
    return chosen
