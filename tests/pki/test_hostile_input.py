"""Hostile input at the PKI entry points: every failure is a SecretumVaultError, nothing is stored.

Issue 13 item 7: a 9000-year ttl or an unbounded CRL lifetime raised
OverflowError, and malformed DER given to verify_chain or sign_csr raised
pyca/cryptography's own InvalidVersion or DuplicateExtension.
"""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from secretumvault.errors import InvalidArgument
from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role, verify_chain
from secretumvault.pki.builders import CertificateFields, build_certificate
from secretumvault.pki.keys import generate_key
from secretumvault.pki.profiles import ca_extensions
from tests.conftest import untyped

from .conftest import START
from .helpers import snapshot

NINE_THOUSAND_YEARS = datetime.timedelta(days=9000 * 365)


@pytest.fixture
def ready(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root", key_type="ECDSA-P256")
    engine.put_role("any", Role(issuer="root", allow_any_name=True, key_type="any"))
    return engine


@pytest.mark.parametrize("ttl", [NINE_THOUSAND_YEARS, datetime.timedelta.max])
def test_root_ttl_past_year_9999(engine: PkiEngine, storage: SQLiteStorage, ttl: datetime.timedelta) -> None:
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match=r"last date X\.509 can"):
        engine.create_root("root", common_name="Root", ttl=ttl)
    assert snapshot(storage) == before


def test_role_ttl_past_year_9999() -> None:
    with pytest.raises(InvalidArgument, match=r"longer than any X\.509 validity"):
        Role(issuer="root", max_ttl=datetime.timedelta.max)


def test_leaf_ttl_past_year_9999(ready: PkiEngine, storage: SQLiteStorage) -> None:
    ready.put_role(
        "long", Role(issuer="root", allow_any_name=True, key_type="any", max_ttl=NINE_THOUSAND_YEARS)
    )
    before = snapshot(storage)
    csr = _csr()
    with pytest.raises(InvalidArgument, match=r"last date X\.509 can"):
        ready.sign_csr("long", csr, ttl=NINE_THOUSAND_YEARS)
    assert snapshot(storage) == before


def test_crl_lifetime_past_year_9999(ready: PkiEngine, storage: SQLiteStorage) -> None:
    # The CRL lifetime is a mount setting now (Vault's config/crl expiry), bounded to ten years.
    before = snapshot(storage)
    for field in ("expiry", "ocsp_expiry"):
        with pytest.raises(InvalidArgument, match="between one minute and 3650 days"):
            ready.set_crl_config(**untyped({field: datetime.timedelta.max}))
    assert snapshot(storage) == before


def _csr() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "a.example.com")])
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(name)
        .sign(key, hashes.SHA256())
        .public_bytes(Encoding.DER)
    )


def test_csr_with_an_invalid_version(ready: PkiEngine, storage: SQLiteStorage) -> None:
    der = bytearray(_csr())
    position = der.index(b"\x02\x01\x00")  # CertificationRequestInfo.version, v1 (0)
    der[position + 2] = 3
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match="not a well-formed PKCS#10"):
        ready.sign_csr("any", bytes(der))
    assert snapshot(storage) == before


def _root_der(ready: PkiEngine) -> bytes:
    return x509.load_pem_x509_certificate(ready.ca_certificate("root").encode()).public_bytes(Encoding.DER)


def test_certificate_with_an_invalid_version(ready: PkiEngine) -> None:
    der = bytearray(_root_der(ready))
    position = der.index(b"\xa0\x03\x02\x01\x02")  # [0] EXPLICIT version v3 (2)
    der[position + 4] = 7
    with pytest.raises(InvalidArgument, match=r"not a well-formed X\.509 cert"):
        verify_chain([bytes(der)], ready.ca_certificate("root"))
    with pytest.raises(InvalidArgument, match=r"not a well-formed X\.509 cert"):
        verify_chain([ready.ca_certificate("root")], bytes(der))


def test_certificate_with_a_duplicate_extension() -> None:
    key = generate_key("ECDSA-P256")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dup")])
    extensions = ca_extensions(key.public_key, b"\x01" * 20)
    der = build_certificate(
        CertificateFields(
            serial_number=1,
            issuer=name,
            subject=name,
            not_before=START,
            not_after=START + datetime.timedelta(days=1),
            subject_public_key=key.public_key,
            extensions=[*extensions, extensions[1]],  # keyUsage twice
        ),
        key,
    )
    with pytest.raises(InvalidArgument, match=r"not a well-formed X\.509 cert"):
        verify_chain([der], der)
