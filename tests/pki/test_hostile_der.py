"""Hostile DER and names at the PKI entry points (issues 22 and 29): library errors, nothing stored.

* a name attribute encoded as BIT STRING under an OID other than
  x500UniqueIdentifier made pyca/cryptography raise TypeError when the name
  was read (sign_csr, sign_verbatim, sign_intermediate, import_ca, verify_chain);
* a PKCS#8 key whose OID says Ed448 (or another curve pyca/cryptography then
  fails on) raised cryptography.exceptions.InternalError in import_ca, and
  from a stored key record;
* a CA common name of 33 to 64 multibyte characters raised ValueError
  (pyca/cryptography counts UTF-8 bytes; RFC 5280 counts characters).
"""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from secretumvault.errors import CorruptRecord, InvalidArgument, InvalidKey, InvalidType
from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.pki import PkiEngine, Role, verify_chain

from .conftest import START
from .helpers import (
    BAD_KEYS,
    bit_string_ca,
    bit_string_csr,
    build_csr,
    ca_bundle,
    name,
    pem_private_key,
    self_signed_ca,
    snapshot,
)


def test_the_crafted_csr_is_what_the_issue_describes() -> None:
    """The test input really is the one that made pyca/cryptography raise TypeError."""
    csr = x509.load_der_x509_csr(bit_string_csr())
    with pytest.raises(TypeError, match="X500_UNIQUE_IDENTIFIER"):
        _ = csr.subject


@pytest.fixture
def ready(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root", key_type="ECDSA-P256")
    engine.put_role("any", Role(issuer="root", allow_any_name=True, key_type="any"))
    return engine


def test_csr_with_a_bit_string_name_attribute(ready: PkiEngine, storage: SQLiteStorage) -> None:
    csr = bit_string_csr()
    pem = x509.load_der_x509_csr(csr).public_bytes(serialization.Encoding.PEM)
    before = snapshot(storage)
    for given in (csr, pem, pem.decode()):
        with pytest.raises(InvalidArgument, match="not a well-formed PKCS#10 request"):
            ready.sign_csr("any", given)
        with pytest.raises(InvalidArgument, match="not a well-formed PKCS#10 request"):
            ready.sign_verbatim("any", given)
        with pytest.raises(InvalidArgument, match="not a well-formed PKCS#10 request"):
            ready.sign_intermediate("root", given, use_csr_values=True)
    assert snapshot(storage) == before
    good = build_csr(name("a.example.com"))
    assert ready.sign_csr("any", good).serial_number  # the role and CA still work


def test_ca_certificate_with_a_bit_string_name_attribute(engine: PkiEngine, storage: SQLiteStorage) -> None:
    key, der = bit_string_ca()
    pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
    bundle = ca_bundle(key) + pem.decode()
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match=r"not a well-formed X\.509 certificate"):
        engine.import_ca("imported", bundle)
    with pytest.raises(InvalidArgument, match=r"not a well-formed X\.509 certificate"):
        verify_chain([der], der)
    assert snapshot(storage) == before
    good = self_signed_ca(key, name("Good CA"), START)
    assert engine.import_ca("imported", ca_bundle(key, good)).startswith("-----BEGIN CERTIFICATE")


def test_signed_intermediate_with_a_bit_string_name_attribute(
    ready: PkiEngine, storage: SQLiteStorage
) -> None:
    ready.generate_intermediate("int", common_name="Intermediate", key_type="ECDSA-P256")
    _, der = bit_string_ca()
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match=r"not a well-formed X\.509 certificate"):
        ready.set_signed_intermediate("int", der, issuer="root")
    assert snapshot(storage) == before


# -- private keys pyca/cryptography fails on with InternalError ------------------------------------


@pytest.mark.parametrize("key_der", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_import_ca_with_a_key_pyca_cannot_load(
    engine: PkiEngine, storage: SQLiteStorage, key_der: bytes
) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    cert = self_signed_ca(key, name("CA"), START).public_bytes(serialization.Encoding.PEM).decode()
    before = snapshot(storage)
    with pytest.raises(InvalidKey, match="the private key block does not parse"):
        engine.import_ca("imported", pem_private_key(key_der) + cert)
    assert snapshot(storage) == before
    assert engine.import_ca("imported", ca_bundle(key) + cert)  # the name is still free


def test_stored_classical_key_pyca_cannot_load(
    ready: PkiEngine, keystore: Keystore, storage: SQLiteStorage
) -> None:
    record = json.loads(keystore.get("pki/ca/root"))
    key = json.loads(base64.b64decode(record["key"]))
    key["private"] = base64.b64encode(BAD_KEYS["Ed448 OID, 32 bytes"]).decode()
    record["key"] = base64.b64encode(json.dumps(key).encode()).decode()
    keystore.put("pki/ca/root", json.dumps(record).encode())
    before = snapshot(storage)
    with pytest.raises(CorruptRecord, match="pki/ca/root: the ECDSA-P256 key does not parse"):
        ready.crl_rotate("root")
    assert snapshot(storage) == before


# -- common names: RFC 5280's 64 is characters, not bytes ---------------------------------------------


# pyca/cryptography warns (UTF-8 bytes over 64) each time such a name is built or parsed.
@pytest.mark.filterwarnings("ignore:Attribute's length must be:UserWarning")
@pytest.mark.parametrize("common_name", ["é" * 40, "é" * 64, "語" * 64, "a" * 64])
def test_multibyte_ca_common_names_up_to_64_characters(engine: PkiEngine, common_name: str) -> None:
    pem = engine.create_root("root", common_name=common_name, key_type="ECDSA-P256")
    cert = x509.load_pem_x509_certificate(pem.encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == common_name
    csr = engine.generate_intermediate("int", common_name=common_name, key_type="ECDSA-P256")
    issued = engine.sign_intermediate("root", csr, common_name=common_name)
    engine.set_signed_intermediate("int", issued.certificate, issuer="root")
    engine.put_role("web", Role(issuer="int", allowed_domains=("example.com",), allow_subdomains=True))
    leaf = engine.issue("web", "www.example.com")
    chain = verify_chain([leaf.certificate, issued.certificate], pem, at=START + datetime.timedelta(hours=1))
    assert [c.issuer.rfc4514_string() for c in chain[:2]] == [f"CN={common_name}"] * 2


@pytest.mark.parametrize("common_name", ["é" * 65, "a" * 65, ""])
def test_ca_common_names_over_64_characters(
    engine: PkiEngine, storage: SQLiteStorage, common_name: str
) -> None:
    before = snapshot(storage)
    with pytest.raises(
        InvalidArgument, match=f"common_name must be 1 to 64 characters, not {len(common_name)}"
    ):
        engine.create_root("root", common_name=common_name)
    with pytest.raises(InvalidArgument, match="1 to 64 characters"):
        engine.generate_intermediate("int", common_name=common_name)
    assert snapshot(storage) == before


def test_ca_common_name_that_is_not_unicode_text(engine: PkiEngine, storage: SQLiteStorage) -> None:
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match="not valid Unicode text"):
        engine.create_root("root", common_name="CA \ud800")
    with pytest.raises(InvalidType):
        engine.create_root("root", common_name=b"CA")  # type: ignore[arg-type]
    assert snapshot(storage) == before
