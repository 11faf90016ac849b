"""A revoked CA refuses to sign, and a chain through it fails verification given CRLs (issue 13 item 5)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes

from secretumvault.errors import CertificateRevoked, InvalidSignature, PolicyViolation
from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role, verify_chain

from .conftest import START, Clock
from .helpers import build_csr, name, snapshot
from .x509check import load

YEAR = datetime.timedelta(days=365)
SOON = START + datetime.timedelta(hours=2)


@pytest.fixture
def chain_engine(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root")
    engine.create_intermediate("int", issuer="root", common_name="Issuing", ttl=YEAR)
    engine.put_role("web", Role(issuer="int", allow_any_name=True))
    engine.put_role("csr", Role(issuer="int", allow_any_name=True, key_type="any"))
    return engine


def _revoke_ca(engine: PkiEngine, ca: str) -> None:
    engine.revoke(f"{load(engine.ca_certificate(ca)).serial_number:x}")


def test_revoked_intermediate_refuses_to_sign(
    chain_engine: PkiEngine, storage: SQLiteStorage, clock: Clock
) -> None:
    issued_before = chain_engine.issue("web", "before.example.com")
    clock.advance(datetime.timedelta(hours=1))
    _revoke_ca(chain_engine, "int")
    before = snapshot(storage)
    csr = build_csr(name("svc.example.com"))
    calls: list[Callable[[], object]] = [
        lambda: chain_engine.issue("web", "www.example.com"),
        lambda: chain_engine.sign_csr("csr", csr),
        lambda: chain_engine.sign_verbatim("csr", csr),
        lambda: chain_engine.sign_intermediate("int", csr, ttl=datetime.timedelta(days=1)),
        lambda: chain_engine.create_intermediate("sub", issuer="int", common_name="Sub", ttl=YEAR),
    ]
    for call in calls:
        with pytest.raises(
            PolicyViolation, match=r"CA 'int' cannot sign: .*CN=Issuing.* was revoked by CA 'root'"
        ):
            call()
    assert snapshot(storage) == before
    # What it issued before stays recorded, and can still be revoked and listed on its CRL.
    chain_engine.revoke(issued_before.serial_number)
    assert len(verify_crl_entries(chain_engine, "int")) == 1
    # The root itself still signs.
    chain_engine.put_role("root-web", Role(issuer="root", allow_any_name=True))
    chain_engine.issue("root-web", "direct.example.com")


def verify_crl_entries(engine: PkiEngine, ca: str) -> list[int]:
    crl = x509.load_pem_x509_crl(engine.crl(ca).encode())
    assert crl.is_signature_valid(
        cast(CertificateIssuerPublicKeyTypes, load(engine.ca_certificate(ca)).public_key())
    )
    return [entry.serial_number for entry in crl]


def test_revoking_a_ca_stops_every_ca_below_it(chain_engine: PkiEngine, storage: SQLiteStorage) -> None:
    chain_engine.create_intermediate("sub", issuer="int", common_name="Sub", ttl=YEAR // 2)
    chain_engine.put_role("sub-web", Role(issuer="sub", allow_any_name=True))
    chain_engine.issue("sub-web", "ok.example.com")
    _revoke_ca(chain_engine, "int")
    before = snapshot(storage)
    with pytest.raises(PolicyViolation, match=r"CA 'sub' cannot sign: .*CN=Issuing"):
        chain_engine.issue("sub-web", "www.example.com")
    assert snapshot(storage) == before


def test_verification_given_crls_rejects_a_chain_through_a_revoked_ca(
    chain_engine: PkiEngine, clock: Clock
) -> None:
    leaf = chain_engine.issue("web", "www.example.com")
    chain, root = [leaf.certificate, leaf.issuing_ca], leaf.ca_chain[-1]
    crls = [chain_engine.crl("root"), chain_engine.crl("int")]
    assert len(verify_chain(chain, root, at=SOON, crls=crls)) == 3
    clock.advance(datetime.timedelta(hours=1))
    _revoke_ca(chain_engine, "int")
    crls = [chain_engine.crl("root"), chain_engine.crl("int")]
    with pytest.raises(CertificateRevoked, match=r"CN=Issuing .* is on the CRL of CN=Root"):
        verify_chain(chain, root, at=SOON, crls=crls)
    assert isinstance(CertificateRevoked("x"), InvalidSignature)  # callers catching InvalidSignature see it
    # Without CRLs there is nothing to say it was revoked: pyca's validator alone accepts the chain.
    assert len(verify_chain(chain, root, at=SOON)) == 3


def test_verification_needs_a_crl_for_every_issuer(chain_engine: PkiEngine) -> None:
    leaf = chain_engine.issue("web", "www.example.com")
    chain, root = [leaf.certificate, leaf.issuing_ca], leaf.ca_chain[-1]
    with pytest.raises(InvalidSignature, match="no current CRL signed by CN=Root"):
        verify_chain(chain, root, at=SOON, crls=[chain_engine.crl("int")])
    # A CRL past its nextUpdate is not current.
    crls = [chain_engine.crl("root"), chain_engine.crl("int")]
    with pytest.raises(InvalidSignature, match="no current CRL"):
        verify_chain(chain, root, at=START + datetime.timedelta(days=4), crls=crls)


def test_a_crl_from_another_key_with_the_same_name_is_ignored(chain_engine: PkiEngine) -> None:
    leaf = chain_engine.issue("web", "www.example.com")
    chain_engine.create_root("impostor", common_name="Root")  # the same subject, another key
    chain, root = [leaf.certificate, leaf.issuing_ca], leaf.ca_chain[-1]
    with pytest.raises(InvalidSignature, match="no current CRL signed by CN=Root"):
        verify_chain(chain, root, at=SOON, crls=[chain_engine.crl("impostor"), chain_engine.crl("int")])
