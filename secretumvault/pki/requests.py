"""Reading certificate signing requests (PKCS#10) handed to the engine.

pyca/cryptography parses the request; the signature is then checked here,
with the request's own public key, over the exact CertificationRequestInfo
bytes -- ML-DSA through :mod:`secretumvault.pqc`, so that no request is
signed into a certificate unless its signature verifies. Only the subject's
common name and the DNS names of a subjectAltName extension are taken from
a request; every other requested attribute or extension is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID

from secretumvault.errors import InvalidArgument, InvalidSignature, UnsupportedAlgorithm
from secretumvault.pki._der_split import sequence_members
from secretumvault.pki._parsing import PARSE_ERRORS, pem_or_der
from secretumvault.pki.keys import PublicKey, public_key_from_spki

__all__ = ["SigningRequest", "read_csr"]


@dataclass(frozen=True)
class SigningRequest:
    """A request whose signature verified: its key and the names it asks for."""

    public_key: PublicKey
    common_name: str | None
    dns_names: tuple[str, ...]
    subject: x509.Name


def _load(csr: object) -> x509.CertificateSigningRequest:
    data = pem_or_der(csr, "CSR")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            request = x509.load_pem_x509_csr(data)
        else:
            request = x509.load_der_x509_csr(data)
        # Fields parse lazily: read them all now, so a malformed one is refused here.
        _ = (request.subject, request.signature_algorithm_oid, list(request.extensions))
    except PARSE_ERRORS:
        raise InvalidArgument("the CSR is not a well-formed PKCS#10 request (PEM or DER)") from None
    return request


def read_csr(csr: str | bytes, backend: str | None) -> SigningRequest:
    """Parse ``csr`` and verify its self-signature; InvalidSignature if it does not verify."""
    request = _load(csr)
    info_fields = sequence_members(request.tbs_certrequest_bytes, "CSR")
    outer = sequence_members(request.public_bytes(Encoding.DER), "CSR")
    if len(info_fields) != 4 or len(outer) != 3:
        raise InvalidArgument("the CSR does not have the PKCS#10 structure")
    key = public_key_from_spki(info_fields[2], backend)
    if outer[1] != key.key_type.signature_algorithm_der():
        raise UnsupportedAlgorithm(
            f"the CSR's signature algorithm is not the one for its {key.key_type.name} key "
            f"({key.key_type.signature_oid})"
        )
    try:
        key.verify(request.signature, request.tbs_certrequest_bytes)
    except InvalidSignature:
        raise InvalidSignature("the CSR's signature does not verify with its own public key") from None
    return SigningRequest(key, _common_name(request), _dns_names(request), request.subject)


def _common_name(request: x509.CertificateSigningRequest) -> str | None:
    names = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) > 1:
        raise InvalidArgument("the CSR subject has more than one common name")
    return str(names[0].value) if names else None


def _dns_names(request: x509.CertificateSigningRequest) -> tuple[str, ...]:
    try:
        san = request.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return ()
    value = san.value
    if not isinstance(value, x509.SubjectAlternativeName):  # cryptography maps the OID to this type
        return ()
    return tuple(value.get_values_for_type(x509.DNSName))
