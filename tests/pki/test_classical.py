"""Ed25519, ECDSA P-256 and RSA-3072 CAs and leaves, and mixed chains.

Classical signatures are verified by pyca/cryptography's X.509 layer itself
(``verify_directly_issued_by``, RFC 5280 path validation) and by the system
``openssl verify``, which any OpenSSL 3.x can do for these algorithms.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from secretumvault.pki import PkiEngine, Role

from .conftest import START
from .x509check import (
    assert_crl_signed_by,
    assert_issued_by,
    load,
    openssl_verify,
    require_openssl,
    verify_server_chain,
)

FAST_CLASSICAL = ["Ed25519", "ECDSA-P256"]
AN_HOUR_IN = START + datetime.timedelta(hours=1)


# The web-PKI policy of pyca/cryptography's verifier forbids Ed25519 (CA/Browser Forum rules).
@pytest.mark.parametrize("key_type", ["ECDSA-P256"])
def test_classical_chain_passes_rfc5280_path_validation(engine: PkiEngine, key_type: str) -> None:
    root = load(engine.create_root("root", common_name="Root", key_type=key_type))
    engine.create_intermediate(
        "int", issuer="root", common_name="Issuing", key_type=key_type, ttl=datetime.timedelta(days=365)
    )
    engine.put_role(
        "web", Role(issuer="int", allowed_domains=("example.com",), allow_subdomains=True, key_type=key_type)
    )
    leaf = engine.issue("web", "www.example.com")
    intermediate = load(leaf.issuing_ca)
    assert_issued_by(intermediate, root)
    assert_issued_by(load(leaf.certificate), intermediate)
    chain = verify_server_chain(load(leaf.certificate), [intermediate], root, "www.example.com", AN_HOUR_IN)
    assert [c.subject for c in chain] == [load(leaf.certificate).subject, intermediate.subject, root.subject]


def test_rsa_3072_root_and_leaf(engine: PkiEngine) -> None:
    root = load(engine.create_root("root", common_name="RSA Root", key_type="RSA-3072"))
    assert cast(rsa.RSAPublicKey, root.public_key()).key_size == 3072
    assert root.signature_algorithm_oid == x509.SignatureAlgorithmOID.RSA_WITH_SHA256
    assert_issued_by(root, root)
    # An RSA CA may certify an ML-DSA leaf and the reverse: algorithms mix freely in a chain.
    engine.put_role("web", Role(issuer="root", allowed_domains=("example.com",), allow_subdomains=True))
    leaf = load(engine.issue("web", "www.example.com").certificate)
    assert leaf.public_key_algorithm_oid.dotted_string == "2.16.840.1.101.3.4.3.18"
    assert_issued_by(leaf, root)


def test_ml_dsa_root_certifies_a_classical_intermediate(engine: PkiEngine) -> None:
    root = load(engine.create_root("root", common_name="PQ Root", key_type="ML-DSA-87"))
    engine.create_intermediate(
        "int", issuer="root", common_name="EC Issuing", key_type="ECDSA-P256", ttl=datetime.timedelta(days=30)
    )
    engine.put_role(
        "web", Role(issuer="int", allowed_domains=("example.com",), allow_subdomains=True, key_type="Ed25519")
    )
    leaf = engine.issue("web", "www.example.com")
    intermediate = load(leaf.issuing_ca)
    assert_issued_by(intermediate, root)
    assert_issued_by(load(leaf.certificate), intermediate)


@pytest.mark.parametrize("key_type", FAST_CLASSICAL)
def test_openssl_verifies_chain_and_crl(engine: PkiEngine, key_type: str, tmp_path: Path) -> None:
    require_openssl(ml_dsa=False)
    root_pem = engine.create_root("root", common_name="Root", key_type=key_type)
    engine.create_intermediate(
        "int", issuer="root", common_name="Issuing", key_type=key_type, ttl=datetime.timedelta(days=365)
    )
    engine.put_role(
        "web", Role(issuer="int", allowed_domains=("example.com",), allow_subdomains=True, key_type=key_type)
    )
    leaf = engine.issue("web", "www.example.com")
    result = openssl_verify(tmp_path, AN_HOUR_IN, root_pem, [leaf.issuing_ca], leaf.certificate)
    assert result.returncode == 0, result.stdout + result.stderr
    engine.revoke(leaf.serial_number)
    crl_pem = engine.crl("int")
    assert_crl_signed_by(x509.load_pem_x509_crl(crl_pem.encode()), load(leaf.issuing_ca))
    # openssl -crl_check: the leaf is now refused as revoked (error 23).
    revoked = openssl_verify(tmp_path, AN_HOUR_IN, root_pem, [leaf.issuing_ca], leaf.certificate, crl_pem)
    assert revoked.returncode != 0
    assert "certificate revoked" in revoked.stdout + revoked.stderr
