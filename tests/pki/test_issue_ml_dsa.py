"""ML-DSA-65 root CA and leaf issuance: real X.509, checked by pyca/cryptography, on every backend."""

from __future__ import annotations

import base64
import datetime
from typing import cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from secretumvault import pqc
from secretumvault.keystore import Keystore
from secretumvault.pki import PkiEngine, Role, _der
from secretumvault.pki.keys import _MlDsaSigningKey
from tests.conftest import untyped

from .conftest import PASSPHRASE, START, Clock
from .x509check import algorithm_identifier, assert_issued_by, der, keeps_seeds, load

WEB = Role(issuer="root", allowed_domains=("example.com",), allow_subdomains=True)


@pytest.fixture
def root_pem(engine: PkiEngine) -> str:
    return engine.create_root("root", common_name="Example Root", key_type="ML-DSA-65")


def test_root_is_a_self_signed_rfc9881_certificate(engine: PkiEngine, root_pem: str) -> None:
    root = load(root_pem)
    assert root.version is x509.Version.v3
    assert root.subject == root.issuer
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Example Root"
    assert_issued_by(root, root)
    # AlgorithmIdentifier with parameters ABSENT, both inside and outside the TBS.
    alg = algorithm_identifier("ML-DSA-65")
    assert der(root).count(alg) == 3  # tbs.signature, SPKI algorithm, signatureAlgorithm
    assert len(root.signature) == 3309
    constraints = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.key_encipherment
    assert root.not_valid_before_utc == START
    assert root.not_valid_after_utc == START + datetime.timedelta(days=3650)


def test_root_public_key_is_the_raw_fips204_key(engine: PkiEngine, root_pem: str) -> None:
    root = load(root_pem)
    raw = root.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert len(raw) == 1952
    spki = _der.sequence(algorithm_identifier("ML-DSA-65"), _der.bit_string(raw))
    assert root.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == spki
    assert spki in der(root)


def test_issued_leaf_verifies_and_carries_the_role(engine: PkiEngine, root_pem: str) -> None:
    engine.put_role("web", WEB)
    leaf = engine.issue("web", "www.example.com", alt_names=["api.example.com"])
    cert, root = load(leaf.certificate), load(root_pem)
    assert_issued_by(cert, root)
    assert leaf.ca_chain == (root_pem,) and leaf.issuing_ca == root_pem
    assert leaf.key_type == "ML-DSA-65"
    assert cert.public_key_algorithm_oid.dotted_string == "2.16.840.1.101.3.4.3.18"
    assert f"{cert.serial_number:x}" == leaf.serial_number.replace(":", "").lstrip("0")
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "www.example.com"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["www.example.com", "api.example.com"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_encipherment
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    # Backdated 30 s for clock skew, never before the CA; the role's max_ttl by default.
    assert cert.not_valid_before_utc == START
    assert cert.not_valid_after_utc == START + WEB.max_ttl == leaf.not_after


def _pem_body(pem: str) -> bytes:
    return base64.b64decode("".join(pem.strip().splitlines()[1:-1]))


def test_leaf_private_key_is_returned_once_and_matches(
    engine: PkiEngine, root_pem: str, backend: str
) -> None:
    engine.put_role("web", WEB)
    leaf = engine.issue("web", "www.example.com")
    assert leaf.private_key is not None and leaf.private_key.startswith("-----BEGIN PRIVATE KEY-----")
    assert "PRIVATE" not in repr(leaf)
    cert = load(leaf.certificate)
    if keeps_seeds(backend):
        # RFC 9881 seed form: pyca/cryptography loads it and it signs for the certified key.
        key = cast(mldsa.MLDSA65PrivateKey, load_pem_private_key(leaf.private_key.encode(), password=None))
        pkcs8 = _pem_body(leaf.private_key)
        seed_form = _der.octet_string(_der.context_implicit_primitive(0, pkcs8[-32:]))
        assert pkcs8 == _der.sequence(_der.integer(0), algorithm_identifier("ML-DSA-65"), seed_form)
        cast(mldsa.MLDSA65PublicKey, cert.public_key()).verify(key.sign(b"proof"), b"proof")
    else:
        # A core that keeps no seed: the RFC 9881 expandedKey form, read back through liboqs.
        pkcs8 = _pem_body(leaf.private_key)
        expanded = pkcs8[-4032:]
        assert pkcs8 == _der.sequence(
            _der.integer(0), algorithm_identifier("ML-DSA-65"), _der.octet_string(_der.octet_string(expanded))
        )
        secret = pqc.Signature("ML-DSA-65", backend="oqs").secret_key_from_bytes(expanded)
        cast(mldsa.MLDSA65PublicKey, cert.public_key()).verify(secret.sign(b"proof"), b"proof")
    # The key is not kept: nothing stored under the engine mentions it.
    assert engine.list_certificates() == [leaf.serial_number]


def test_ca_and_certificates_persist_in_the_keystore(
    engine: PkiEngine, root_pem: str, storage: object, backend: str, clock: Clock
) -> None:
    engine.put_role("web", WEB)
    first = engine.issue("web", "a.example.com")
    # A new Keystore object on the same storage, unsealed again: everything is still there.
    reopened = Keystore(untyped(storage))
    reopened.unseal(PASSPHRASE)
    again = PkiEngine(reopened, backend=backend, clock=clock)
    assert again.ca_certificate("root") == root_pem
    assert again.get_role("web") == WEB
    assert again.get_certificate(first.serial_number) == first.certificate
    second = again.issue("web", "b.example.com")
    assert_issued_by(load(second.certificate), load(root_pem))
    assert sorted(again.list_certificates()) == sorted([first.serial_number, second.serial_number])


def test_ca_key_stays_on_the_backend_that_made_it(keystore: Keystore, backend: str, clock: Clock) -> None:
    # Created on one backend, used from an engine configured for the other: the CA
    # still signs with its own key (loaded on its own backend), and verifies.
    maker = PkiEngine(keystore, backend=backend, clock=clock)
    root_pem = maker.create_root("root", common_name="Root")
    maker.put_role("web", WEB)
    other = "openssl" if backend == "oqs" else backend
    leaf = PkiEngine(keystore, backend=other, clock=clock).issue("web", "www.example.com")
    assert_issued_by(load(leaf.certificate), load(root_pem))


def test_oqs_ca_key_is_held_by_liboqs(keystore: Keystore, native: str, clock: Clock) -> None:
    from secretumvault.pki.records import CaRecord

    PkiEngine(keystore, backend=native, clock=clock).create_root("root", common_name="Root")
    record = CaRecord.decode(keystore.get("pki/ca/root"), "pki/ca/root")
    key = cast(_MlDsaSigningKey, record.key)
    assert key.backend == "oqs"
    assert type(key._secret).__module__ == "secretumvault.pqc.backends._oqs"


@pytest.mark.parametrize("name", ["ML-DSA-44", "ML-DSA-87"])
def test_other_ml_dsa_parameter_sets(engine: PkiEngine, name: str) -> None:
    root = load(engine.create_root("root", common_name="Root", key_type=name))
    assert_issued_by(root, root)
    assert der(root).count(algorithm_identifier(name)) == 3
    engine.put_role(
        "web", Role(issuer="root", allowed_domains=("example.com",), allow_subdomains=True, key_type=name)
    )
    leaf = load(engine.issue("web", "x.example.com").certificate)
    assert_issued_by(leaf, root)
    assert leaf.public_key_algorithm_oid == root.public_key_algorithm_oid
