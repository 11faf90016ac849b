"""Roles, as in Vault's PKI engine: what a caller may have certified, and how.

A role names the CA that signs (``issuer``), the names it may certify, the
leaf key type, the longest validity, the key usages and whether the
certificate is for TLS servers, clients or both (extended key usages).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from secretumvault.errors import CorruptRecord, InvalidArgument, InvalidType
from secretumvault.pki import _json
from secretumvault.pki.names import check_allowed_domain
from secretumvault.pki.sig_algorithms import KEY_TYPES, key_type

__all__ = ["ANY_KEY_TYPE", "KEY_USAGES", "Role"]

#: A role key type that accepts any supported key in a CSR (it cannot generate keys).
ANY_KEY_TYPE = "any"
#: Key usage names, as pyca/cryptography's ``x509.KeyUsage`` arguments.
KEY_USAGES = frozenset(
    {"digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement"}
)
_ROLE_FORMAT = "secretumvault-pki-role"
_ROLE_VERSION = 1


#: Longer than this, no validity period fits between year 1 and 9999 (and a record could not hold it).
_MAX_TTL = datetime.timedelta(days=3_652_059)


def _check_ttl(value: object, what: str) -> datetime.timedelta:
    if not isinstance(value, datetime.timedelta):
        raise InvalidType(f"{what} must be a datetime.timedelta, not {type(value).__name__}")
    if value.total_seconds() < 1:
        raise InvalidArgument(f"{what} must be at least one second")
    if value > _MAX_TTL:
        raise InvalidArgument(f"{what} is longer than any X.509 validity period can be")
    return value


@dataclass(frozen=True)
class Role:
    """How leaf certificates may be issued. Checked when created; immutable."""

    issuer: str
    allowed_domains: tuple[str, ...] = ()
    allow_bare_domains: bool = False
    allow_subdomains: bool = False
    allow_glob_domains: bool = False
    allow_any_name: bool = False
    key_type: str = "ML-DSA-65"
    max_ttl: datetime.timedelta = datetime.timedelta(days=30)
    ttl: datetime.timedelta | None = None
    key_usage: tuple[str, ...] = ("digital_signature",)
    server_flag: bool = True
    client_flag: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer:
            raise InvalidArgument("a role needs the name of the CA that issues for it (issuer)")
        if not isinstance(self.allowed_domains, tuple):
            raise InvalidType("allowed_domains must be a tuple of str")
        for domain in self.allowed_domains:
            check_allowed_domain(domain, glob=self.allow_glob_domains)
        flags = (
            "allow_bare_domains",
            "allow_subdomains",
            "allow_glob_domains",
            "allow_any_name",
            "server_flag",
            "client_flag",
        )
        for flag in flags:
            if not isinstance(getattr(self, flag), bool):
                raise InvalidType(f"{flag} must be bool")
        if self.key_type != ANY_KEY_TYPE:
            key_type(self.key_type)
        _check_ttl(self.max_ttl, "max_ttl")
        if self.ttl is not None and _check_ttl(self.ttl, "ttl") > self.max_ttl:
            raise InvalidArgument("ttl must not exceed max_ttl")
        if not isinstance(self.key_usage, tuple) or not self.key_usage:
            raise InvalidArgument(f"key_usage must be a non-empty tuple from {sorted(KEY_USAGES)}")
        unknown = set(self.key_usage) - KEY_USAGES
        if unknown:
            raise InvalidArgument(
                f"unknown or CA-only key usages {sorted(unknown)}; leaf usages are {sorted(KEY_USAGES)}"
            )
        self.check_key_usage_for(self.key_type)

    def check_key_usage_for(self, key_type_name: str) -> None:
        """InvalidArgument if this role's key usages are not allowed for keys of that type.

        RFC 9881 and RFC 8410 allow only signature usages for ML-DSA and Ed25519 keys.
        """
        if key_type_name == ANY_KEY_TYPE:
            return
        forbidden = set(self.key_usage) - KEY_TYPES[key_type_name].allowed_key_usages
        if forbidden:
            raise InvalidArgument(f"key usages {sorted(forbidden)} are not allowed for {key_type_name} keys")

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
        )
