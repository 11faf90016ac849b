"""The engine's view of its keystore mount: paths, the clock, and reading its records.

Shared by the engine (CAs, roles, issuance) and the revocation half
(CRLs, OCSP, tidy), so both read CAs, certificates and settings one way.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509

from secretumvault.errors import InvalidArgument, InvalidType, KeyNotFound
from secretumvault.keystore import Keystore
from secretumvault.pki.keys import SigningKey
from secretumvault.pki.profiles import issuer_key_id
from secretumvault.pki.records import CaRecord, CertRecord
from secretumvault.pki.serials import format_serial, record_name
from secretumvault.pki.settings import CrlSettings, DistributionUrls

__all__ = ["ActiveCa", "MountStore", "check_name", "later"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
#: The last moment X.509 can express (RFC 5280 4.1.2.5: GeneralizedTime 99991231235959Z).
_LATEST = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)


def check_name(name: object, what: str) -> str:
    if not isinstance(name, str):
        raise InvalidType(f"a {what} name must be str, not {type(name).__name__}")
    if not _NAME.fullmatch(name):
        raise InvalidArgument(f"a {what} name is 1-128 letters, digits, '_', '.', '-', starting alphanumeric")
    return name


def later(moment: datetime.datetime, delta: datetime.timedelta, what: str) -> datetime.datetime:
    """``moment + delta``; InvalidArgument (not OverflowError) past the last date X.509 can express."""
    try:
        end: datetime.datetime | None = moment + delta
    except OverflowError:
        end = None
    if end is None or end > _LATEST:
        raise InvalidArgument(
            f"{what} would end after {_LATEST.date().isoformat()}, the last date X.509 can express"
        )
    return end


@dataclass(frozen=True)
class ActiveCa:
    """A CA with its certificate: ready to sign."""

    name: str
    key: SigningKey
    certificate: x509.Certificate
    der: bytes
    #: DER certificates from this CA's issuer up to the root.
    chain: tuple[bytes, ...]

    @property
    def key_id(self) -> bytes:
        """The identifier its certificates give its key (the AKI of what it signs)."""
        return issuer_key_id(self.certificate, self.key.public_key)

    def path_certificates(self) -> list[x509.Certificate]:
        """This CA's certificate and every one above it."""
        return [self.certificate, *(x509.load_der_x509_certificate(c) for c in self.chain)]


class MountStore:
    """Records under one mount of a keystore, and the engine's clock."""

    def __init__(self, keystore: Keystore, mount: str, clock: Callable[[], datetime.datetime]) -> None:
        self.keystore = keystore
        self.mount = check_name(mount, "mount")
        self._clock = clock

    def now(self) -> datetime.datetime:
        return self._clock().astimezone(datetime.UTC).replace(microsecond=0)

    def path(self, kind: str, name: str) -> str:
        return f"{self.mount}/{kind}/{name}"

    def names(self, kind: str) -> list[str]:
        prefix = self.path(kind, "")
        return [p[len(prefix) :] for p in self.keystore.list(prefix)]

    def active_ca(self, name: str) -> ActiveCa:
        path = self.path("ca", check_name(name, "CA"))
        try:
            record = CaRecord.decode(self.keystore.get(path), path)
        except KeyNotFound:
            raise KeyNotFound(f"no CA named {name!r}") from None
        if record.certificate is None:
            raise InvalidArgument(
                f"CA {name!r} is waiting for its signed certificate (set_signed_intermediate)"
            )
        cert = x509.load_der_x509_certificate(record.certificate)
        return ActiveCa(name, record.key, cert, record.certificate, record.chain)

    def cert_entry(self, serial: int) -> tuple[int, CertRecord]:
        path = self.path("certs", record_name(serial))
        try:
            entry = self.keystore.get_entry(path)
        except KeyNotFound:
            shown = format_serial(serial)
            raise KeyNotFound(f"no certificate with serial {shown}", kind="certificate", name=shown) from None
        return entry.version, CertRecord.decode(entry.value, path)

    def issued_records(self) -> list[tuple[CertRecord, x509.Certificate]]:
        prefix = self.path("certs", "")
        found = []
        for path in self.keystore.list(prefix):
            try:
                record = CertRecord.decode(self.keystore.get(path), path)
            except KeyNotFound:  # removed by a concurrent tidy
                continue
            found.append((record, x509.load_der_x509_certificate(record.certificate)))
        return found

    def urls(self) -> DistributionUrls:
        path = self.path("config", "urls")
        try:
            return DistributionUrls.decode(self.keystore.get(path), path)
        except KeyNotFound:
            return DistributionUrls()

    def crl_settings(self) -> CrlSettings:
        path = self.path("config", "crl")
        try:
            return CrlSettings.decode(self.keystore.get(path), path)
        except KeyNotFound:
            return CrlSettings()
