"""verify_chain(): chain signatures checked through either backend, and every way it refuses."""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from secretumvault.errors import InvalidArgument, InvalidSignature, InvalidType
from secretumvault.pki import IssuedCertificate, PkiEngine, Role, verify_chain

from .conftest import START
from .x509check import load

SOON = START + datetime.timedelta(hours=1)


@pytest.fixture
def issued(engine: PkiEngine) -> IssuedCertificate:
    engine.create_root("root", common_name="Root")
    engine.create_intermediate("int", issuer="root", common_name="Issuing", ttl=datetime.timedelta(days=90))
    engine.put_role("web", Role(issuer="int", allow_any_name=True))
    return engine.issue("web", "www.example.com")


@pytest.mark.parametrize("verifier", ["oqs", "openssl"])
def test_chain_verifies_on_either_backend(issued: IssuedCertificate, verifier: str) -> None:
    from tests.conftest import skip_unless_available

    skip_unless_available(verifier)
    verify_chain([issued.certificate, *issued.ca_chain], issued.ca_chain[-1], backend=verifier, at=SOON)
    verify_chain([issued.certificate, issued.issuing_ca], issued.ca_chain[-1], backend=verifier, at=SOON)


def test_tampered_signature(issued: IssuedCertificate) -> None:
    der = bytearray(load(issued.certificate).public_bytes(Encoding.DER))
    der[-3] ^= 0x01
    with pytest.raises(InvalidSignature, match="does not verify"):
        verify_chain([bytes(der), *issued.ca_chain], issued.ca_chain[-1], at=SOON)


def test_untrusted_root(engine: PkiEngine, issued: IssuedCertificate) -> None:
    other_root = engine.create_root("other", common_name="Root")  # same name, another key
    with pytest.raises(InvalidSignature):
        verify_chain([issued.certificate, issued.issuing_ca], other_root, at=SOON)


def test_missing_intermediate(issued: IssuedCertificate) -> None:
    with pytest.raises(InvalidSignature, match="was not issued by"):
        verify_chain([issued.certificate], issued.ca_chain[-1], at=SOON)


def test_leaf_cannot_act_as_issuer(engine: PkiEngine, issued: IssuedCertificate) -> None:
    # A leaf named like the intermediate still may not sign: basicConstraints cA is false.
    with pytest.raises(InvalidSignature, match="not allowed to sign certificates"):
        verify_chain([issued.issuing_ca, issued.certificate], issued.ca_chain[-1], at=SOON)


def test_outside_validity(issued: IssuedCertificate) -> None:
    with pytest.raises(InvalidSignature, match="is not valid at"):
        verify_chain(
            [issued.certificate, *issued.ca_chain],
            issued.ca_chain[-1],
            at=START + datetime.timedelta(days=31),
        )
    with pytest.raises(InvalidSignature, match="is not valid at"):
        verify_chain(
            [issued.certificate, *issued.ca_chain], issued.ca_chain[-1], at=START - datetime.timedelta(days=1)
        )


def test_bad_arguments(issued: IssuedCertificate) -> None:
    with pytest.raises(InvalidArgument, match="empty"):
        verify_chain([], issued.ca_chain[-1])
    with pytest.raises(InvalidArgument, match="well-formed"):
        verify_chain([b"junk"], issued.ca_chain[-1])
    with pytest.raises(InvalidType):
        verify_chain([42], issued.ca_chain[-1])  # type: ignore[list-item]
