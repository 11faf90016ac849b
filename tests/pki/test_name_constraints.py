"""Name constraints on CAs: written critical, honoured by the engine, enforced by pyca and OpenSSL."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.hazmat.primitives.serialization import Encoding

from secretumvault.errors import InvalidArgument, InvalidSignature, InvalidType, NameNotAllowed
from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role, verify_chain

from .conftest import START
from .helpers import ca_bundle, name, self_signed_ca, snapshot
from .x509check import load, openssl_verify, require_openssl

SOON = START + datetime.timedelta(hours=1)
CONSTRAINTS = x509.NameConstraints(
    permitted_subtrees=[x509.DNSName("example.com")], excluded_subtrees=[x509.DNSName("secret.example.com")]
)


@pytest.fixture
def constrained(engine: PkiEngine) -> PkiEngine:
    engine.create_root(
        "root",
        common_name="Root",
        permitted_dns_domains=["example.com"],
        excluded_dns_domains=["secret.example.com"],
    )
    engine.put_role("any", Role(issuer="root", allow_any_name=True, allow_ip_sans=True))
    return engine


def test_root_carries_critical_name_constraints(constrained: PkiEngine) -> None:
    ext = load(constrained.ca_certificate("root")).extensions.get_extension_for_class(x509.NameConstraints)
    assert ext.critical and ext.value == CONSTRAINTS


@pytest.mark.parametrize(
    ("name_", "rule"),
    [
        ("www.example.org", "permitted_dns_domains"),
        ("example.com.evil.org", "permitted_dns_domains"),
        ("secret.example.com", "excluded_dns_domains"),
        ("db.secret.example.com", "excluded_dns_domains"),
    ],
)
def test_engine_refuses_names_outside(
    constrained: PkiEngine, storage: SQLiteStorage, name_: str, rule: str
) -> None:
    before = snapshot(storage)
    with pytest.raises(NameNotAllowed, match="name constraints of CA 'root'") as refused:
        constrained.issue("any", name_)
    assert refused.value.rule == rule
    with pytest.raises(NameNotAllowed):
        constrained.issue("any", "www.example.com", alt_names=[name_])
    assert snapshot(storage) == before


def test_names_inside_validate(constrained: PkiEngine) -> None:
    issued = constrained.issue("any", "www.example.com", alt_names=["example.com"], ip_sans=["10.0.0.1"])
    verify_chain([issued.certificate], issued.ca_chain[-1], at=SOON, server_name="example.com")


def test_constrained_intermediate(engine: PkiEngine, storage: SQLiteStorage) -> None:
    engine.create_root("root", common_name="Root")
    engine.create_intermediate(
        "team",
        issuer="root",
        common_name="Team CA",
        ttl=datetime.timedelta(days=30),
        permitted_dns_domains=["team.example.com"],
    )
    engine.put_role("any", Role(issuer="team", allow_any_name=True))
    ext = load(engine.ca_certificate("team")).extensions.get_extension_for_class(x509.NameConstraints)
    assert ext.critical and ext.value.permitted_subtrees == [x509.DNSName("team.example.com")]
    issued = engine.issue("any", "api.team.example.com")
    verify_chain(
        [issued.certificate, issued.issuing_ca],
        issued.ca_chain[-1],
        at=SOON,
        server_name="api.team.example.com",
    )
    before = snapshot(storage)
    with pytest.raises(NameNotAllowed, match="CA 'team'"):
        engine.issue("any", "api.other.example.com")
    assert snapshot(storage) == before


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"permitted_dns_domains": "example.com"}, InvalidType, "tuple or list"),
        ({"permitted_dns_domains": ["*.example.com"]}, InvalidArgument, "hostname"),
        ({"excluded_dns_domains": ["Example.COM"]}, InvalidArgument, "hostname"),
    ],
)
def test_bad_constraints(
    engine: PkiEngine, storage: SQLiteStorage, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    before = snapshot(storage)
    with pytest.raises(error, match=message):
        engine.create_root("root", common_name="Root", **kwargs)
    assert snapshot(storage) == before


@pytest.mark.parametrize("kind", ["ML-DSA-65", "ECDSA-P256"])
def test_verifier_enforces_what_the_engine_refuses(engine: PkiEngine, kind: str) -> None:
    # A CA whose key the test holds (imported), so it can sign a violating leaf behind the engine's back.
    key = (
        mldsa.MLDSA65PrivateKey.generate() if kind == "ML-DSA-65" else ec.generate_private_key(ec.SECP256R1())
    )
    root = self_signed_ca(key, name("Constrained"), START, constraints=CONSTRAINTS)
    engine.import_ca("imported", ca_bundle(key, root))
    engine.put_role("any", Role(issuer="imported", allow_any_name=True, key_type="ECDSA-P256"))
    with pytest.raises(NameNotAllowed):
        engine.issue("any", "www.example.org")
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    forged = self_signed_ca(
        leaf_key,
        name("www.example.org"),
        START,
        issuer=(root, key),
        ca=False,
        sans=[x509.DNSName("www.example.org")],
    )
    with pytest.raises(InvalidSignature, match="name constraint"):
        verify_chain([forged], root, at=SOON)
    fine = self_signed_ca(
        leaf_key,
        name("www.example.com"),
        START,
        issuer=(root, key),
        ca=False,
        sans=[x509.DNSName("www.example.com")],
    )
    verify_chain([fine], root, at=SOON)


def test_openssl_enforces_the_constraints(engine: PkiEngine, tmp_path: Path) -> None:
    require_openssl(ml_dsa=False)
    key = ec.generate_private_key(ec.SECP256R1())
    root = self_signed_ca(key, name("Constrained"), START, constraints=CONSTRAINTS)
    root_pem = root.public_bytes(Encoding.PEM).decode()
    engine.import_ca("imported", ca_bundle(key, root))
    engine.put_role("any", Role(issuer="imported", allow_any_name=True, key_type="ECDSA-P256"))
    ok = engine.issue("any", "www.example.com")
    assert openssl_verify(tmp_path, SOON, root_pem, [], ok.certificate).returncode == 0
    forged = self_signed_ca(
        ec.generate_private_key(ec.SECP256R1()),
        name("x"),
        START,
        issuer=(root, key),
        ca=False,
        sans=[x509.DNSName("db.secret.example.com")],
    )
    result = openssl_verify(tmp_path, SOON, root_pem, [], forged.public_bytes(Encoding.PEM).decode())
    assert result.returncode != 0 and "excluded subtree violation" in result.stdout + result.stderr
