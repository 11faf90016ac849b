"""Certificate path validation: pyca/cryptography's RFC 5280 verifier, plus CRL checks.

:func:`verify_chain` is a thin wrapper around ``cryptography.x509.verification``
(version 50 and later validate ML-DSA chains): path building, signatures,
validity, basicConstraints and pathLenConstraint, key usage, name
constraints and unknown critical extensions are all pyca/cryptography's
work, under its web-PKI profile. What the wrapper adds:

* a choice of leaf purpose: a server name (DNS name or IP address, which the
  leaf must carry, with serverAuth), one extended key usage the leaf must
  carry, or by default any leaf usage;
* revocation: given CRLs, every certificate below the trust anchor must be
  covered by a current CRL (and any delta CRLs) signed by its issuer, and
  must not be on it.

Chains with a composite ML-DSA (draft-ietf-lamps-pq-composite-sigs-19) or SLH-DSA (RFC 9909)
key or signature, which pyca/cryptography cannot verify, are validated by
:mod:`secretumvault.pki._composite_path` instead (RFC 5280's basic checks on the chain as given;
its docstring lists them), and their CRLs' signatures are checked with the library's own verifiers.

Limits of that profile: Ed25519 keys and signatures are refused (CA/Browser
Forum rules), as are RSA keys below 2048 bits.
"""

from __future__ import annotations

import datetime
import ipaddress
import itertools
from collections.abc import Callable, Sequence
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import verification
from cryptography.x509.oid import ExtensionOID, PublicKeyAlgorithmOID, SignatureAlgorithmOID

from secretumvault.errors import (
    CertificateRevoked,
    InvalidArgument,
    InvalidSignature,
    InvalidType,
    UnsupportedAlgorithm,
)
from secretumvault.pki import _composite_path
from secretumvault.pki._parsing import PARSE_ERRORS, load_pem_or_der
from secretumvault.pki.usages import eku_oid

__all__ = ["load_certificate", "load_crl", "verify_chain"]

CertificateInput = str | bytes | x509.Certificate
CrlInput = str | bytes | x509.CertificateRevocationList

_ED25519 = {PublicKeyAlgorithmOID.ED25519.dotted_string, SignatureAlgorithmOID.ED25519.dotted_string}
#: CRL extensions this module understands; any other critical one makes a CRL unusable.
_KNOWN_CRL_EXTENSIONS = {
    ExtensionOID.CRL_NUMBER,
    ExtensionOID.DELTA_CRL_INDICATOR,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
}


def _parse_every_field(cert: x509.Certificate) -> None:
    # pyca/cryptography parses some fields only when they are read: read them all now,
    # so a malformed field fails here, as InvalidArgument, and not deep inside a caller.
    _ = (cert.version, cert.serial_number, cert.issuer, cert.subject)
    _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.signature_algorithm_oid)
    _ = (cert.public_key_algorithm_oid, list(cert.extensions))
    if cert.serial_number <= 0:  # RFC 5280 4.1.2.2; pyca/cryptography only warns
        raise ValueError("serial number not positive")


def load_certificate(certificate: object) -> x509.Certificate:
    """A certificate from PEM text, DER bytes or an ``x509.Certificate``; InvalidArgument if malformed."""
    try:
        if isinstance(certificate, x509.Certificate):
            cert = certificate
        else:
            cert = load_pem_or_der(
                certificate, "certificate", x509.load_pem_x509_certificate, x509.load_der_x509_certificate
            )
        _parse_every_field(cert)
    except InvalidType:  # ours, for an argument of the wrong type: not a parse error
        raise
    except PARSE_ERRORS:
        raise InvalidArgument("not a well-formed X.509 certificate (PEM or DER)") from None
    return cert


def load_crl(crl: object) -> x509.CertificateRevocationList:
    """A CRL from PEM text, DER bytes or an ``x509.CertificateRevocationList``; else InvalidArgument."""
    try:
        if isinstance(crl, x509.CertificateRevocationList):
            loaded = crl
        else:
            loaded = load_pem_or_der(crl, "CRL", x509.load_pem_x509_crl, x509.load_der_x509_crl)
        _ = (loaded.issuer, loaded.last_update_utc, loaded.next_update_utc, list(loaded.extensions))
        _ = [(entry.serial_number, entry.revocation_date_utc) for entry in loaded]
    except InvalidType:  # ours, for an argument of the wrong type: not a parse error
        raise
    except PARSE_ERRORS:
        raise InvalidArgument("not a well-formed X.509 CRL (PEM or DER)") from None
    return loaded


def _refuse_ed25519(certs: Sequence[x509.Certificate]) -> None:
    for cert in certs:
        oids = {cert.public_key_algorithm_oid.dotted_string, cert.signature_algorithm_oid.dotted_string}
        if oids & _ED25519:
            raise UnsupportedAlgorithm(
                f"{cert.subject.rfc4514_string()} uses Ed25519, which pyca/cryptography's path "
                "validator (web-PKI profile) does not accept; check Ed25519 chains with `openssl verify`"
            )


def _server_subject(name: str) -> verification.Subject:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _server_verifier(builder: verification.PolicyBuilder, name: str) -> verification.ServerVerifier:
    try:
        return builder.build_server_verifier(_server_subject(name))
    except ValueError:  # pyca/cryptography refuses the name: not ASCII, empty labels, a wildcard ...
        raise InvalidArgument(
            f"server_name {name[:64]!r} is not a DNS name (ASCII, IDNA A-labels) or an IP address"
        ) from None


def _eku_validator(
    wanted: x509.ObjectIdentifier,
) -> Callable[[verification.Policy, x509.Certificate, x509.ExtendedKeyUsage], None]:
    def check(policy: verification.Policy, cert: x509.Certificate, eku: x509.ExtendedKeyUsage) -> None:
        if wanted not in eku:
            raise ValueError(f"the leaf's extended key usages do not include {wanted.dotted_string}")

    return check


def _verifier(
    roots: list[x509.Certificate], when: datetime.datetime, server_name: str | None, purpose: str | None
) -> verification.ServerVerifier | verification.ClientVerifier:
    builder = verification.PolicyBuilder().store(verification.Store(roots)).time(when)
    if server_name is not None and purpose is None:
        return _server_verifier(builder, server_name)  # serverAuth, name in the SAN
    ee = verification.ExtensionPolicy.webpki_defaults_ee()
    if purpose is None:
        ee = ee.may_be_present(x509.ExtendedKeyUsage, verification.Criticality.AGNOSTIC, None)
    else:
        ee = ee.require_present(
            x509.ExtendedKeyUsage, verification.Criticality.AGNOSTIC, _eku_validator(eku_oid(purpose))
        )
    if server_name is None:  # a leaf need not carry names unless it is checked for one
        ee = ee.may_be_present(x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None)
    ca = verification.ExtensionPolicy.webpki_defaults_ca()
    builder = builder.extension_policies(ca_policy=ca, ee_policy=ee)
    if server_name is not None:
        return _server_verifier(builder, server_name)
    return builder.build_client_verifier()


def verify_chain(
    chain: Sequence[CertificateInput],
    trusted_root: CertificateInput,
    *,
    at: datetime.datetime | None = None,
    crls: Sequence[CrlInput] = (),
    server_name: str | None = None,
    ext_key_usage: str | None = None,
) -> list[x509.Certificate]:
    """Validate ``chain`` (leaf first) up to ``trusted_root``; the validated path, leaf to root.

    ``chain`` may end with the root itself. ``server_name`` (a DNS name or an
    IP address) asks for a TLS server certificate for that name;
    ``ext_key_usage`` (a Vault name such as ``"ClientAuth"``, or a dotted OID)
    for a leaf carrying that usage. With ``crls``, every certificate below the
    root must be covered by a current CRL of its issuer and not be on it.

    InvalidSignature if the chain does not validate, CertificateRevoked if a
    certificate on it is revoked, UnsupportedAlgorithm for Ed25519.
    """
    if isinstance(chain, (str, bytes)) or not isinstance(chain, Sequence):
        raise InvalidType("chain must be a sequence of certificates, leaf first")
    certs = [load_certificate(c) for c in chain]
    root = load_certificate(trusted_root)
    if not certs:
        raise InvalidArgument("the chain is empty")
    if isinstance(crls, (str, bytes)) or not isinstance(crls, Sequence):
        raise InvalidType("crls must be a sequence of CRLs")
    revocation_lists = [load_crl(c) for c in crls]
    for value, what in ((server_name, "server_name"), (ext_key_usage, "ext_key_usage")):
        if value is not None and not isinstance(value, str):
            raise InvalidType(f"{what} must be str or None, not {type(value).__name__}")
    when = at if at is not None else datetime.datetime.now(datetime.UTC)
    if len(certs) > 1 and certs[-1].public_bytes(Encoding.DER) == root.public_bytes(Encoding.DER):
        certs.pop()
    if _composite_path.involves_composite([*certs, root]):
        wanted = eku_oid(ext_key_usage) if ext_key_usage is not None else None
        path = _composite_path.verify_path(certs, root, when, server_name, wanted)
    else:
        _refuse_ed25519([*certs, root])
        verifier = _verifier([root], when, server_name, ext_key_usage)
        try:
            result = verifier.verify(certs[0], certs[1:])
        except verification.VerificationError as exc:
            raise InvalidSignature(f"the chain does not validate: {exc}") from None
        path = result if isinstance(result, list) else result.chain
    if revocation_lists:
        _check_revocation(path, revocation_lists, when)
    return path


# -- revocation ------------------------------------------------------------------------------


def _crl_number(crl: x509.CertificateRevocationList) -> int | None:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return None


def _delta_base(crl: x509.CertificateRevocationList) -> int | None:
    try:
        return crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator).value.crl_number
    except x509.ExtensionNotFound:
        return None


def _usable(crl: x509.CertificateRevocationList, issuer: x509.Certificate, when: datetime.datetime) -> bool:
    """Signed by ``issuer``, current at ``when``, with no critical extension we do not understand."""
    if crl.issuer != issuer.subject or crl.next_update_utc is None:
        return False
    if not crl.last_update_utc <= when <= crl.next_update_utc:
        return False
    if any(ext.critical and ext.oid not in _KNOWN_CRL_EXTENSIONS for ext in crl.extensions):
        return False
    if _composite_path.involves_composite([issuer]):
        try:
            _composite_path.issuer_key(issuer).verify(crl.signature, crl.tbs_certlist_bytes)
        except InvalidSignature:
            return False
        return crl.signature_algorithm_oid.dotted_string == issuer.public_key_algorithm_oid.dotted_string
    try:
        # A key type CRLs cannot be signed with raises TypeError here, caught below.
        return crl.is_signature_valid(cast(CertificateIssuerPublicKeyTypes, issuer.public_key()))
    except (TypeError, ValueError):  # a key type CRLs cannot be signed with
        return False


def _revoked_serials(
    issuer: x509.Certificate, crls: Sequence[x509.CertificateRevocationList], when: datetime.datetime
) -> set[int]:
    usable = [crl for crl in crls if _usable(crl, issuer, when)]
    complete = [crl for crl in usable if _delta_base(crl) is None]
    if not complete:
        raise InvalidSignature(f"no current CRL signed by {issuer.subject.rfc4514_string()} was given")
    base = max(complete, key=lambda crl: _crl_number(crl) or 0)
    base_number = _crl_number(base) or 0
    revoked = {entry.serial_number for entry in base}
    for delta in usable:
        delta_base, number = _delta_base(delta), _crl_number(delta)
        # RFC 5280 5.2.4: a delta applies to a complete CRL at least as new as its base.
        if delta_base is not None and number is not None and delta_base <= base_number < number:
            revoked |= {entry.serial_number for entry in delta}
    return revoked


def _check_revocation(
    path: Sequence[x509.Certificate], crls: Sequence[x509.CertificateRevocationList], when: datetime.datetime
) -> None:
    for cert, issuer in itertools.pairwise(path):
        if cert.serial_number in _revoked_serials(issuer, crls, when):
            raise CertificateRevoked(
                f"{cert.subject.rfc4514_string()} (serial {cert.serial_number:x}) is on the CRL of "
                f"{issuer.subject.rfc4514_string()}"
            )
