"""ML-DSA CA keys at rest as 32-byte seeds where the key has one; expanded records keep working (issue 14)."""

from __future__ import annotations

import base64
import datetime
import json
from typing import cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from secretumvault import pqc
from secretumvault.errors import CorruptRecord
from secretumvault.keystore import Keystore
from secretumvault.pki import PkiEngine, Role, verify_chain
from secretumvault.pki.builders import CertificateFields, build_certificate
from secretumvault.pki.keys import (
    SigningKey,
    _MlDsaSigningKey,
    generate_key,
    key_from_record,
    key_identifier,
    ml_dsa_signing_key,
)
from secretumvault.pki.profiles import ca_extensions
from secretumvault.pki.records import CaRecord

from .conftest import START, Clock
from .helpers import name
from .x509check import keeps_seeds, load

SOON = START + datetime.timedelta(hours=1)


def test_ca_key_is_stored_as_its_seed(engine: PkiEngine, keystore: Keystore, backend: str) -> None:
    engine.create_root("root", common_name="Root")
    ca = json.loads(keystore.get("pki/ca/root"))
    key = json.loads(base64.b64decode(ca["key"]))
    if not keeps_seeds(backend):
        assert key["encoding"] == "fips204-expanded"
        pytest.skip(f"ML-DSA keys on {backend!r} keep no seed in this build: stored expanded, as before")
    assert key["encoding"] == "fips204-seed" and key["backend"] == backend
    assert len(base64.b64decode(key["private"])) == 32


def test_issued_key_is_rfc9881_seed_pkcs8_that_pyca_loads(engine: PkiEngine, backend: str) -> None:
    if not keeps_seeds(backend):
        pytest.skip(f"ML-DSA keys on {backend!r} keep no seed in this build: the expandedKey form is written")
    engine.create_root("root", common_name="Root")
    engine.put_role("web", Role(issuer="root", allow_any_name=True, key_type="ML-DSA-87"))
    issued = engine.issue("web", "www.example.com")
    assert issued.private_key is not None
    key = cast(mldsa.MLDSA87PrivateKey, load_pem_private_key(issued.private_key.encode(), password=None))
    cast(mldsa.MLDSA87PublicKey, load(issued.certificate).public_key()).verify(key.sign(b"proof"), b"proof")


def _expanded_only_key() -> SigningKey:
    if "oqs" not in pqc.available_backends():
        pytest.skip("expanded ML-DSA keys load only on the native 'oqs' backend, which is not built")
    fresh = generate_key("ML-DSA-65", "oqs")
    return ml_dsa_signing_key(
        "ML-DSA-65",
        "oqs",
        expanded=cast(_MlDsaSigningKey, fresh)._secret.to_bytes(),
        public=fresh.public_key.subject_public_key,
    )


def test_a_ca_key_known_only_expanded_keeps_working(keystore: Keystore, clock: Clock) -> None:
    key = _expanded_only_key()
    record = json.loads(key.to_record())
    assert record["encoding"] == "fips204-expanded"  # no seed to store: kept as before
    subject = name("Expanded Root")
    der = build_certificate(
        CertificateFields(
            serial_number=12345,
            issuer=subject,
            subject=subject,
            not_before=START,
            not_after=START + datetime.timedelta(days=365),
            subject_public_key=key.public_key,
            extensions=ca_extensions(key.public_key, key_identifier(key.public_key.subject_public_key)),
        ),
        key,
    )
    keystore.put("pki/ca/legacy", CaRecord(key=key, certificate=der, chain=(), csr=None).encode())
    engine = PkiEngine(keystore, backend="oqs", clock=clock)
    engine.put_role("web", Role(issuer="legacy", allow_any_name=True))
    issued = engine.issue("web", "www.example.com")
    verify_chain(
        [issued.certificate], engine.ca_certificate("legacy"), at=SOON, server_name="www.example.com"
    )
    crl = x509.load_pem_x509_crl(engine.crl("legacy").encode())
    assert crl.is_signature_valid(
        cast(CertificateIssuerPublicKeyTypes, load(engine.ca_certificate("legacy")).public_key())
    )


def test_a_seed_record_loads_whatever_the_core_offers() -> None:
    # A seed recorded for "oqs" loads there when the core makes keys from seeds, else on "openssl":
    # the same key either way.
    seed_key = generate_key("ML-DSA-44", "openssl")
    record = json.loads(seed_key.to_record())
    record["backend"] = "oqs"
    loaded = key_from_record(json.dumps(record).encode(), "pki/ca/x")
    assert loaded.public_key.spki == seed_key.public_key.spki
    seed_key.public_key.verify(loaded.sign(b"tbs"), b"tbs")


def test_a_malformed_seed_is_a_corrupt_record() -> None:
    record = json.loads(generate_key("ML-DSA-44", "openssl").to_record())
    record["private"] = base64.b64encode(b"\x00" * 31).decode()
    with pytest.raises(CorruptRecord):
        key_from_record(json.dumps(record).encode(), "pki/ca/x")
