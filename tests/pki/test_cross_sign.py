"""Cross-signing: a classical root vouches for an ML-DSA intermediate; pyca accepts both paths."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from secretumvault.errors import InvalidArgument
from secretumvault.pki import PkiEngine, Role, verify_chain

from .conftest import START
from .helpers import build_csr, name
from .x509check import assert_issued_by, load, openssl_verify, require_openssl

YEAR = datetime.timedelta(days=365)
SOON = START + datetime.timedelta(hours=1)


@pytest.fixture
def migrating(engine: PkiEngine) -> PkiEngine:
    engine.create_root("pq-root", common_name="PQ Root", key_type="ML-DSA-87")
    engine.create_root("classic-root", common_name="Classic Root", key_type="ECDSA-P256")
    engine.create_intermediate(
        "int", issuer="pq-root", common_name="Issuing CA", key_type="ML-DSA-65", ttl=YEAR
    )
    engine.put_role("web", Role(issuer="int", allowed_domains=("example.com",), allow_subdomains=True))
    return engine


def test_both_paths_validate(migrating: PkiEngine) -> None:
    csr = migrating.generate_cross_sign_csr("int")
    assert x509.load_pem_x509_csr(csr.encode()).subject == load(migrating.ca_certificate("int")).subject
    cross = migrating.sign_intermediate("classic-root", csr, ttl=YEAR // 2, use_csr_values=True)
    original, crossed = load(migrating.ca_certificate("int")), load(cross.certificate)
    # The same CA: subject, key and key identifier; another issuer, signed with ECDSA.
    assert crossed.subject == original.subject
    assert crossed.public_key() == original.public_key()
    ski = x509.SubjectKeyIdentifier
    assert (
        crossed.extensions.get_extension_for_class(ski).value
        == original.extensions.get_extension_for_class(ski).value
    )
    assert crossed.signature_algorithm_oid == x509.SignatureAlgorithmOID.ECDSA_WITH_SHA256
    classic, pq = load(migrating.ca_certificate("classic-root")), load(migrating.ca_certificate("pq-root"))
    assert_issued_by(crossed, classic)
    # A leaf the intermediate issued validates up either root, for its server name.
    leaf = migrating.issue("web", "www.example.com").certificate
    via_pq = verify_chain([leaf, original], pq, at=SOON, server_name="www.example.com")
    via_classic = verify_chain([leaf, crossed], classic, at=SOON, server_name="www.example.com")
    assert [c.subject for c in via_pq][-1] == pq.subject and [c.subject for c in via_classic][
        -1
    ] == classic.subject
    # Given both intermediates, pyca's path builder finds whichever root it trusts.
    assert verify_chain([leaf, original, crossed], classic, at=SOON)[-1] == classic
    assert verify_chain([leaf, crossed, original], pq, at=SOON)[-1] == pq


def test_a_pyca_csr_keeps_its_whole_subject(migrating: PkiEngine) -> None:
    subject = name("Team CA", x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"))
    cert = load(
        migrating.sign_intermediate(
            "classic-root", build_csr(subject), ttl=YEAR // 2, use_csr_values=True
        ).certificate
    )
    assert cert.subject == subject
    with pytest.raises(InvalidArgument, match="not both"):
        migrating.sign_intermediate(
            "classic-root", build_csr(subject), ttl=YEAR, common_name="X", use_csr_values=True
        )


def test_openssl_follows_the_classical_path(engine: PkiEngine, tmp_path: Path) -> None:
    # All-classical, so that OpenSSL 3.0 can check it too: a P-384 root cross-signs a P-256 intermediate.
    require_openssl(ml_dsa=False)
    engine.create_root("old", common_name="Old Root", key_type="ECDSA-P256")
    new_root = engine.create_root("new", common_name="New Root", key_type="ECDSA-P384")
    engine.create_intermediate("int", issuer="old", common_name="Issuing", key_type="ECDSA-P256", ttl=YEAR)
    engine.put_role("web", Role(issuer="int", allow_any_name=True, key_type="ECDSA-P256"))
    leaf = engine.issue("web", "www.example.com").certificate
    cross = engine.sign_intermediate(
        "new", engine.generate_cross_sign_csr("int"), ttl=YEAR // 2, use_csr_values=True
    )
    result = openssl_verify(tmp_path, SOON, new_root, [cross.certificate], leaf)
    assert result.returncode == 0, result.stdout + result.stderr
