"""Signing CSRs: third-party requests, ML-DSA requests, and every way a CSR is refused."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from secretumvault.errors import (
    InvalidArgument,
    InvalidSignature,
    InvalidType,
    NameNotAllowed,
    UnsupportedAlgorithm,
)
from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role
from secretumvault.pki.builders import build_csr
from secretumvault.pki.keys import generate_key
from tests.conftest import untyped

from .helpers import snapshot
from .x509check import assert_issued_by, load

ROLE = Role(issuer="root", allowed_domains=("example.com",), allow_subdomains=True, key_type="any")


@pytest.fixture
def csr_engine(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root")
    engine.put_role("any", ROLE)
    engine.put_role("mldsa65", Role(issuer="root", allowed_domains=("example.com",), allow_subdomains=True))
    return engine


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cryptography_csr(cn: str, sans: list[str]) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(cn))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), False)
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.PEM)


def test_signs_a_csr_made_by_pyca_cryptography(csr_engine: PkiEngine) -> None:
    csr = _cryptography_csr("app.example.com", ["app.example.com", "alt.example.com"])
    issued = csr_engine.sign_csr("any", csr)
    cert = load(issued.certificate)
    assert_issued_by(cert, load(csr_engine.ca_certificate("root")))
    assert issued.private_key is None and issued.key_type == "ECDSA-P256"
    assert cert.public_key() == x509.load_pem_x509_csr(csr).public_key()
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["app.example.com", "alt.example.com"]


def test_signs_an_ml_dsa_csr(csr_engine: PkiEngine, backend: str) -> None:
    key = generate_key("ML-DSA-65", backend)
    csr = build_csr(_name("svc.example.com"), key)
    cert = load(csr_engine.sign_csr("mldsa65", csr).certificate)
    assert_issued_by(cert, load(csr_engine.ca_certificate("root")))
    assert key.public_key.spki in cert.public_bytes(Encoding.DER)


def test_ed25519_csr_from_pyca_cryptography(csr_engine: PkiEngine) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    csr = x509.CertificateSigningRequestBuilder().subject_name(_name("ed.example.com")).sign(key, None)
    cert = load(csr_engine.sign_csr("any", csr.public_bytes(Encoding.DER)).certificate)
    assert cert.public_key() == key.public_key()


def test_common_name_argument_overrides_the_csr(csr_engine: PkiEngine) -> None:
    csr = _cryptography_csr("ignored.example.com", [])
    cert = load(csr_engine.sign_csr("any", csr, common_name="chosen.example.com").certificate)
    assert cert.subject.rfc4514_string() == "CN=chosen.example.com"


def _tampered(csr_pem: bytes) -> bytes:
    request = x509.load_pem_x509_csr(csr_pem)
    der = bytearray(request.public_bytes(Encoding.DER))
    position = bytes(der).index(b"app.example.com")
    der[position] = ord("b")  # "bpp.example.com": the signed bytes changed
    return bytes(der)


def test_csr_whose_signature_does_not_verify(csr_engine: PkiEngine, storage: SQLiteStorage) -> None:
    forged = _tampered(_cryptography_csr("app.example.com", []))
    before = snapshot(storage)
    with pytest.raises(InvalidSignature, match="CSR's signature does not verify"):
        csr_engine.sign_csr("any", forged)
    assert snapshot(storage) == before


def test_ml_dsa_csr_with_a_bad_signature(csr_engine: PkiEngine, backend: str, storage: SQLiteStorage) -> None:
    csr = bytearray(build_csr(_name("svc.example.com"), generate_key("ML-DSA-65", backend)))
    csr[-5] ^= 0x40
    before = snapshot(storage)
    with pytest.raises(InvalidSignature):
        csr_engine.sign_csr("mldsa65", bytes(csr))
    assert snapshot(storage) == before


def test_csr_key_type_must_match_the_role(csr_engine: PkiEngine, storage: SQLiteStorage) -> None:
    before = snapshot(storage)
    with pytest.raises(UnsupportedAlgorithm, match="certifies ML-DSA-65 keys; the CSR has ECDSA-P256"):
        csr_engine.sign_csr("mldsa65", _cryptography_csr("app.example.com", []))
    assert snapshot(storage) == before


def test_csr_with_an_unsupported_curve(csr_engine: PkiEngine, storage: SQLiteStorage) -> None:
    key = ec.generate_private_key(ec.SECP256K1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name("a.example.com"))
        .sign(key, hashes.SHA256())
    )
    before = snapshot(storage)
    with pytest.raises(UnsupportedAlgorithm, match="P-224, P-256, P-384 or P-521"):
        csr_engine.sign_csr("any", csr.public_bytes(Encoding.PEM))
    assert snapshot(storage) == before


def test_csr_signed_with_another_hash_is_refused(csr_engine: PkiEngine) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name("a.example.com"))
        .sign(key, hashes.SHA384())
    )
    with pytest.raises(UnsupportedAlgorithm, match="signature algorithm"):
        csr_engine.sign_csr("any", csr.public_bytes(Encoding.PEM))


def test_csr_san_outside_the_role(csr_engine: PkiEngine, storage: SQLiteStorage) -> None:
    csr = _cryptography_csr("app.example.com", ["app.example.com", "evil.example.org"])
    before = snapshot(storage)
    with pytest.raises(NameNotAllowed, match=r"does not allow the name 'evil\.example\.org'"):
        csr_engine.sign_csr("any", csr)
    assert snapshot(storage) == before


@pytest.mark.parametrize(
    "garbage", [b"", b"not a csr", b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END"]
)
def test_malformed_csr(csr_engine: PkiEngine, garbage: bytes) -> None:
    with pytest.raises(InvalidArgument, match="not a well-formed PKCS#10"):
        csr_engine.sign_csr("any", garbage)


def test_csr_of_wrong_type(csr_engine: PkiEngine) -> None:
    with pytest.raises(InvalidType):
        csr_engine.sign_csr("any", untyped(42))


def test_csr_without_common_name_needs_one(csr_engine: PkiEngine) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(key, hashes.SHA256())
    with pytest.raises(InvalidArgument, match="give a common_name"):
        csr_engine.sign_csr("any", csr.public_bytes(Encoding.PEM))


def test_csr_ttl_past_role_max(csr_engine: PkiEngine) -> None:
    with pytest.raises(InvalidArgument, match="exceeds the role's max_ttl"):
        csr_engine.sign_csr("any", _cryptography_csr("app.example.com", []), ttl=datetime.timedelta(days=31))
