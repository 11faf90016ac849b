"""The PKI engine: certificate authorities, roles, issuance, revocation, CRLs, tidy.

Every operation checks all of its inputs before it writes anything, and
writes at most one record with a compare-and-set, so a refused or failed
call leaves the keystore as it was.
"""

from __future__ import annotations

import builtins
import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from secretumvault.errors import (
    ConflictError,
    InvalidArgument,
    InvalidKey,
    InvalidSignature,
    InvalidType,
    KeyNotFound,
    UnsupportedAlgorithm,
)
from secretumvault.keystore import Keystore
from secretumvault.pki import builders, profiles
from secretumvault.pki._der_split import sequence_members
from secretumvault.pki.keys import PublicKey, SigningKey, generate_key
from secretumvault.pki.names import check_dns_name, is_allowed
from secretumvault.pki.records import CaRecord, CertRecord, CrlState
from secretumvault.pki.requests import read_csr
from secretumvault.pki.roles import ANY_KEY_TYPE, Role
from secretumvault.pki.serials import format_serial, new_serial, parse_serial, record_name
from secretumvault.pki.verify import load_certificate

__all__ = ["IssuedCertificate", "PkiEngine"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
#: Leaves are backdated this much, as Vault does, to absorb clock skew between machines.
_BACKDATE = datetime.timedelta(seconds=30)
_DEFAULT_CA_TTL = datetime.timedelta(days=3650)
_DEFAULT_CRL_LIFETIME = datetime.timedelta(hours=72)


#: The last moment X.509 can express (RFC 5280 4.1.2.5: GeneralizedTime 99991231235959Z).
_LATEST = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)


def _later(moment: datetime.datetime, delta: datetime.timedelta, what: str) -> datetime.datetime:
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


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _pem(der: bytes, label: str = "CERTIFICATE") -> str:
    if label == "CERTIFICATE":
        return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode("ascii")
    if label == "CERTIFICATE REQUEST":
        return x509.load_der_x509_csr(der).public_bytes(Encoding.PEM).decode("ascii")
    return x509.load_der_x509_crl(der).public_bytes(Encoding.PEM).decode("ascii")


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str):
        raise InvalidType(f"a {what} name must be str, not {type(name).__name__}")
    if not _NAME.fullmatch(name):
        raise InvalidArgument(f"a {what} name is 1-128 letters, digits, '_', '.', '-', starting alphanumeric")
    return name


def _check_ttl(ttl: object) -> datetime.timedelta:
    if not isinstance(ttl, datetime.timedelta):
        raise InvalidType(f"ttl must be a datetime.timedelta, not {type(ttl).__name__}")
    if ttl.total_seconds() < 1:
        raise InvalidArgument("ttl must be at least one second")
    return ttl


def _subject(common_name: object) -> x509.Name:
    if not isinstance(common_name, str):
        raise InvalidType(f"common_name must be str, not {type(common_name).__name__}")
    if not 0 < len(common_name) <= 64:  # RFC 5280 ub-common-name
        raise InvalidArgument("common_name must be 1 to 64 characters")
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate as issued: PEM, its serial, the chain above it, and (for ``issue``) its key.

    The private key is returned once and never stored; it is kept out of ``repr``.
    """

    serial_number: str
    certificate: str
    issuing_ca: str
    #: PEM certificates from the issuing CA up to the root.
    ca_chain: tuple[str, ...]
    not_after: datetime.datetime
    key_type: str
    private_key: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # PEM bodies are long, and the private key is secret
        key = "<private key>" if self.private_key is not None else "None"
        return (
            f"IssuedCertificate(serial_number={self.serial_number!r}, key_type={self.key_type!r}, "
            f"not_after={self.not_after.isoformat()!r}, private_key={key})"
        )


@dataclass(frozen=True)
class _ActiveCa:
    name: str
    key: SigningKey
    certificate: x509.Certificate
    der: bytes
    chain: tuple[bytes, ...]


class PkiEngine:
    """Vault-style PKI on a :class:`~secretumvault.keystore.Keystore`.

    ``backend`` chooses where new ML-DSA keys live ("oqs", "openssl", None for
    pqc's default); existing keys stay on the backend that made them.
    ``clock`` (aware UTC datetimes) exists for tests of expiry and tidy.
    """

    def __init__(
        self,
        keystore: Keystore,
        *,
        mount: str = "pki",
        backend: str | None = None,
        clock: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        self._keystore = keystore
        self._mount = _check_name(mount, "mount")
        self._backend = backend
        self._clock = clock

    def __repr__(self) -> str:
        return f"PkiEngine(mount={self._mount!r}, backend={self._backend!r})"

    def _now(self) -> datetime.datetime:
        return self._clock().astimezone(datetime.UTC).replace(microsecond=0)

    def _path(self, kind: str, name: str) -> str:
        return f"{self._mount}/{kind}/{name}"

    # -- certificate authorities -------------------------------------------------------------------

    def create_root(
        self,
        name: str,
        *,
        common_name: str,
        key_type: str = "ML-DSA-65",
        ttl: datetime.timedelta = _DEFAULT_CA_TTL,
    ) -> str:
        """Create a self-signed root CA with a new key; return its certificate (PEM)."""
        path = self._path("ca", _check_name(name, "CA"))
        subject = _subject(common_name)
        lifetime = _check_ttl(ttl)
        self._refuse_existing_ca(path, name)
        key = generate_key(key_type, self._backend)
        now = self._now()
        der = builders.build_certificate(
            builders.CertificateFields(
                serial_number=new_serial(),
                issuer=subject,
                subject=subject,
                not_before=now,
                not_after=_later(now, lifetime, "the CA's validity"),
                subject_public_key=key.public_key,
                extensions=profiles.ca_extensions(key.public_key, key.public_key),
            ),
            key,
        )
        self._create_ca(path, name, CaRecord(key=key, certificate=der, chain=(), csr=None))
        return _pem(der)

    def generate_intermediate(self, name: str, *, common_name: str, key_type: str = "ML-DSA-65") -> str:
        """Create an intermediate CA's key and return its CSR (PEM) for a parent to sign.

        The CA can issue once :meth:`set_signed_intermediate` gives it its certificate.
        """
        path = self._path("ca", _check_name(name, "CA"))
        subject = _subject(common_name)
        self._refuse_existing_ca(path, name)
        key = generate_key(key_type, self._backend)
        csr = builders.build_csr(subject, key)
        self._create_ca(path, name, CaRecord(key=key, certificate=None, chain=(), csr=csr))
        return _pem(csr, "CERTIFICATE REQUEST")

    def sign_intermediate(
        self,
        issuer: str,
        csr: str | bytes,
        *,
        ttl: datetime.timedelta,
        common_name: str | None = None,
    ) -> IssuedCertificate:
        """Sign a CA certificate for ``csr`` with the CA ``issuer``; it is recorded (revocable)."""
        ca = self._active_ca(issuer)
        request = read_csr(csr, self._backend)
        subject = _subject(common_name if common_name is not None else request.common_name)
        not_before, not_after = self._validity(ca, _check_ttl(ttl))
        fields = builders.CertificateFields(
            serial_number=new_serial(),
            issuer=ca.certificate.subject,
            subject=subject,
            not_before=not_before,
            not_after=not_after,
            subject_public_key=request.public_key,
            extensions=profiles.ca_extensions(request.public_key, ca.key.public_key),
        )
        return self._issue(ca, fields, private_key=None)

    def set_signed_intermediate(self, name: str, certificate: str | bytes, *, issuer: str) -> None:
        """Give a pending intermediate its certificate, signed by the CA ``issuer`` of this engine.

        InvalidKey if the certificate is for another key; InvalidSignature if
        ``issuer`` did not sign it; InvalidArgument if it is not a CA certificate.
        """
        path = self._path("ca", _check_name(name, "CA"))
        parent = self._active_ca(issuer)
        entry = self._keystore.get_entry(path)
        record = CaRecord.decode(entry.value, path)
        if record.certificate is not None:
            raise InvalidArgument(f"CA {name!r} already has its certificate")
        cert = load_certificate(certificate)
        if cert.version is not x509.Version.v3:
            raise InvalidArgument("a CA certificate must be X.509 v3")
        tbs_fields = sequence_members(cert.tbs_certificate_bytes, "certificate")
        if tbs_fields[6] != record.key.public_key.spki:
            raise InvalidKey(f"the certificate is not for the key of CA {name!r}")
        outer = sequence_members(cert.public_bytes(Encoding.DER), "certificate")
        if (
            outer[1] != parent.key.key_type.signature_algorithm_der()
            or cert.issuer != parent.certificate.subject
        ):
            raise InvalidSignature(f"the certificate was not issued by CA {issuer!r}")
        parent.key.public_key.verify(cert.signature, cert.tbs_certificate_bytes)
        try:
            constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            raise InvalidArgument("the certificate is not a CA certificate (no basicConstraints)") from None
        if not constraints.ca:
            raise InvalidArgument("the certificate is not a CA certificate (basicConstraints cA is false)")
        chain = (parent.der, *parent.chain)
        self._keystore.cas(
            path, entry.version, record.signed(cert.public_bytes(Encoding.DER), chain).encode()
        )

    def create_intermediate(
        self,
        name: str,
        *,
        issuer: str,
        common_name: str,
        key_type: str = "ML-DSA-65",
        ttl: datetime.timedelta = _DEFAULT_CA_TTL,
    ) -> str:
        """Generate, sign and install an intermediate under ``issuer`` in one call; its PEM."""
        # Refuse what would fail later before any key is made or stored.
        self._validity(self._active_ca(issuer), _check_ttl(ttl))
        csr = self.generate_intermediate(name, common_name=common_name, key_type=key_type)
        try:
            signed = self.sign_intermediate(issuer, csr, ttl=ttl)
        except Exception:
            self._keystore.delete(self._path("ca", name))  # undo: nothing was signed
            raise
        self.set_signed_intermediate(name, signed.certificate, issuer=issuer)
        return signed.certificate

    def ca_certificate(self, name: str) -> str:
        """The CA's own certificate (PEM)."""
        return _pem(self._active_ca(name).der)

    def ca_chain(self, name: str) -> builtins.list[str]:
        """The CA's certificate followed by every issuer above it, up to the root (PEM)."""
        ca = self._active_ca(name)
        return [_pem(der) for der in (ca.der, *ca.chain)]

    def list_cas(self) -> builtins.list[str]:
        prefix = self._path("ca", "")
        return [p[len(prefix) :] for p in self._keystore.list(prefix)]

    def _refuse_existing_ca(self, path: str, name: str) -> None:
        if path in self._keystore.list(path):
            raise InvalidArgument(f"a CA named {name!r} already exists")

    def _create_ca(self, path: str, name: str, record: CaRecord) -> None:
        try:
            self._keystore.cas(path, None, record.encode())
        except ConflictError:  # created concurrently since the check
            raise InvalidArgument(f"a CA named {name!r} already exists") from None

    def _active_ca(self, name: str) -> _ActiveCa:
        path = self._path("ca", _check_name(name, "CA"))
        try:
            record = CaRecord.decode(self._keystore.get(path), path)
        except KeyNotFound:
            raise KeyNotFound(f"no CA named {name!r}") from None
        if record.certificate is None:
            raise InvalidArgument(
                f"CA {name!r} is waiting for its signed certificate (set_signed_intermediate)"
            )
        cert = x509.load_der_x509_certificate(record.certificate)
        return _ActiveCa(name, record.key, cert, record.certificate, record.chain)

    # -- roles ------------------------------------------------------------------------------------------

    def put_role(self, name: str, role: Role) -> None:
        """Create or replace a role. Its issuer must be an existing, active CA."""
        if not isinstance(role, Role):
            raise InvalidType(f"role must be a Role, not {type(role).__name__}")
        path = self._path("roles", _check_name(name, "role"))
        self._active_ca(role.issuer)
        self._keystore.put(path, role.to_record())

    def get_role(self, name: str) -> Role:
        path = self._path("roles", _check_name(name, "role"))
        try:
            return Role.from_record(self._keystore.get(path), path)
        except KeyNotFound:
            raise KeyNotFound(f"no role named {name!r}") from None

    def delete_role(self, name: str) -> None:
        try:
            self._keystore.delete(self._path("roles", _check_name(name, "role")))
        except KeyNotFound:
            raise KeyNotFound(f"no role named {name!r}") from None

    def list_roles(self) -> builtins.list[str]:
        prefix = self._path("roles", "")
        return [p[len(prefix) :] for p in self._keystore.list(prefix)]

    # -- issuance -----------------------------------------------------------------------------------------

    def issue(
        self,
        role: str,
        common_name: str,
        *,
        alt_names: Sequence[str] = (),
        ttl: datetime.timedelta | None = None,
    ) -> IssuedCertificate:
        """A leaf certificate for a new key of the role's key type; the key is returned, not kept."""
        policy = self.get_role(role)
        if policy.key_type == ANY_KEY_TYPE:
            raise InvalidArgument(f"role {role!r} accepts any key type, so it can only sign CSRs")
        ca = self._active_ca(policy.issuer)
        names = self._allowed_names(policy, common_name, alt_names)
        not_before, not_after = self._validity(ca, self._leaf_ttl(policy, ttl))
        key = generate_key(policy.key_type, self._backend)
        fields = self._leaf_fields(ca, policy, names, key.public_key, not_before, not_after)
        return self._issue(ca, fields, private_key=key)

    def sign_csr(
        self,
        role: str,
        csr: str | bytes,
        *,
        common_name: str | None = None,
        alt_names: Sequence[str] = (),
        ttl: datetime.timedelta | None = None,
    ) -> IssuedCertificate:
        """A leaf certificate for the key in ``csr``, which must verify and be of the role's key type.

        The names are ``common_name`` (else the CSR's), ``alt_names`` and the
        CSR's DNS subjectAltNames; every one must be allowed by the role.
        """
        policy = self.get_role(role)
        ca = self._active_ca(policy.issuer)
        request = read_csr(csr, self._backend)
        found = request.public_key.key_type.name
        if policy.key_type not in (ANY_KEY_TYPE, found):
            raise UnsupportedAlgorithm(f"role {role!r} certifies {policy.key_type} keys; the CSR has {found}")
        policy.check_key_usage_for(found)
        cn = common_name if common_name is not None else request.common_name
        if cn is None:
            raise InvalidArgument("give a common_name: the CSR has none")
        names = self._allowed_names(policy, cn, (*alt_names, *request.dns_names))
        not_before, not_after = self._validity(ca, self._leaf_ttl(policy, ttl))
        fields = self._leaf_fields(ca, policy, names, request.public_key, not_before, not_after)
        return self._issue(ca, fields, private_key=None)

    def _allowed_names(self, role: Role, common_name: object, alt_names: Sequence[str]) -> builtins.list[str]:
        if isinstance(alt_names, str):
            raise InvalidType("alt_names must be a sequence of names, not one str")
        names = list(dict.fromkeys([check_dns_name(common_name), *map(check_dns_name, alt_names)]))
        for name in names:
            allowed = role.allow_any_name or is_allowed(
                name,
                role.allowed_domains,
                allow_bare_domains=role.allow_bare_domains,
                allow_subdomains=role.allow_subdomains,
                allow_glob_domains=role.allow_glob_domains,
            )
            if not allowed:
                raise InvalidArgument(f"the role does not allow the name {name!r}")
        return names

    def _leaf_ttl(self, role: Role, ttl: datetime.timedelta | None) -> datetime.timedelta:
        chosen = _check_ttl(ttl) if ttl is not None else (role.ttl or role.max_ttl)
        if chosen > role.max_ttl:
            raise InvalidArgument(f"ttl {chosen} exceeds the role's max_ttl {role.max_ttl}")
        return chosen

    def _validity(
        self, ca: _ActiveCa, ttl: datetime.timedelta
    ) -> tuple[datetime.datetime, datetime.datetime]:
        now = self._now()
        not_after = _later(now, ttl, "the certificate's validity")
        ca_expiry = ca.certificate.not_valid_after_utc
        if not_after > ca_expiry:
            raise InvalidArgument(
                f"the certificate would outlive CA {ca.name!r} (expires {ca_expiry.isoformat()}); "
                "ask for a shorter ttl"
            )
        return max(now - _BACKDATE, ca.certificate.not_valid_before_utc), not_after

    def _leaf_fields(
        self,
        ca: _ActiveCa,
        role: Role,
        names: Sequence[str],
        subject_key: PublicKey,
        not_before: datetime.datetime,
        not_after: datetime.datetime,
    ) -> builders.CertificateFields:
        return builders.CertificateFields(
            serial_number=new_serial(),
            issuer=ca.certificate.subject,
            subject=_subject(names[0]),
            not_before=not_before,
            not_after=not_after,
            subject_public_key=subject_key,
            extensions=profiles.leaf_extensions(role, names, subject_key, ca.key.public_key),
        )

    def _issue(
        self, ca: _ActiveCa, fields: builders.CertificateFields, private_key: SigningKey | None
    ) -> IssuedCertificate:
        der = builders.build_certificate(fields, ca.key)
        record = CertRecord(issuer=ca.name, certificate=der, not_after=fields.not_after)
        try:
            self._keystore.cas(self._path("certs", record_name(fields.serial_number)), None, record.encode())
        except ConflictError:  # a 159-bit serial collision: refuse rather than overwrite
            raise ConflictError("serial number collision; issue again") from None
        return IssuedCertificate(
            serial_number=format_serial(fields.serial_number),
            certificate=_pem(der),
            issuing_ca=_pem(ca.der),
            ca_chain=tuple(_pem(c) for c in (ca.der, *ca.chain)),
            not_after=fields.not_after,
            key_type=fields.subject_public_key.key_type.name,
            private_key=None if private_key is None else private_key.pkcs8_pem(),
        )

    # -- issued certificates, revocation, CRLs ------------------------------------------------------------

    def get_certificate(self, serial: int | str) -> str:
        """The issued certificate with this serial (PEM); KeyNotFound if unknown."""
        return _pem(self._cert_entry(parse_serial(serial))[1].certificate)

    def list_certificates(self) -> builtins.list[str]:
        """Serials of every stored certificate, as ``"4f:0a:..."``."""
        prefix = self._path("certs", "")
        return [format_serial(int(p[len(prefix) :], 16)) for p in self._keystore.list(prefix)]

    def _cert_entry(self, serial: int) -> tuple[int, CertRecord]:
        path = self._path("certs", record_name(serial))
        try:
            entry = self._keystore.get_entry(path)
        except KeyNotFound:
            raise KeyNotFound(f"no certificate with serial {format_serial(serial)}") from None
        return entry.version, CertRecord.decode(entry.value, path)

    def revoke(self, serial: int | str) -> datetime.datetime:
        """Revoke an issued certificate; it appears on its CA's next CRL. Returns the revocation time.

        KeyNotFound for an unknown serial, InvalidArgument if already revoked.
        """
        number = parse_serial(serial)
        version, record = self._cert_entry(number)
        if record.revoked_at is not None:
            raise InvalidArgument(f"certificate {format_serial(number)} was already revoked")
        now = self._now()
        revoked = CertRecord(record.issuer, record.certificate, record.not_after, revoked_at=now)
        self._keystore.cas(self._path("certs", record_name(number)), version, revoked.encode())
        return now

    def crl(self, ca: str, *, lifetime: datetime.timedelta = _DEFAULT_CRL_LIFETIME) -> str:
        """A freshly signed CRL (PEM) of the certificates ``ca`` issued and that were revoked."""
        issuer = self._active_ca(ca)
        next_update = _check_ttl(lifetime)
        revoked = [
            builders.RevokedEntry(cert.serial_number, record.revoked_at)
            for record, cert in self._issued_records()
            if record.issuer == ca and record.revoked_at is not None
        ]
        state_path = self._path("crl", ca)
        try:
            entry = self._keystore.get_entry(state_path)
            version, number = entry.version, CrlState.decode(entry.value, state_path).number + 1
        except KeyNotFound:
            version, number = None, 1
        now = self._now()
        extensions: builtins.list[x509.Extension[x509.ExtensionType]] = [
            x509.Extension(x509.CRLNumber.oid, False, x509.CRLNumber(number)),
            *[
                e
                for e in profiles.ca_extensions(issuer.key.public_key, issuer.key.public_key)
                if e.oid == x509.AuthorityKeyIdentifier.oid
            ],
        ]
        der = builders.build_crl(
            issuer.certificate.subject,
            issuer.key,
            this_update=now,
            next_update=_later(now, next_update, "the CRL's lifetime"),
            revoked=revoked,
            extensions=extensions,
        )
        self._keystore.cas(state_path, version, CrlState(number).encode())
        return _pem(der, "X509 CRL")

    def _issued_records(self) -> builtins.list[tuple[CertRecord, x509.Certificate]]:
        prefix = self._path("certs", "")
        found = []
        for path in self._keystore.list(prefix):
            try:
                record = CertRecord.decode(self._keystore.get(path), path)
            except KeyNotFound:  # removed by a concurrent tidy
                continue
            found.append((record, x509.load_der_x509_certificate(record.certificate)))
        return found

    def tidy(self, *, safety_buffer: datetime.timedelta = datetime.timedelta(hours=72)) -> int:
        """Delete stored certificates (revoked or not) expired more than ``safety_buffer`` ago.

        An expired certificate needs no CRL entry (RFC 5280 3.3), so revoked
        ones go too. Returns how many were removed.
        """
        if not isinstance(safety_buffer, datetime.timedelta) or safety_buffer < datetime.timedelta(0):
            raise InvalidArgument("safety_buffer must be a non-negative datetime.timedelta")
        cutoff = self._now() - safety_buffer
        removed = 0
        for record, cert in self._issued_records():
            if record.not_after < cutoff:
                try:
                    self._keystore.delete(self._path("certs", record_name(cert.serial_number)))
                except KeyNotFound:
                    continue
                removed += 1
        return removed
