"""Roles, as in Vault's PKI engine: what a caller may have certified, and how.

A role names the CA that signs (``issuer``), the names it may certify (DNS
names by ``allowed_domains`` and its flags, IP addresses if
``allow_ip_sans``, URIs matching ``allowed_uri_sans``), the leaf key type,
the longest validity, the key usages, and the extended key usages
(``server_flag``, ``client_flag``, ``ext_key_usage`` by name and
``ext_key_usage_oids``). A refused name raises
:class:`~secretumvault.errors.NameNotAllowed` naming the rule that refused it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from secretumvault.errors import CorruptRecord, InvalidArgument, InvalidType, NameNotAllowed
from secretumvault.pki import _json
from secretumvault.pki.names import check_allowed_domain, is_allowed
from secretumvault.pki.sans import IPAddress, check_uri_pattern, uri_allowed
from secretumvault.pki.sig_algorithms import KEY_TYPES, key_type
from secretumvault.pki.usages import (
    EXT_KEY_USAGES,
    LEAF_KEY_USAGES,
    check_eku_oids,
    ext_key_usage_names,
    key_usage_names,
)

__all__ = ["ANY_KEY_TYPE", "KEY_USAGES", "Role"]

#: A role key type that accepts any supported key in a CSR (it cannot generate keys).
ANY_KEY_TYPE = "any"
#: Key usages a leaf may carry, as pyca/cryptography's ``x509.KeyUsage`` arguments.
KEY_USAGES = LEAF_KEY_USAGES
_ROLE_FORMAT = "secretumvault-pki-role"
_ROLE_VERSION = 1
#: Longer than this, no validity period fits between year 1 and 9999 (and a record could not hold it).
_MAX_TTL = datetime.timedelta(days=3_652_059)
_FLAGS = (
    "allow_bare_domains",
    "allow_subdomains",
    "allow_glob_domains",
    "allow_any_name",
    "allow_ip_sans",
    "server_flag",
    "client_flag",
)


def _check_ttl(value: object, what: str) -> datetime.timedelta:
    if not isinstance(value, datetime.timedelta):
        raise InvalidType(f"{what} must be a datetime.timedelta, not {type(value).__name__}")
    if value.total_seconds() < 1:
        raise InvalidArgument(f"{what} must be at least one second")
    if value > _MAX_TTL:
        raise InvalidArgument(f"{what} is longer than any X.509 validity period can be")
    return value


def _tuple_of_str(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidType(f"{what} must be a tuple of str")
    return value


@dataclass(frozen=True)
class Role:
    """How leaf certificates may be issued. Checked (and names normalised) when created; immutable."""

    issuer: str
    allowed_domains: tuple[str, ...] = ()
    allow_bare_domains: bool = False
    allow_subdomains: bool = False
    allow_glob_domains: bool = False
    allow_any_name: bool = False
    key_type: str = "ML-DSA-65"
    max_ttl: datetime.timedelta = datetime.timedelta(days=30)
    ttl: datetime.timedelta | None = None
    #: Key usages, in pyca/cryptography's or Vault's spelling; empty: no keyUsage extension.
    key_usage: tuple[str, ...] = ("digital_signature",)
    server_flag: bool = True
    client_flag: bool = True
    #: IP address SANs (any address) may be asked for.
    allow_ip_sans: bool = False
    #: Patterns of the URI SANs that may be asked for (see :mod:`secretumvault.pki.sans`).
    allowed_uri_sans: tuple[str, ...] = ()
    #: More extended key usages by Vault's names (``CodeSigning``, ``EmailProtection`` ...).
    ext_key_usage: tuple[str, ...] = ()
    #: More extended key usages as dotted OIDs.
    ext_key_usage_oids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer:
            raise InvalidArgument("a role needs the name of the CA that issues for it (issuer)")
        for flag in _FLAGS:
            if not isinstance(getattr(self, flag), bool):
                raise InvalidType(f"{flag} must be bool")
        for domain in _tuple_of_str(self.allowed_domains, "allowed_domains"):
            check_allowed_domain(domain, glob=self.allow_glob_domains)
        for pattern in _tuple_of_str(self.allowed_uri_sans, "allowed_uri_sans"):
            check_uri_pattern(pattern)
        if self.key_type != ANY_KEY_TYPE:
            key_type(self.key_type)
        _check_ttl(self.max_ttl, "max_ttl")
        if self.ttl is not None and _check_ttl(self.ttl, "ttl") > self.max_ttl:
            raise InvalidArgument("ttl must not exceed max_ttl")
        usages = key_usage_names(_tuple_of_str(self.key_usage, "key_usage"))
        if "key_cert_sign" in usages:
            raise InvalidArgument("key_cert_sign is a CA-only key usage; a leaf cannot carry it")
        object.__setattr__(self, "key_usage", usages)
        names = ext_key_usage_names(_tuple_of_str(self.ext_key_usage, "ext_key_usage"))
        object.__setattr__(self, "ext_key_usage", names)
        oids = check_eku_oids(_tuple_of_str(self.ext_key_usage_oids, "ext_key_usage_oids"))
        object.__setattr__(self, "ext_key_usage_oids", oids)
        self.check_key_usage_for(self.key_type)

    def check_key_usage_for(self, key_type_name: str, usages: tuple[str, ...] | None = None) -> None:
        """InvalidArgument if these key usages (the role's by default) are not allowed for that key type.

        RFC 9881 and RFC 8410 allow only signature usages for ML-DSA and Ed25519 keys.
        """
        if key_type_name == ANY_KEY_TYPE:
            return
        forbidden = (
            set(self.key_usage if usages is None else usages) - KEY_TYPES[key_type_name].allowed_key_usages
        )
        if forbidden:
            raise InvalidArgument(f"key usages {sorted(forbidden)} are not allowed for {key_type_name} keys")

    def eku_oids(self) -> tuple[x509.ObjectIdentifier, ...]:
        """Every extended key usage this role grants, in a fixed order."""
        named = ("ServerAuth",) * self.server_flag + ("ClientAuth",) * self.client_flag + self.ext_key_usage
        found = [EXT_KEY_USAGES[n] for n in named] + [
            x509.ObjectIdentifier(o) for o in self.ext_key_usage_oids
        ]
        return tuple(dict.fromkeys(found))

    # -- names ---------------------------------------------------------------------------

    def check_dns_name(self, role: str, name: str) -> None:
        """NameNotAllowed unless this (checked) DNS name is one the role may certify."""
        if self.allow_any_name or is_allowed(
            name,
            self.allowed_domains,
            allow_bare_domains=self.allow_bare_domains,
            allow_subdomains=self.allow_subdomains,
            allow_glob_domains=self.allow_glob_domains,
        ):
            return
        raise NameNotAllowed(
            f"role {role!r} does not allow the name {name!r} "
            f"(rule allowed_domains={list(self.allowed_domains)}, "
            f"allow_bare_domains={self.allow_bare_domains}, allow_subdomains={self.allow_subdomains}, "
            f"allow_glob_domains={self.allow_glob_domains})",
            "allowed_domains",
        )

    def check_ip(self, role: str, address: IPAddress) -> None:
        if not self.allow_ip_sans:
            raise NameNotAllowed(
                f"role {role!r} does not allow the IP SAN {str(address)!r} (rule allow_ip_sans=False)",
                "allow_ip_sans",
            )

    def check_uri(self, role: str, uri: str) -> None:
        if not uri_allowed(uri, self.allowed_uri_sans):
            raise NameNotAllowed(
                f"role {role!r} does not allow the URI SAN {uri[:128]!r} "
                f"(rule allowed_uri_sans={list(self.allowed_uri_sans)})",
                "allowed_uri_sans",
            )

    # -- storage -------------------------------------------------------------------------

    def to_record(self) -> bytes:
        return _json.dumps(
            _ROLE_FORMAT,
            _ROLE_VERSION,
            {
                "issuer": self.issuer,
                "allowed_domains": list(self.allowed_domains),
                "allow_bare_domains": self.allow_bare_domains,
                "allow_subdomains": self.allow_subdomains,
                "allow_glob_domains": self.allow_glob_domains,
                "allow_any_name": self.allow_any_name,
                "key_type": self.key_type,
                "max_ttl": int(self.max_ttl.total_seconds()),
                "ttl": None if self.ttl is None else int(self.ttl.total_seconds()),
                "key_usage": list(self.key_usage),
                "server_flag": self.server_flag,
                "client_flag": self.client_flag,
                "allow_ip_sans": self.allow_ip_sans,
                "allowed_uri_sans": list(self.allowed_uri_sans),
                "ext_key_usage": list(self.ext_key_usage),
                "ext_key_usage_oids": list(self.ext_key_usage_oids),
            },
        )

    @classmethod
    def from_record(cls, data: bytes, where: str) -> Role:
        obj: dict[str, Any] = _json.loads(data, _ROLE_FORMAT, _ROLE_VERSION, where)
        try:
            return cls._from_fields(obj, where)
        except (OverflowError, InvalidArgument, InvalidType) as exc:  # a record no Role could have written
            raise CorruptRecord(f"{where}: not a valid role ({type(exc).__name__})") from None

    @classmethod
    def _from_fields(cls, obj: dict[str, Any], where: str) -> Role:
        def optional(name: str, kind: type, default: Any) -> Any:
            # Fields added after the first release: records written before them load with the default.
            return default if name not in obj else _json.require(obj, name, kind, where)

        ttl = obj.get("ttl")
        return cls(
            issuer=_json.require(obj, "issuer", str, where),
            allowed_domains=tuple(_json.require(obj, "allowed_domains", list, where)),
            allow_bare_domains=_json.require(obj, "allow_bare_domains", bool, where),
            allow_subdomains=_json.require(obj, "allow_subdomains", bool, where),
            allow_glob_domains=_json.require(obj, "allow_glob_domains", bool, where),
            allow_any_name=_json.require(obj, "allow_any_name", bool, where),
            key_type=_json.require(obj, "key_type", str, where),
            max_ttl=datetime.timedelta(seconds=_json.require(obj, "max_ttl", int, where)),
            ttl=None if ttl is None else datetime.timedelta(seconds=_json.require(obj, "ttl", int, where)),
            key_usage=tuple(_json.require(obj, "key_usage", list, where)),
            server_flag=_json.require(obj, "server_flag", bool, where),
            client_flag=_json.require(obj, "client_flag", bool, where),
            allow_ip_sans=optional("allow_ip_sans", bool, False),
            allowed_uri_sans=tuple(optional("allowed_uri_sans", list, [])),
            ext_key_usage=tuple(optional("ext_key_usage", list, [])),
            ext_key_usage_oids=tuple(optional("ext_key_usage_oids", list, [])),
        )
