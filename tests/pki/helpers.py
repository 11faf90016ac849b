"""Small helpers shared by the PKI tests: snapshots, pyca-made CSRs and CAs, OCSP requests."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from tests.keystore.conftest import snapshot

__all__ = [
    "BAD_KEYS",
    "bit_string_ca",
    "bit_string_csr",
    "build_csr",
    "ca_bundle",
    "name",
    "ocsp_request",
    "pem_private_key",
    "self_signed_ca",
    "snapshot",
]

PrivateKey = (
    ec.EllipticCurvePrivateKey
    | rsa.RSAPrivateKey
    | ed25519.Ed25519PrivateKey
    | mldsa.MLDSA44PrivateKey
    | mldsa.MLDSA65PrivateKey
    | mldsa.MLDSA87PrivateKey
)


def name(cn: str, *more: x509.NameAttribute[str]) -> x509.Name:
    return x509.Name([*more, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name == "secp521r1":
            return hashes.SHA512()
        return hashes.SHA384() if key.curve.name == "secp384r1" else hashes.SHA256()
    if isinstance(key, rsa.RSAPrivateKey):
        return hashes.SHA256()
    return None


def build_csr(
    subject: x509.Name,
    *,
    key: PrivateKey | None = None,
    sans: Sequence[x509.GeneralName] = (),
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> bytes:
    """A PEM CSR made by pyca/cryptography (an ECDSA P-256 key unless one is given)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(key, _hash(key)).public_bytes(serialization.Encoding.PEM)


def self_signed_ca(
    key: PrivateKey,
    subject: x509.Name,
    now: datetime.datetime,
    *,
    issuer: tuple[x509.Certificate, PrivateKey] | None = None,
    constraints: x509.NameConstraints | None = None,
    ca: bool = True,
    sans: Sequence[x509.GeneralName] = (),
) -> x509.Certificate:
    """A CA certificate made by pyca/cryptography: self-signed, or signed by ``issuer``."""
    issuer_name = subject if issuer is None else issuer[0].subject
    signer = key if issuer is None else issuer[1]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, ca, ca, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    )
    if constraints is not None:
        builder = builder.add_extension(constraints, critical=True)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(signer, _hash(signer))


def ca_bundle(
    key: PrivateKey,
    *certificates: x509.Certificate,
    key_format: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8,
) -> str:
    """A PEM bundle as Vault's config/ca takes it: the key, then the certificates."""
    pem = key.private_bytes(serialization.Encoding.PEM, key_format, serialization.NoEncryption())
    return (pem + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)).decode()


def ocsp_request(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    nonce: bytes | None = None,
    algorithm: hashes.HashAlgorithm | None = None,
) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or hashes.SHA1())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


# -- hostile inputs (issues 22 and 29) --------------------------------------------------------------

MARKER = "\x00BITS"  # a valid BIT STRING body once its tag is changed: 0 unused bits, "BITS"
UTF8_MARKER = b"\x0c\x05" + MARKER.encode()
BIT_STRING_MARKER = b"\x03\x05" + MARKER.encode()


def _subject_with_marker(cn: str) -> x509.Name:
    return name(cn, x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, MARKER))


def _resigned(der: bytes, tbs: bytes, key: ed25519.Ed25519PrivateKey) -> bytes:
    """``der`` (Ed25519-signed, so its signature is its last 64 bytes) with the OU's tag made BIT STRING."""
    assert tbs.count(UTF8_MARKER) in (1, 2)  # a self-signed certificate has it in issuer and subject
    patched = tbs.replace(UTF8_MARKER, BIT_STRING_MARKER)  # same length: no outer length changes
    return der.replace(tbs, patched)[:-64] + key.sign(patched)


def bit_string_csr() -> bytes:
    key = ed25519.Ed25519PrivateKey.generate()
    csr = x509.load_pem_x509_csr(build_csr(_subject_with_marker("a.example.com"), key=key))
    return _resigned(csr.public_bytes(serialization.Encoding.DER), csr.tbs_certrequest_bytes, key)


def bit_string_ca() -> tuple[ed25519.Ed25519PrivateKey, bytes]:
    key = ed25519.Ed25519PrivateKey.generate()
    cert = self_signed_ca(key, _subject_with_marker("Bit String CA"), datetime.datetime.now(datetime.UTC))
    return key, _resigned(cert.public_bytes(serialization.Encoding.DER), cert.tbs_certificate_bytes, key)


def _der_length(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x81, n])


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(body)) + body


def pkcs8(oid_der: bytes, key_bytes: bytes) -> bytes:
    """PKCS#8 v1: version 0, AlgorithmIdentifier {oid}, privateKey OCTET STRING { OCTET STRING key }."""
    return _tlv(0x30, b"\x02\x01\x00" + _tlv(0x30, oid_der) + _tlv(0x04, _tlv(0x04, key_bytes)))


ED448_OID = b"\x06\x03\x2b\x65\x71"
ED25519_OID = b"\x06\x03\x2b\x65\x70"
X25519_OID = b"\x06\x03\x2b\x65\x6e"
BAD_KEYS = {
    "Ed448 OID, 32 bytes": pkcs8(ED448_OID, b"\x01" * 32),
    "Ed25519 OID, 57 bytes": pkcs8(ED25519_OID, b"\x01" * 57),
    "X25519 OID, 1 byte": pkcs8(X25519_OID, b"\x01"),
}


def pem_private_key(der: bytes) -> str:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----\n"
