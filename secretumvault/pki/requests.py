"""Reading certificate signing requests (PKCS#10) handed to the engine.

pyca/cryptography parses the request; the signature is then checked here,
with the request's own public key, over the exact CertificationRequestInfo
bytes -- ML-DSA through :mod:`secretumvault.pqc`, so that no request is
signed into a certificate unless its signature verifies.

What the request asks for is read out for the engine to check against a
role: the subject, the subjectAltName entries (DNS, IP, URI, and the types
of any others), and the requested keyUsage, extendedKeyUsage and
basicConstraints. ``sign_csr`` takes only the names; ``sign_verbatim``
takes all of it, and refuses any other critical extension.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID

from secretumvault.errors import InvalidArgument, InvalidSignature, InvalidType, UnsupportedAlgorithm
from secretumvault.pki._der_split import sequence_members
from secretumvault.pki._parsing import PARSE_ERRORS, load_pem_or_der
from secretumvault.pki.keys import PublicKey, public_key_from_spki
from secretumvault.pki.usages import KEY_USAGES

__all__ = ["SigningRequest", "read_csr"]


@dataclass(frozen=True)
class SigningRequest:
    """A request whose signature verified: its key and the names it asks for."""

    public_key: PublicKey
    common_name: str | None
    dns_names: tuple[str, ...]
    subject: x509.Name
    ip_addresses: tuple[str, ...] = ()
    uris: tuple[str, ...] = ()
    #: subjectAltName entries of other types (email, directory names ...), by type name.
    other_san_types: tuple[str, ...] = ()
    #: Requested key usages (pyca/cryptography names), or None if the request asks for none.
    key_usage: tuple[str, ...] | None = None
    #: Requested extended key usages, or None if the request asks for none.
    ext_key_usage: tuple[x509.ObjectIdentifier, ...] | None = None
    #: Whether the request asks for basicConstraints cA=TRUE.
    asks_for_ca: bool = False
    #: Requested critical extensions other than those above, as dotted OIDs.
    other_critical: tuple[str, ...] = ()


def _load(csr: object) -> x509.CertificateSigningRequest:
    try:
        request = load_pem_or_der(csr, "CSR", x509.load_pem_x509_csr, x509.load_der_x509_csr)
        # Fields parse lazily: read them all now, so a malformed one is refused here.
        _ = (request.subject, request.signature_algorithm_oid, list(request.extensions))
    except InvalidType:  # ours, for an argument of the wrong type: not a parse error
        raise
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
    return _contents(key, request)


def _common_name(request: x509.CertificateSigningRequest) -> str | None:
    names = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) > 1:
        raise InvalidArgument("the CSR subject has more than one common name")
    return str(names[0].value) if names else None


_READ = {
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.BASIC_CONSTRAINTS,
}


def _contents(key: PublicKey, request: x509.CertificateSigningRequest) -> SigningRequest:
    dns: list[str] = []
    ips: list[str] = []
    uris: list[str] = []
    others: list[str] = []
    key_usage: tuple[str, ...] | None = None
    ext_key_usage: tuple[x509.ObjectIdentifier, ...] | None = None
    asks_for_ca = False
    for ext in request.extensions:
        value = ext.value
        if isinstance(value, x509.SubjectAlternativeName):
            for name in value:
                if isinstance(name, x509.DNSName):
                    dns.append(name.value)
                elif isinstance(name, x509.IPAddress):
                    ips.append(str(name.value))
                elif isinstance(name, x509.UniformResourceIdentifier):
                    uris.append(name.value)
                else:
                    others.append(type(name).__name__)
        elif isinstance(value, x509.KeyUsage):
            key_usage = tuple(n for n in KEY_USAGES if _asserted(value, n))
        elif isinstance(value, x509.ExtendedKeyUsage):
            ext_key_usage = tuple(value)
        elif isinstance(value, x509.BasicConstraints):
            asks_for_ca = value.ca
    critical = tuple(e.oid.dotted_string for e in request.extensions if e.critical and e.oid not in _READ)
    return SigningRequest(
        public_key=key,
        common_name=_common_name(request),
        dns_names=tuple(dns),
        subject=request.subject,
        ip_addresses=tuple(ips),
        uris=tuple(uris),
        other_san_types=tuple(dict.fromkeys(others)),
        key_usage=key_usage,
        ext_key_usage=ext_key_usage,
        asks_for_ca=asks_for_ca,
        other_critical=critical,
    )


def _asserted(usage: x509.KeyUsage, name: str) -> bool:
    # pyca/cryptography raises for encipher_only/decipher_only unless key_agreement is set.
    if name in ("encipher_only", "decipher_only") and not usage.key_agreement:
        return False
    return bool(getattr(usage, name))
