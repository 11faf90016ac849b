"""Mount-wide PKI settings, as Vault's ``config/urls`` and ``config/crl``.

:class:`DistributionUrls` are written into every certificate a CA of the
mount issues: ``issuing_certificates`` and ``ocsp_servers`` as the Authority
Information Access extension (caIssuers, OCSP), ``crl_distribution_points``
as CRL Distribution Points, ``delta_crl_distribution_points`` as Freshest
CRL (RFC 5280 4.2.1.15; also on the complete CRL while delta CRLs are on,
5.2.6). ``{{issuer_id}}`` in a URL is replaced by the issuing CA's name, so
one setting serves every CA of the mount.

:class:`CrlSettings` say how long a CRL (and an OCSP response) is valid and
whether delta CRLs are kept.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from secretumvault.errors import CorruptRecord, InvalidArgument, InvalidType
from secretumvault.pki import _json
from secretumvault.pki.sans import check_uri

__all__ = ["CrlSettings", "DistributionUrls"]

_URLS_FORMAT = "secretumvault-pki-urls"
_CRL_FORMAT = "secretumvault-pki-crl-config"
_VERSION = 1
_TEMPLATE = "{{issuer_id}}"
_MAX_URLS = 16
_URL_FIELDS = (
    "issuing_certificates",
    "crl_distribution_points",
    "ocsp_servers",
    "delta_crl_distribution_points",
)
#: Fields that records written before they existed lack (read as no URLs).
_LATER_FIELDS = frozenset({"delta_crl_distribution_points"})
_MAX_LIFETIME = datetime.timedelta(days=3650)

Extensions = list[x509.Extension[x509.ExtensionType]]


def _check_urls(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise InvalidType(f"{what} must be a sequence (list or tuple) of URLs")
    if len(value) > _MAX_URLS:
        raise InvalidArgument(f"{what}: at most {_MAX_URLS} URLs")
    for url in value:
        if not isinstance(url, str):
            raise InvalidType(f"{what} must hold str, not {type(url).__name__}")
        check_uri(url.replace(_TEMPLATE, "ca"))
        if not url.replace(_TEMPLATE, "ca").split(":", 1)[1].startswith("//"):
            raise InvalidArgument(
                f"{what}: {url[:64]!r} has no host; give an absolute URL such as http://host/path"
            )
    return tuple(value)


@dataclass(frozen=True)
class DistributionUrls:
    """Where clients find a CA's certificate, CRL and OCSP responder (Vault's ``config/urls``)."""

    issuing_certificates: tuple[str, ...] = ()
    crl_distribution_points: tuple[str, ...] = ()
    ocsp_servers: tuple[str, ...] = ()
    #: Where the delta CRL is (Vault's ``delta_crl_distribution_points``): the Freshest CRL extension,
    #: without which RFC 5280 6.3.3 verifiers (OpenSSL's ``-use_deltas``) never look for a delta CRL.
    delta_crl_distribution_points: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in _URL_FIELDS:
            object.__setattr__(self, name, _check_urls(getattr(self, name), name))

    @classmethod
    def checked(
        cls,
        issuing_certificates: object,
        crl_distribution_points: object,
        ocsp_servers: object,
        delta_crl_distribution_points: object = (),
    ) -> DistributionUrls:
        """From caller values of any type: InvalidType/InvalidArgument naming the field otherwise."""
        fields = (issuing_certificates, crl_distribution_points, ocsp_servers, delta_crl_distribution_points)
        return cls(*(_check_urls(value, name) for value, name in zip(fields, _URL_FIELDS, strict=True)))

    def extensions(self, ca_name: str) -> Extensions:
        """The AIA, CRL Distribution Points and Freshest CRL extensions for a certificate that CA
        ``ca_name`` issues."""
        found: Extensions = []
        access = [
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP, uri)
            for uri in _expand(self.ocsp_servers, ca_name)
        ] + [
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, uri)
            for uri in _expand(self.issuing_certificates, ca_name)
        ]
        if access:
            aia = x509.AuthorityInformationAccess(access)
            found.append(x509.Extension(aia.oid, False, aia))
        if self.crl_distribution_points:
            points = [
                x509.DistributionPoint([uri], None, None, None)
                for uri in _expand(self.crl_distribution_points, ca_name)
            ]
            cdp = x509.CRLDistributionPoints(points)
            found.append(x509.Extension(cdp.oid, False, cdp))
        return found + self.freshest_crl(ca_name)

    def freshest_crl(self, ca_name: str) -> Extensions:
        """The (non-critical, RFC 5280 5.2.6) Freshest CRL extension naming CA ``ca_name``'s delta CRL,
        if its URLs are set: for its certificates and its complete CRLs, never for a delta CRL."""
        if not self.delta_crl_distribution_points:
            return []
        points = [
            x509.DistributionPoint([uri], None, None, None)
            for uri in _expand(self.delta_crl_distribution_points, ca_name)
        ]
        freshest = x509.FreshestCRL(points)
        return [x509.Extension(freshest.oid, False, freshest)]

    def encode(self) -> bytes:
        return _json.dumps(_URLS_FORMAT, _VERSION, {n: list(getattr(self, n)) for n in _URL_FIELDS})

    @classmethod
    def decode(cls, data: bytes, where: str) -> DistributionUrls:
        obj = _json.loads(data, _URLS_FORMAT, _VERSION, where)
        try:
            return cls(
                *(
                    tuple(_json.require(obj, n, list, where)) if n in obj or n not in _LATER_FIELDS else ()
                    for n in _URL_FIELDS
                )
            )
        except (InvalidArgument, InvalidType):
            raise CorruptRecord(f"{where}: not valid distribution URLs") from None


def _expand(urls: tuple[str, ...], ca_name: str) -> list[x509.GeneralName]:
    return [x509.UniformResourceIdentifier(u.replace(_TEMPLATE, ca_name)) for u in urls]


def _check_lifetime(value: object, what: str) -> datetime.timedelta:
    if not isinstance(value, datetime.timedelta):
        raise InvalidType(f"{what} must be a datetime.timedelta, not {type(value).__name__}")
    if not datetime.timedelta(minutes=1) <= value <= _MAX_LIFETIME:
        raise InvalidArgument(f"{what} must be between one minute and {_MAX_LIFETIME.days} days")
    return value


@dataclass(frozen=True)
class CrlSettings:
    """How CRLs and OCSP responses are kept (Vault's ``config/crl``: expiry, enable_delta, ocsp_expiry)."""

    #: How long each CRL is valid (its nextUpdate); it is rebuilt when it expires.
    expiry: datetime.timedelta = datetime.timedelta(hours=72)
    #: Keep delta CRLs: a revocation then re-signs only the delta CRL, until the next complete one.
    enable_delta: bool = False
    #: How long an OCSP response is valid (its nextUpdate).
    ocsp_expiry: datetime.timedelta = datetime.timedelta(hours=12)

    def __post_init__(self) -> None:
        _check_lifetime(self.expiry, "expiry")
        _check_lifetime(self.ocsp_expiry, "ocsp_expiry")
        if not isinstance(self.enable_delta, bool):
            raise InvalidType("enable_delta must be bool")

    def encode(self) -> bytes:
        fields: dict[str, Any] = {
            "expiry": int(self.expiry.total_seconds()),
            "enable_delta": self.enable_delta,
            "ocsp_expiry": int(self.ocsp_expiry.total_seconds()),
        }
        return _json.dumps(_CRL_FORMAT, _VERSION, fields)

    @classmethod
    def decode(cls, data: bytes, where: str) -> CrlSettings:
        obj = _json.loads(data, _CRL_FORMAT, _VERSION, where)
        try:
            return cls(
                expiry=datetime.timedelta(seconds=_json.require(obj, "expiry", int, where)),
                enable_delta=_json.require(obj, "enable_delta", bool, where),
                ocsp_expiry=datetime.timedelta(seconds=_json.require(obj, "ocsp_expiry", int, where)),
            )
        except (InvalidArgument, InvalidType, OverflowError):
            raise CorruptRecord(f"{where}: not valid CRL settings") from None
