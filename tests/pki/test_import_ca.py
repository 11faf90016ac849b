"""Importing an external CA from a PEM bundle (Vault's config/ca): classical Vault CAs and ML-DSA CAs."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes

from secretumvault.errors import InvalidArgument, InvalidKey, InvalidType, UnsupportedAlgorithm
from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role, verify_chain
from tests.conftest import untyped

from .conftest import START
from .helpers import ca_bundle, name, self_signed_ca, snapshot
from .x509check import load, openssl_verify, require_openssl

SOON = START + datetime.timedelta(hours=1)
PKCS1 = (
    serialization.PrivateFormat.TraditionalOpenSSL
)  # "RSA PRIVATE KEY" / "EC PRIVATE KEY", as Vault writes


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _aki(cert: x509.Certificate) -> bytes | None:
    return cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier


def _ski(cert: x509.Certificate) -> bytes:
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def test_vault_rsa_root(engine: PkiEngine, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = self_signed_ca(key, name("Vault Root"), START)
    bundle = ca_bundle(key, root, key_format=PKCS1)
    assert bundle.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert engine.import_ca("vault", bundle) == _pem(root)
    assert engine.ca_chain("vault") == [_pem(root)]
    engine.put_role(
        "web",
        Role(issuer="vault", allowed_domains=("example.com",), allow_subdomains=True, key_type="ECDSA-P256"),
    )
    leaf = engine.issue("web", "www.example.com")
    cert = load(leaf.certificate)
    assert _aki(cert) == _ski(root)  # the imported root's own (SHA-1) key identifier, not ours
    verify_chain([leaf.certificate], _pem(root), at=SOON, server_name="www.example.com")
    require_openssl(ml_dsa=False)
    result = openssl_verify(tmp_path, SOON, _pem(root), [], leaf.certificate)
    assert result.returncode == 0, result.stdout + result.stderr


def test_intermediate_with_its_chain_in_any_order(engine: PkiEngine, tmp_path: Path) -> None:
    root_key, int_key = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP384R1())
    root = self_signed_ca(root_key, name("Old Root"), START)
    intermediate = self_signed_ca(int_key, name("Old Issuing"), START, issuer=(root, root_key))
    key_pem = int_key.private_bytes(serialization.Encoding.PEM, PKCS1, serialization.NoEncryption()).decode()
    engine.import_ca("old-int", _pem(root) + key_pem + _pem(intermediate))
    assert engine.ca_chain("old-int") == [_pem(intermediate), _pem(root)]
    engine.put_role("web", Role(issuer="old-int", allow_any_name=True, key_type="ECDSA-P384"))
    leaf = engine.issue("web", "www.example.com")
    assert leaf.ca_chain == (_pem(intermediate), _pem(root))
    assert load(leaf.certificate).signature_algorithm_oid == x509.SignatureAlgorithmOID.ECDSA_WITH_SHA384
    verify_chain([leaf.certificate, *leaf.ca_chain], _pem(root), at=SOON, server_name="www.example.com")
    require_openssl(ml_dsa=False)
    result = openssl_verify(tmp_path, SOON, _pem(root), [_pem(intermediate)], leaf.certificate)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ml_dsa_root_from_a_seed_pkcs8(engine: PkiEngine) -> None:
    key = mldsa.MLDSA44PrivateKey.generate()
    root = self_signed_ca(key, name("PQ Root"), START)
    engine.import_ca("pq", ca_bundle(key, root))
    engine.put_role("web", Role(issuer="pq", allow_any_name=True, key_type="ML-DSA-44"))
    leaf = engine.issue("web", "www.example.com")
    verify_chain([leaf.certificate], _pem(root), at=SOON, server_name="www.example.com")
    # The imported CA signs CRLs too, which pyca checks against the original certificate.
    crl = x509.load_pem_x509_crl(engine.crl("pq").encode())
    assert crl.is_signature_valid(cast(CertificateIssuerPublicKeyTypes, root.public_key()))


def _other() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    return key, self_signed_ca(key, name("Other"), START)


def _cases() -> list[tuple[str, object, type[Exception], str]]:
    key, root = _other()
    other_key, other_root = _other()
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = self_signed_ca(leaf_key, name("leaf"), START, issuer=(root, key), ca=False)
    k256 = ec.generate_private_key(ec.SECP256K1())
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    ).decode()
    crl_block = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"
    return [
        ("key of another certificate", ca_bundle(other_key, root), InvalidKey, "belongs to none"),
        ("a leaf certificate", ca_bundle(leaf_key, leaf), InvalidArgument, "not a CA certificate"),
        ("an encrypted key", encrypted + _pem(root), InvalidArgument, "encrypted"),
        ("an unrelated certificate", ca_bundle(key, root, other_root), InvalidArgument, "not on the chain"),
        (
            "two keys",
            ca_bundle(key, root) + ca_bundle(other_key, other_root),
            InvalidArgument,
            "exactly one private key",
        ),
        ("no key", _pem(root) + _pem(other_root), InvalidArgument, "exactly one private key"),
        (
            "a secp256k1 key",
            ca_bundle(k256, self_signed_ca(k256, name("K256"), START)),
            UnsupportedAlgorithm,
            "P-224, P-256, P-384 or P-521",
        ),
        ("a CRL block", ca_bundle(key, root) + crl_block, InvalidArgument, "X509 CRL"),
        ("garbage", "hello", InvalidArgument, "PEM blocks"),
        ("bytes of the wrong type", 42, InvalidType, "PEM text"),
    ]


@pytest.mark.parametrize(("label", "bundle", "error", "message"), _cases(), ids=[c[0] for c in _cases()])
def test_bad_bundles_store_nothing(
    engine: PkiEngine,
    storage: SQLiteStorage,
    label: str,
    bundle: object,
    error: type[Exception],
    message: str,
) -> None:
    before = snapshot(storage)
    with pytest.raises(error, match=message):
        engine.import_ca("imported", untyped(bundle))
    assert snapshot(storage) == before


def test_an_existing_name_is_refused(engine: PkiEngine, storage: SQLiteStorage) -> None:
    engine.create_root("taken", common_name="Root")
    key = ed25519.Ed25519PrivateKey.generate()
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match="already exists"):
        engine.import_ca("taken", ca_bundle(key, self_signed_ca(key, name("Ed Root"), START)))
    assert snapshot(storage) == before
