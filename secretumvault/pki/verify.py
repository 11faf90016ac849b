"""Chain signature checks with either backend, for chains this engine (or anyone) issued.

This is not full RFC 5280 path validation (no name constraints, policies or
revocation); use pyca/cryptography's ``x509.verification`` for TLS. It
checks what a PKI client of this engine needs and what pyca/cryptography
before version 50 cannot do for ML-DSA: each certificate is signed by the
next one (ML-DSA through :mod:`secretumvault.pqc` on ``backend``), every
issuer is a CA allowed to sign certificates, everything is valid at ``at``,
and the chain ends at the given trusted root.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from secretumvault.errors import InvalidArgument, InvalidSignature, InvalidType
from secretumvault.pki._der_split import sequence_members
from secretumvault.pki.keys import public_key_from_spki

__all__ = ["load_certificate", "verify_chain"]

_SPKI_FIELD = 6  # version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo


def load_certificate(certificate: object) -> x509.Certificate:
    """A certificate from PEM text, DER bytes or an ``x509.Certificate``; InvalidArgument if malformed."""
    if isinstance(certificate, x509.Certificate):
        return certificate
    if isinstance(certificate, str):
        certificate = certificate.encode("ascii", "replace")
    if not isinstance(certificate, (bytes, bytearray)):
        raise InvalidType(f"a certificate must be PEM text or DER bytes, not {type(certificate).__name__}")
    data = bytes(certificate)
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise InvalidArgument("not a well-formed X.509 certificate (PEM or DER)") from None


def _check_signed_by(cert: x509.Certificate, issuer: x509.Certificate, backend: str | None) -> None:
    if issuer.version is not x509.Version.v3:
        raise InvalidSignature(f"{issuer.subject.rfc4514_string()} is not an X.509 v3 CA certificate")
    if cert.issuer != issuer.subject:
        raise InvalidSignature(
            f"{cert.subject.rfc4514_string()} was not issued by {issuer.subject.rfc4514_string()}"
        )
    key = public_key_from_spki(
        sequence_members(issuer.tbs_certificate_bytes, "certificate")[_SPKI_FIELD], backend
    )
    algorithm = sequence_members(cert.public_bytes(Encoding.DER), "certificate")[1]
    if algorithm != key.key_type.signature_algorithm_der():
        raise InvalidSignature(f"{cert.subject.rfc4514_string()} is not signed with its issuer's key type")
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes)
    except InvalidSignature:
        raise InvalidSignature(f"the signature on {cert.subject.rfc4514_string()} does not verify") from None


def _check_is_ca(cert: x509.Certificate) -> None:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise InvalidSignature(f"{cert.subject.rfc4514_string()} is not a CA certificate") from None
    if not constraints.ca or not usage.key_cert_sign:
        raise InvalidSignature(f"{cert.subject.rfc4514_string()} is not allowed to sign certificates")


def verify_chain(
    chain: Sequence[str | bytes | x509.Certificate],
    trusted_root: str | bytes | x509.Certificate,
    *,
    backend: str | None = None,
    at: datetime.datetime | None = None,
) -> None:
    """None if ``chain`` (leaf first) leads by valid signatures to ``trusted_root``; else InvalidSignature.

    ``chain`` may end with the root itself or with the certificate just below it.
    """
    certs = [load_certificate(c) for c in chain]
    root = load_certificate(trusted_root)
    if not certs:
        raise InvalidArgument("the chain is empty")
    if certs[-1].public_bytes(Encoding.DER) != root.public_bytes(Encoding.DER):
        certs.append(root)
    when = at if at is not None else datetime.datetime.now(datetime.UTC)
    for cert in certs:
        if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
            raise InvalidSignature(f"{cert.subject.rfc4514_string()} is not valid at {when.isoformat()}")
    for cert, issuer in itertools.pairwise(certs):
        _check_is_ca(issuer)
        _check_signed_by(cert, issuer, backend)
    _check_signed_by(root, root, backend)
