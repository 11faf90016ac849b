"""The PKI engine: certificate authorities, roles, issuance, revocation, CRLs, OCSP, tidy.

Every operation checks all of its inputs before it writes anything, and
writes at most one record with a compare-and-set, so a refused or failed
call leaves the keystore as it was. (``create_intermediate`` is three steps
and undoes the first if the second fails; ``tidy`` deletes one record at a
time.)

Parameter names follow Vault's PKI engine (``ip_sans``, ``uri_sans``,
``permitted_dns_domains``, ``issuing_certificates`` ...), so that an HTTP
front end can pass Vault's requests through.
"""

from __future__ import annotations

import builtins
import datetime
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
    PolicyViolation,
)
from secretumvault.keystore import Keystore
from secretumvault.pki import builders, leaves, profiles
from secretumvault.pki._der_split import sequence_members
from secretumvault.pki._store import ActiveCa, MountStore, check_name, later
from secretumvault.pki.bundle import chain_above, read_ca_bundle
from secretumvault.pki.constraints import (
    check_dns_domains,
    name_constraints_extension,
)
from secretumvault.pki.keys import PublicKey, SigningKey, generate_key, key_identifier
from secretumvault.pki.names import check_dns_name
from secretumvault.pki.records import CaRecord, CertRecord
from secretumvault.pki.requests import read_csr
from secretumvault.pki.revocation import Revocations
from secretumvault.pki.roles import ANY_KEY_TYPE, Role
from secretumvault.pki.serials import format_serial, new_serial, parse_serial, record_name
from secretumvault.pki.settings import CrlSettings, DistributionUrls
from secretumvault.pki.verify import load_certificate

__all__ = ["IssuedCertificate", "PkiEngine"]

#: Leaves are backdated this much, as Vault does, to absorb clock skew between machines.
_BACKDATE = datetime.timedelta(seconds=30)
_DEFAULT_CA_TTL = datetime.timedelta(days=3650)
_SPKI_FIELD = 6  # version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _pem(der: bytes, label: str = "CERTIFICATE") -> str:
    if label == "CERTIFICATE":
        return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode("ascii")
    return x509.load_der_x509_csr(der).public_bytes(Encoding.PEM).decode("ascii")


def _subject(common_name: object) -> x509.Name:
    if not isinstance(common_name, str):
        raise InvalidType(f"common_name must be str, not {type(common_name).__name__}")
    if not 0 < len(common_name) <= 64:  # RFC 5280 ub-common-name
        raise InvalidArgument(f"common_name must be 1 to 64 characters, not {len(common_name)}")
    try:
        common_name.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF8String can hold it
        raise InvalidArgument("common_name is not valid Unicode text") from None
    # pyca/cryptography counts UTF-8 bytes against the 64; RFC 5280's bound is in characters,
    # checked above, so its check is turned off (40 x "é" is 40 characters, 80 bytes). It still
    # emits a UserWarning here and wherever such a name is parsed; that is all it does.
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name, _validate=False)])


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate as issued: PEM, its serial, the chain above it, and (for ``issue``) its key.

    The private key (RFC 5958 PKCS#8 PEM; for ML-DSA the RFC 9881 seed form
    wherever the key has a seed) is returned once and never stored; it is
    kept out of ``repr``.
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
class _Leaf:
    """A leaf's checked contents: its subject and what its extensions say."""

    subject: x509.Name
    contents: profiles.LeafContents


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
        self._store = MountStore(keystore, mount, clock)
        self._keystore = keystore
        self._mount = self._store.mount
        self._backend = backend
        self._revocations = Revocations(self._store)

    def __repr__(self) -> str:
        return f"PkiEngine(mount={self._mount!r}, backend={self._backend!r})"

    def _path(self, kind: str, name: str) -> str:
        return self._store.path(kind, name)

    # -- certificate authorities -------------------------------------------------------------------

    def create_root(
        self,
        name: str,
        *,
        common_name: str,
        key_type: str = "ML-DSA-65",
        ttl: datetime.timedelta = _DEFAULT_CA_TTL,
        permitted_dns_domains: Sequence[str] = (),
        excluded_dns_domains: Sequence[str] = (),
    ) -> str:
        """Create a self-signed root CA with a new key; return its certificate (PEM).

        ``permitted_dns_domains``/``excluded_dns_domains`` put critical name
        constraints on the root itself.
        """
        path = self._path("ca", check_name(name, "CA"))
        subject = _subject(common_name)
        now = self._store.now()
        not_after = later(now, leaves.check_ttl(ttl), "the CA's validity")
        constraints = self._name_constraints(permitted_dns_domains, excluded_dns_domains)
        self._refuse_existing_ca(path, name)
        key = generate_key(key_type, self._backend)
        own_id = key_identifier(key.public_key.subject_public_key)
        der = builders.build_certificate(
            builders.CertificateFields(
                serial_number=new_serial(),
                issuer=subject,
                subject=subject,
                not_before=now,
                not_after=not_after,
                subject_public_key=key.public_key,
                extensions=profiles.ca_extensions(key.public_key, own_id, name_constraints=constraints),
            ),
            key,
        )
        self._create_ca(path, name, CaRecord(key=key, certificate=der, chain=(), csr=None))
        return _pem(der)

    def generate_intermediate(self, name: str, *, common_name: str, key_type: str = "ML-DSA-65") -> str:
        """Create an intermediate CA's key and return its CSR (PEM) for a parent to sign.

        The CA can issue once :meth:`set_signed_intermediate` gives it its certificate.
        """
        path = self._path("ca", check_name(name, "CA"))
        subject = _subject(common_name)
        self._refuse_existing_ca(path, name)
        key = generate_key(key_type, self._backend)
        csr = builders.build_csr(subject, key)
        self._create_ca(path, name, CaRecord(key=key, certificate=None, chain=(), csr=csr))
        return _pem(csr, "CERTIFICATE REQUEST")

    def generate_cross_sign_csr(self, name: str) -> str:
        """A CSR (PEM) from the existing CA ``name``'s own key, with its exact subject.

        Another root signs it with ``sign_intermediate(..., use_csr_values=True)``:
        the result certifies the same CA (same subject, same key) under that
        root, so certificates the CA issued validate up either root. This is
        how a classical root vouches for an ML-DSA CA during a migration.
        """
        ca = self._store.active_ca(name)
        return _pem(builders.build_csr(ca.certificate.subject, ca.key), "CERTIFICATE REQUEST")

    def sign_intermediate(
        self,
        issuer: str,
        csr: str | bytes,
        *,
        ttl: datetime.timedelta | None = None,
        common_name: str | None = None,
        use_csr_values: bool = False,
        permitted_dns_domains: Sequence[str] = (),
        excluded_dns_domains: Sequence[str] = (),
    ) -> IssuedCertificate:
        """Sign a CA certificate for ``csr`` with the CA ``issuer``; it is recorded (revocable).

        The subject is ``CN=common_name`` (else the CSR's common name), or the
        CSR's whole subject with ``use_csr_values`` (for cross-signing).
        ``ttl=None``: ten years, or until ``issuer`` expires if that is sooner.
        """
        ca = self._issuing_ca(issuer)
        request = read_csr(csr, self._backend)
        if not isinstance(use_csr_values, bool):
            raise InvalidType("use_csr_values must be bool")
        if use_csr_values:
            if common_name is not None:
                raise InvalidArgument("give common_name or use_csr_values, not both")
            if not request.subject:
                raise InvalidArgument("the CSR's subject is empty")
            subject = request.subject
        else:
            subject = _subject(common_name if common_name is not None else request.common_name)
        constraints = self._name_constraints(permitted_dns_domains, excluded_dns_domains)
        not_before, not_after = self._ca_validity(ca, ttl)
        fields = builders.CertificateFields(
            serial_number=new_serial(),
            issuer=ca.certificate.subject,
            subject=subject,
            not_before=not_before,
            not_after=not_after,
            subject_public_key=request.public_key,
            extensions=profiles.ca_extensions(
                request.public_key,
                ca.key_id,
                name_constraints=constraints,
                urls=self._store.urls().extensions(ca.name),
            ),
        )
        return self._issue(ca, fields, private_key=None)

    def set_signed_intermediate(
        self,
        name: str,
        certificate: str | bytes,
        *,
        issuer: str | None = None,
        chain: Sequence[str | bytes] = (),
    ) -> None:
        """Give a pending intermediate its certificate.

        ``issuer``: the CA of this engine that signed it (its signature is
        checked, and the chain is that CA's). None: the parent is elsewhere
        (another mount, another PKI), as in Vault's two-mount setup; ``chain``
        then holds the certificates above it, if known, each link checked, and
        the first must have signed the certificate.

        InvalidKey if the certificate is for another key; InvalidSignature if
        ``issuer`` did not sign it; InvalidArgument if it is not a CA
        certificate or ``chain`` is not its chain.
        """
        path = self._path("ca", check_name(name, "CA"))
        parent = None if issuer is None else self._store.active_ca(issuer)
        entry = self._keystore.get_entry(path)
        record = CaRecord.decode(entry.value, path)
        if record.certificate is not None:
            raise InvalidArgument(f"CA {name!r} already has its certificate")
        cert = load_certificate(certificate)
        if cert.version is not x509.Version.v3:
            raise InvalidArgument("a CA certificate must be X.509 v3")
        tbs_fields = sequence_members(cert.tbs_certificate_bytes, "certificate")
        if tbs_fields[_SPKI_FIELD] != record.key.public_key.spki:
            raise InvalidKey(f"the certificate is not for the key of CA {name!r}")
        if parent is not None:
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
        if parent is not None:
            above: tuple[bytes, ...] = (parent.der, *parent.chain)
        else:
            others = [load_certificate(c) for c in chain]
            above = tuple(c.public_bytes(Encoding.DER) for c in chain_above(cert, others))
        signed = record.signed(cert.public_bytes(Encoding.DER), above)
        self._keystore.cas(path, entry.version, signed.encode())

    def create_intermediate(
        self,
        name: str,
        *,
        issuer: str,
        common_name: str,
        key_type: str = "ML-DSA-65",
        ttl: datetime.timedelta | None = None,
        permitted_dns_domains: Sequence[str] = (),
        excluded_dns_domains: Sequence[str] = (),
    ) -> str:
        """Generate, sign and install an intermediate under ``issuer`` in one call; its PEM.

        ``ttl=None``: ten years, or until ``issuer`` expires if that is sooner
        (so a root and an intermediate made with the defaults always fit).
        """
        # Refuse what would fail later before any key is made or stored.
        self._ca_validity(self._issuing_ca(issuer), ttl)
        self._name_constraints(permitted_dns_domains, excluded_dns_domains)
        csr = self.generate_intermediate(name, common_name=common_name, key_type=key_type)
        try:
            signed = self.sign_intermediate(
                issuer,
                csr,
                ttl=ttl,
                permitted_dns_domains=permitted_dns_domains,
                excluded_dns_domains=excluded_dns_domains,
            )
        except Exception:
            self._keystore.delete(self._path("ca", name))  # undo: nothing was signed
            raise
        self.set_signed_intermediate(name, signed.certificate, issuer=issuer)
        return signed.certificate

    def import_ca(self, name: str, pem_bundle: str | bytes) -> str:
        """Import an existing CA from a PEM bundle (its private key, certificate and chain); its PEM.

        Vault's ``config/ca``: the migration path from another CA, classical
        (RSA, ECDSA, Ed25519, e.g. an existing Vault's) or ML-DSA. See
        :mod:`secretumvault.pki.bundle` for what the bundle must hold. An expired CA
        is imported too; issuing from it is refused.
        """
        path = self._path("ca", check_name(name, "CA"))
        bundle = read_ca_bundle(pem_bundle, self._backend)
        # An expired CA is imported, as Vault does (its CRLs and old certificates stay servable);
        # issuing from it is refused then, naming its expiry.
        self._refuse_existing_ca(path, name)
        der = bundle.certificate.public_bytes(Encoding.DER)
        chain = tuple(c.public_bytes(Encoding.DER) for c in bundle.chain)
        self._create_ca(path, name, CaRecord(key=bundle.key, certificate=der, chain=chain, csr=None))
        return _pem(der)

    def ca_certificate(self, name: str) -> str:
        """The CA's own certificate (PEM)."""
        return _pem(self._store.active_ca(name).der)

    def ca_chain(self, name: str) -> builtins.list[str]:
        """The CA's certificate followed by every issuer above it, up to the root (PEM)."""
        ca = self._store.active_ca(name)
        return [_pem(der) for der in (ca.der, *ca.chain)]

    def list_cas(self) -> builtins.list[str]:
        return self._store.names("ca")

    def delete_ca(self, name: str) -> None:
        """Delete the CA ``name`` and its key (Vault's ``DELETE issuer/:ref``); KeyNotFound if absent.

        Certificates it issued stay listed and readable; roles naming it cannot issue until they
        name another CA.
        """
        path = self._path("ca", check_name(name, "CA"))
        try:
            self._keystore.delete(path)
        except KeyNotFound:
            raise KeyNotFound(f"no CA named {name!r}") from None

    def _name_constraints(
        self, permitted: object, excluded: object
    ) -> x509.Extension[x509.ExtensionType] | None:
        return name_constraints_extension(
            check_dns_domains(permitted, "permitted_dns_domains"),
            check_dns_domains(excluded, "excluded_dns_domains"),
        )

    def _refuse_existing_ca(self, path: str, name: str) -> None:
        if path in self._keystore.list(path):
            raise InvalidArgument(f"a CA named {name!r} already exists")

    def _create_ca(self, path: str, name: str, record: CaRecord) -> None:
        try:
            self._keystore.cas(path, None, record.encode())
        except ConflictError:  # created concurrently since the check
            raise InvalidArgument(f"a CA named {name!r} already exists") from None

    def _active_ca(self, name: str) -> ActiveCa:
        return self._store.active_ca(name)

    def _issuing_ca(self, name: str) -> ActiveCa:
        """The CA, if it may sign: neither it nor any CA above it is revoked here."""
        ca = self._store.active_ca(name)
        for der in (ca.der, *ca.chain):
            cert = x509.load_der_x509_certificate(der)
            try:
                _, record = self._store.cert_entry(cert.serial_number)
            except KeyNotFound:  # a root, or a certificate issued elsewhere
                continue
            if record.certificate != der:
                continue
            when = self._revocations.revoked_at(record.issuer, cert.serial_number, record)
            if when is not None:
                raise PolicyViolation(
                    f"CA {name!r} cannot sign: the certificate of {cert.subject.rfc4514_string()} "
                    "was revoked "
                    f"by CA {record.issuer!r} at {when.isoformat()}"
                )
        return ca

    # -- settings ---------------------------------------------------------------------------------

    def set_urls(
        self,
        *,
        issuing_certificates: Sequence[str] = (),
        crl_distribution_points: Sequence[str] = (),
        ocsp_servers: Sequence[str] = (),
        delta_crl_distribution_points: Sequence[str] = (),
    ) -> DistributionUrls:
        """Vault's ``config/urls``: written into every certificate issued from now on.

        ``{{issuer_id}}`` in a URL becomes the issuing CA's name. ``delta_crl_distribution_points``
        also goes into complete CRLs signed while delta CRLs are on (their Freshest CRL extension).
        """
        urls = DistributionUrls.checked(
            issuing_certificates, crl_distribution_points, ocsp_servers, delta_crl_distribution_points
        )
        self._keystore.put(self._path("config", "urls"), urls.encode())
        return urls

    def get_urls(self) -> DistributionUrls:
        return self._store.urls()

    def set_crl_config(
        self,
        *,
        expiry: datetime.timedelta = datetime.timedelta(hours=72),
        enable_delta: bool = False,
        ocsp_expiry: datetime.timedelta = datetime.timedelta(hours=12),
    ) -> CrlSettings:
        """Vault's ``config/crl``: CRL lifetime, delta CRLs on or off, OCSP response lifetime."""
        settings = CrlSettings(expiry=expiry, enable_delta=enable_delta, ocsp_expiry=ocsp_expiry)
        self._keystore.put(self._path("config", "crl"), settings.encode())
        return settings

    def get_crl_config(self) -> CrlSettings:
        return self._store.crl_settings()

    # -- roles ------------------------------------------------------------------------------------------

    def put_role(self, name: str, role: Role) -> None:
        """Create or replace a role. Its issuer must be an existing, active CA."""
        if not isinstance(role, Role):
            raise InvalidType(f"role must be a Role, not {type(role).__name__}")
        path = self._path("roles", check_name(name, "role"))
        self._store.active_ca(role.issuer)
        self._keystore.put(path, role.to_record())

    def get_role(self, name: str) -> Role:
        path = self._path("roles", check_name(name, "role"))
        try:
            return Role.from_record(self._keystore.get(path), path)
        except KeyNotFound:
            raise KeyNotFound(f"no role named {name!r}") from None

    def delete_role(self, name: str) -> None:
        try:
            self._keystore.delete(self._path("roles", check_name(name, "role")))
        except KeyNotFound:
            raise KeyNotFound(f"no role named {name!r}") from None

    def list_roles(self) -> builtins.list[str]:
        return self._store.names("roles")

    # -- issuance -----------------------------------------------------------------------------------------

    def issue(
        self,
        role: str,
        common_name: str,
        *,
        alt_names: Sequence[str] = (),
        ip_sans: Sequence[str] = (),
        uri_sans: Sequence[str] = (),
        ttl: datetime.timedelta | None = None,
        issuer: str | None = None,
    ) -> IssuedCertificate:
        """A leaf certificate for a new key of the role's key type; the key is returned, not kept.

        Its names are ``common_name`` and ``alt_names`` (DNS), ``ip_sans`` and
        ``uri_sans``; every one must be allowed by the role (NameNotAllowed
        names the rule otherwise) and by the CA's name constraints. ``issuer``:
        another CA of this engine than the role's (Vault's ``issuer/:ref/issue/:role``).
        """
        policy = self.get_role(role)
        if policy.key_type == ANY_KEY_TYPE:
            raise InvalidArgument(f"role {role!r} accepts any key type, so it can only sign CSRs")
        ca = self._issuing_ca(policy.issuer if issuer is None else issuer)
        leaf = self._named_leaf(role, policy, ca, common_name, alt_names, ip_sans, uri_sans)
        not_before, not_after = self._validity(ca, leaves.leaf_ttl(policy, ttl))
        key = generate_key(policy.key_type, self._backend)
        return self._issue(
            ca, self._leaf_fields(ca, leaf, key.public_key, not_before, not_after), private_key=key
        )

    def sign_csr(
        self,
        role: str,
        csr: str | bytes,
        *,
        common_name: str | None = None,
        alt_names: Sequence[str] = (),
        ip_sans: Sequence[str] = (),
        uri_sans: Sequence[str] = (),
        ttl: datetime.timedelta | None = None,
        issuer: str | None = None,
    ) -> IssuedCertificate:
        """A leaf certificate for the key in ``csr``, which must verify and be of the role's key type.

        The names are ``common_name`` (else the CSR's), the arguments, and the
        CSR's DNS, IP and URI subjectAltNames; every one must be allowed by
        the role. The CSR's other extensions are not copied (see sign_verbatim).
        ``issuer``: another CA of this engine than the role's.
        """
        policy = self.get_role(role)
        ca = self._issuing_ca(policy.issuer if issuer is None else issuer)
        request = leaves.role_request(role, policy, csr, self._backend)
        cn = common_name if common_name is not None else request.common_name
        if cn is None:
            raise InvalidArgument("give a common_name: the CSR has none")
        leaf = self._named_leaf(
            role,
            policy,
            ca,
            cn,
            (*leaves.sequence(alt_names, "alt_names"), *request.dns_names),
            (*leaves.sequence(ip_sans, "ip_sans"), *request.ip_addresses),
            (*leaves.sequence(uri_sans, "uri_sans"), *request.uris),
        )
        not_before, not_after = self._validity(ca, leaves.leaf_ttl(policy, ttl))
        fields = self._leaf_fields(ca, leaf, request.public_key, not_before, not_after)
        return self._issue(ca, fields, private_key=None)

    def sign_verbatim(
        self,
        role: str,
        csr: str | bytes,
        *,
        ttl: datetime.timedelta | None = None,
        key_usage: Sequence[str] | None = None,
        ext_key_usage: Sequence[str] | None = None,
        ext_key_usage_oids: Sequence[str] | None = None,
    ) -> IssuedCertificate:
        """A leaf certificate keeping the CSR's contents, within the role's limits.

        Kept: the whole subject, every DNS, IP and URI subjectAltName, the
        requested keyUsage and extendedKeyUsage (or, when given, the
        ``key_usage``/``ext_key_usage``/``ext_key_usage_oids`` arguments;
        else the role's). Each name must be allowed by the role, each key
        usage be one of the role's, each extended key usage one the role
        grants (PolicyViolation otherwise). Refused: a CSR asking to be a CA,
        other subjectAltName types, other critical extensions.
        """
        policy = self.get_role(role)
        ca = self._issuing_ca(policy.issuer)
        request = leaves.role_request(role, policy, csr, self._backend)
        if request.asks_for_ca:
            raise PolicyViolation("the CSR asks to be a CA (basicConstraints cA=TRUE): use sign_intermediate")
        if request.other_san_types:
            raise InvalidArgument(
                "sign_verbatim keeps DNS, IP and URI names only; the CSR also has "
                + ", ".join(request.other_san_types)
            )
        if request.other_critical:
            raise InvalidArgument(
                "the CSR asks for critical extensions this engine does not issue: "
                + ", ".join(request.other_critical)
            )
        if not request.subject and not (request.dns_names or request.ip_addresses or request.uris):
            raise InvalidArgument("the CSR names nothing: no subject and no subjectAltName")
        usages = leaves.verbatim_key_usage(role, policy, request, key_usage)
        ekus = leaves.verbatim_ext_key_usage(role, policy, request, ext_key_usage, ext_key_usage_oids)
        names = leaves.checked_names(
            role, policy, ca, request.dns_names, request.ip_addresses, request.uris, request.common_name
        )
        leaf = _Leaf(
            request.subject,
            profiles.LeafContents(
                dns_names=names.dns_names,
                ip_addresses=names.ip_addresses,
                uris=names.uris,
                key_usage=usages,
                ext_key_usage=ekus,
                subject_is_empty=not request.subject,
            ),
        )
        not_before, not_after = self._validity(ca, leaves.leaf_ttl(policy, ttl))
        fields = self._leaf_fields(ca, leaf, request.public_key, not_before, not_after)
        return self._issue(ca, fields, private_key=None)

    def _named_leaf(
        self,
        role: str,
        policy: Role,
        ca: ActiveCa,
        common_name: object,
        alt_names: Sequence[object],
        ip_sans: Sequence[object],
        uri_sans: Sequence[object],
    ) -> _Leaf:
        names = leaves.checked_names(
            role,
            policy,
            ca,
            (check_dns_name(common_name), *leaves.sequence(alt_names, "alt_names")),
            leaves.sequence(ip_sans, "ip_sans"),
            leaves.sequence(uri_sans, "uri_sans"),
            None,
        )
        contents = profiles.LeafContents(
            dns_names=names.dns_names,
            ip_addresses=names.ip_addresses,
            uris=names.uris,
            key_usage=policy.key_usage,
            ext_key_usage=policy.eku_oids(),
        )
        return _Leaf(_subject(names.dns_names[0]), contents)

    def _ca_validity(
        self, ca: ActiveCa, ttl: datetime.timedelta | None
    ) -> tuple[datetime.datetime, datetime.datetime]:
        """An intermediate's validity: ``ttl`` must fit in ``ca``'s; None is the default, cut to fit."""
        if ttl is not None:
            return self._validity(ca, leaves.check_ttl(ttl))
        now = self._store.now()
        ca_expiry = ca.certificate.not_valid_after_utc
        if now >= ca_expiry:
            raise InvalidArgument(f"CA {ca.name!r} expired at {ca_expiry.isoformat()}")
        not_after = min(later(now, _DEFAULT_CA_TTL, "the certificate's validity"), ca_expiry)
        return max(now - _BACKDATE, ca.certificate.not_valid_before_utc), not_after

    def _validity(self, ca: ActiveCa, ttl: datetime.timedelta) -> tuple[datetime.datetime, datetime.datetime]:
        now = self._store.now()
        not_after = later(now, ttl, "the certificate's validity")
        ca_expiry = ca.certificate.not_valid_after_utc
        if now >= ca_expiry:
            raise InvalidArgument(f"CA {ca.name!r} expired at {ca_expiry.isoformat()}: it cannot issue")
        if not_after > ca_expiry:
            raise InvalidArgument(
                f"the certificate would outlive CA {ca.name!r} (expires {ca_expiry.isoformat()}); "
                "ask for a shorter ttl"
            )
        return max(now - _BACKDATE, ca.certificate.not_valid_before_utc), not_after

    def _leaf_fields(
        self,
        ca: ActiveCa,
        leaf: _Leaf,
        subject_key: PublicKey,
        not_before: datetime.datetime,
        not_after: datetime.datetime,
    ) -> builders.CertificateFields:
        extensions = profiles.leaf_extensions(
            leaf.contents, subject_key, ca.key_id, self._store.urls().extensions(ca.name)
        )
        return builders.CertificateFields(
            serial_number=new_serial(),
            issuer=ca.certificate.subject,
            subject=leaf.subject,
            not_before=not_before,
            not_after=not_after,
            subject_public_key=subject_key,
            extensions=extensions,
        )

    def _issue(
        self, ca: ActiveCa, fields: builders.CertificateFields, private_key: SigningKey | None
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

    # -- issued certificates, revocation, CRLs, OCSP ------------------------------------------------------

    def get_certificate(self, serial: int | str) -> str:
        """The certificate with this serial (PEM): one issued here, or a CA's own; KeyNotFound if unknown."""
        number = parse_serial(serial)
        try:
            return _pem(self._store.cert_entry(number)[1].certificate)
        except KeyNotFound:
            for ca in self._own_ca_certificates():
                if ca.serial_number == number:
                    return _pem(ca.public_bytes(Encoding.DER))
            raise

    def list_certificates(self, *, include_cas: bool = False) -> builtins.list[str]:
        """Serials of every certificate issued here, as ``"4f:0a:..."``.

        ``include_cas``: with the engine's own CA certificates too (made here, signed
        elsewhere or imported), as Vault's ``LIST pki/certs`` shows them.
        """
        serials = [int(name, 16) for name in self._store.names("certs")]
        if include_cas:
            serials += [ca.serial_number for ca in self._own_ca_certificates()]
        return [format_serial(n) for n in dict.fromkeys(serials)]

    def _own_ca_certificates(self) -> builtins.list[x509.Certificate]:
        found = []
        for name in self.list_cas():
            try:
                found.append(self._store.active_ca(name).certificate)
            except (KeyNotFound, InvalidArgument):  # deleted meanwhile, or waiting for its certificate
                continue
        return found

    def revoke(self, serial: int | str) -> datetime.datetime:
        """Revoke an issued certificate and re-sign its CA's CRL (or delta CRL); the revocation time.

        Revoking a serial again is not an error: it returns the first revocation's time.
        KeyNotFound for an unknown serial.
        """
        return self._revocations.revoke(serial)

    def crl(self, ca: str) -> str:
        """The CA's current complete CRL (PEM): the stored one, re-signed only once it has expired."""
        return self._revocations.crl(ca)

    def delta_crl(self, ca: str) -> str:
        """The CA's current delta CRL (PEM); InvalidArgument unless ``set_crl_config(enable_delta=True)``."""
        return self._revocations.delta_crl(ca)

    def crl_rotate(self, ca: str) -> str:
        """Vault's ``crl/rotate``: sign a new complete CRL (and delta) now; the complete CRL (PEM)."""
        return self._revocations.crl(ca, rotate=True)

    def ocsp(self, request: bytes) -> bytes:
        """Answer a DER OCSP request (RFC 6960) with a DER response signed by the issuing CA.

        Good, revoked or unknown for a CA of this mount; ``unauthorized`` for
        another issuer; ``malformedRequest`` for a request that does not parse.
        """
        return self._revocations.ocsp(request)

    def tidy(self, *, safety_buffer: datetime.timedelta = datetime.timedelta(hours=72)) -> int:
        """Delete stored certificates (revoked or not) expired more than ``safety_buffer`` ago.

        An expired certificate needs no CRL entry (RFC 5280 3.3), so revoked
        ones go too, with their revocation entries. Returns how many were removed.
        """
        if not isinstance(safety_buffer, datetime.timedelta) or safety_buffer < datetime.timedelta(0):
            raise InvalidArgument("safety_buffer must be a non-negative datetime.timedelta")
        return self._revocations.tidy(safety_buffer)
