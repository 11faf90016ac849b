"""Intermediate CAs: CSR from the new CA, signed by its parent, installed; 3-certificate chains."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.serialization import Encoding

from secretumvault.errors import InvalidArgument, InvalidKey, InvalidSignature, KeyNotFound
from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.pki import PkiEngine, Role
from secretumvault.pki.serials import format_serial

from .conftest import START, Clock
from .helpers import snapshot
from .x509check import (
    assert_issued_by,
    load,
    openssl_verify,
    require_openssl,
    verify_server_chain,
    x509_layer_supports_ml_dsa,
)

YEAR = datetime.timedelta(days=365)
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)
WEB = Role(issuer="int", allowed_domains=("example.com",), allow_subdomains=True)


@pytest.fixture
def chain_engine(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root")
    engine.create_intermediate("int", issuer="root", common_name="Issuing CA", ttl=YEAR)
    engine.put_role("web", WEB)
    return engine


def test_three_certificate_ml_dsa_chain(chain_engine: PkiEngine) -> None:
    leaf = chain_engine.issue("web", "www.example.com")
    chain = [load(pem) for pem in (leaf.certificate, *leaf.ca_chain)]
    assert [c.subject.rfc4514_string() for c in chain] == ["CN=www.example.com", "CN=Issuing CA", "CN=Root"]
    assert_issued_by(chain[0], chain[1])
    assert_issued_by(chain[1], chain[2])
    assert_issued_by(chain[2], chain[2])
    assert chain_engine.ca_chain("int") == list(leaf.ca_chain)
    intermediate = chain[1]
    assert intermediate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert intermediate.not_valid_after_utc == START + YEAR


def test_ml_dsa_chain_passes_rfc5280_path_validation(chain_engine: PkiEngine) -> None:
    if not x509_layer_supports_ml_dsa():
        pytest.skip("this pyca/cryptography has no ML-DSA in X.509 path validation (added in 50)")
    leaf = chain_engine.issue("web", "www.example.com")
    certs = [load(pem) for pem in (leaf.certificate, *leaf.ca_chain)]
    verified = verify_server_chain(
        certs[0], [certs[1]], certs[2], "www.example.com", START + datetime.timedelta(hours=1)
    )
    assert len(verified) == 3


def test_openssl_verifies_the_ml_dsa_chain(chain_engine: PkiEngine, tmp_path: Path) -> None:
    require_openssl(ml_dsa=True)
    leaf = chain_engine.issue("web", "www.example.com")
    result = openssl_verify(
        tmp_path,
        START + datetime.timedelta(hours=1),
        leaf.ca_chain[-1],
        [leaf.issuing_ca],
        leaf.certificate,
        ml_dsa=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_csr_is_signed_by_the_new_key(engine: PkiEngine) -> None:
    csr_pem = engine.generate_intermediate("int", common_name="Pending CA")
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    assert csr.subject.rfc4514_string() == "CN=Pending CA"
    key = cast(mldsa.MLDSA65PublicKey, csr.public_key())
    key.verify(csr.signature, csr.tbs_certrequest_bytes)
    assert csr.signature_algorithm_oid.dotted_string == "2.16.840.1.101.3.4.3.18"


def test_pending_intermediate_cannot_issue(engine: PkiEngine) -> None:
    engine.create_root("root", common_name="Root")
    engine.generate_intermediate("int", common_name="Pending CA")
    with pytest.raises(InvalidArgument, match="waiting for its signed certificate"):
        engine.put_role("web", WEB)
    with pytest.raises(InvalidArgument, match="waiting"):
        engine.ca_chain("int")


def test_set_signed_refuses_a_certificate_for_another_key(engine: PkiEngine, storage: SQLiteStorage) -> None:
    engine.create_root("root", common_name="Root")
    engine.generate_intermediate("int", common_name="Pending CA")
    other_csr = engine.generate_intermediate("other", common_name="Other CA")
    foreign = engine.sign_intermediate("root", other_csr, ttl=YEAR)
    before = snapshot(storage)
    with pytest.raises(InvalidKey, match="not for the key"):
        engine.set_signed_intermediate("int", foreign.certificate, issuer="root")
    assert snapshot(storage) == before


def test_set_signed_refuses_a_certificate_from_another_issuer(
    engine: PkiEngine, storage: SQLiteStorage
) -> None:
    engine.create_root("root", common_name="Root")
    engine.create_root("evil", common_name="Root")  # the same name, another key
    csr = engine.generate_intermediate("int", common_name="Pending CA")
    signed_by_evil = engine.sign_intermediate("evil", csr, ttl=YEAR)
    before = snapshot(storage)
    with pytest.raises(InvalidSignature):
        engine.set_signed_intermediate("int", signed_by_evil.certificate, issuer="root")
    assert snapshot(storage) == before


def test_set_signed_refuses_a_tampered_certificate(engine: PkiEngine, storage: SQLiteStorage) -> None:
    engine.create_root("root", common_name="Root")
    csr = engine.generate_intermediate("int", common_name="Pending CA")
    signed = load(engine.sign_intermediate("root", csr, ttl=YEAR).certificate)
    der = bytearray(signed.public_bytes(Encoding.DER))
    der[-10] ^= 0x01  # inside the signature
    before = snapshot(storage)
    with pytest.raises(InvalidSignature):
        engine.set_signed_intermediate("int", bytes(der), issuer="root")
    assert snapshot(storage) == before


def test_set_signed_refuses_a_leaf_certificate(engine: PkiEngine, storage: SQLiteStorage) -> None:
    engine.create_root("root", common_name="Root")
    engine.generate_intermediate("int", common_name="Pending CA")
    engine.put_role("any", Role(issuer="root", allow_any_name=True, key_type="any"))
    from secretumvault.pki.records import CaRecord

    record = CaRecord.decode(engine._keystore.get("pki/ca/int"), "pki/ca/int")
    assert record.csr is not None
    leaf = engine.sign_csr("any", record.csr, common_name="int.example.com")
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match="not a CA certificate"):
        engine.set_signed_intermediate("int", leaf.certificate, issuer="root")
    assert snapshot(storage) == before


def test_create_intermediate_under_unknown_issuer_stores_nothing(
    engine: PkiEngine, keystore: Keystore, storage: SQLiteStorage
) -> None:
    before = snapshot(storage)
    with pytest.raises(KeyNotFound, match="no CA named 'nope'"):
        engine.create_intermediate("int", issuer="nope", common_name="Issuing CA")
    assert snapshot(storage) == before


def test_create_intermediate_outliving_its_parent_stores_nothing(
    engine: PkiEngine, storage: SQLiteStorage
) -> None:
    engine.create_root("root", common_name="Root", ttl=YEAR)
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match="outlive CA 'root'"):
        engine.create_intermediate("int", issuer="root", common_name="Issuing CA", ttl=2 * YEAR)
    assert snapshot(storage) == before
    assert engine.list_cas() == ["root"]


def test_default_intermediate_ttl_is_cut_to_its_issuer(engine: PkiEngine, clock: Clock) -> None:
    """Defaults fit together however much time passes between the two calls (the README's example
    failed whenever they fell in different seconds); an explicit ttl that does not fit is refused."""
    engine.create_root("root", common_name="Root")
    root_expiry = load(engine.ca_certificate("root")).not_valid_after_utc
    clock.advance(datetime.timedelta(seconds=1))
    with pytest.raises(InvalidArgument, match="outlive CA 'root'"):
        engine.create_intermediate("int", issuer="root", common_name="Issuing CA", ttl=3650 * DAY)
    engine.create_intermediate("int", issuer="root", common_name="Issuing CA")
    assert load(engine.ca_certificate("int")).not_valid_after_utc == root_expiry
    engine.create_root("short", common_name="Short Root", ttl=YEAR)
    engine.create_intermediate("under-short", issuer="short", common_name="Issuing CA")
    assert load(engine.ca_certificate("under-short")).not_valid_after_utc == START + YEAR + 1 * SECOND
    clock.advance(2 * YEAR)
    with pytest.raises(InvalidArgument, match="CA 'short' expired"):
        engine.create_intermediate("late", issuer="short", common_name="Issuing CA")
    assert "late" not in engine.list_cas()


def test_intermediate_certificate_is_recorded_and_revocable(chain_engine: PkiEngine) -> None:
    intermediate = load(chain_engine.ca_certificate("int"))
    root = load(chain_engine.ca_certificate("root"))
    assert chain_engine.list_certificates() == [format_serial(intermediate.serial_number)]
    serials = chain_engine.list_certificates(include_cas=True)
    # The intermediate, issued (and recorded) here, and the root's own certificate, listed as Vault does.
    assert sorted(int(s.replace(":", ""), 16) for s in serials) == sorted(
        [intermediate.serial_number, root.serial_number]
    )
    chain_engine.revoke(format_serial(intermediate.serial_number))
    crl = x509.load_pem_x509_crl(chain_engine.crl("root").encode())
    assert crl.get_revoked_certificate_by_serial_number(intermediate.serial_number) is not None
