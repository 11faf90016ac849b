"""Keys and records at rest: tagged JSON, never pickled; corrupt records are refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from secretumvault import pqc
from secretumvault.errors import CorruptRecord, InvalidKey, UnsupportedAlgorithm
from secretumvault.keystore import Keystore
from secretumvault.pki import KEY_TYPES, PkiEngine
from secretumvault.pki.keys import generate_key, key_from_record, public_key_from_spki
from secretumvault.pki.records import CaRecord, CertRecord

from .x509check import keeps_seeds

#: RSA and the SLH-DSA "s" sets (up to seconds a signature) are slow; SLH-DSA's own tests cover them.
FAST_TYPES = [
    name
    for name in KEY_TYPES
    if not name.startswith("RSA-") and not (name.startswith("SLH-") and name.endswith("s"))
]


def _generate(name: str, backend: str) -> Any:
    if name.startswith("SLH-") and "oqs" not in pqc.available_backends():
        pytest.skip("SLH-DSA needs the native core (pyca has no SLH-DSA)")
    return generate_key(name, backend)


@pytest.mark.parametrize("name", FAST_TYPES)
def test_key_record_round_trip(name: str, backend: str) -> None:
    key = _generate(name, backend)
    record = json.loads(key.to_record())
    assert record["format"] == "secretumvault-pki-key" and record["version"] == 1
    assert record["key_type"] == name
    if key.key_type.is_ml_dsa:
        assert record["backend"] == backend
        assert record["encoding"] == ("fips204-seed" if keeps_seeds(backend) else "fips204-expanded")
        if keeps_seeds(backend):
            assert len(base64.b64decode(record["private"])) == 32  # the seed, not 4 KB of expanded key
    elif key.key_type.is_composite:  # the draft's mldsaSeed || tradSK
        assert record["encoding"] == "composite-ml-dsa"
    elif key.key_type.is_slh_dsa:  # FIPS 205's SK.seed || SK.prf || PK.seed: 3n bytes, the key 2n
        assert record["encoding"] == "fips205-seed"
        assert len(base64.b64decode(record["private"])) * 2 == len(key.public_key.subject_public_key) * 3
    else:
        assert record["encoding"] == "pkcs8-der"
    loaded = key_from_record(key.to_record(), "test")
    assert loaded.public_key.spki == key.public_key.spki
    key.public_key.verify(loaded.sign(b"tbs"), b"tbs")


@pytest.mark.parametrize("name", FAST_TYPES)
def test_key_repr_hides_the_key(name: str, backend: str) -> None:
    key = _generate(name, backend)
    assert repr(key).endswith(f"({name}, <private>)")


def test_rsa_key_record_round_trip() -> None:
    key = generate_key("RSA-3072")
    loaded = key_from_record(key.to_record(), "test")
    key.public_key.verify(loaded.sign(b"tbs"), b"tbs")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: b"\x80\x04pickle", r"not a valid secretumvault-pki-key record \(not JSON\)"),
        (
            lambda r: json.dumps({**json.loads(r), "format": "other"}).encode(),
            "format is not 'secretumvault-pki-key'",
        ),
        (lambda r: json.dumps({**json.loads(r), "version": 2}).encode(), "version 2"),
        (lambda r: json.dumps({**json.loads(r), "encoding": "raw"}).encode(), "unknown ML-DSA key encoding"),
        (lambda r: json.dumps({**json.loads(r), "private": "!!"}).encode(), "bad base64"),
        (
            lambda r: json.dumps({k: v for k, v in json.loads(r).items() if k != "public"}).encode(),
            "'public'",
        ),
    ],
)
def test_corrupt_key_records(mutate: Callable[[bytes], bytes], message: str, backend: str) -> None:
    record = generate_key("ML-DSA-44", backend).to_record()
    with pytest.raises(CorruptRecord, match=message):
        key_from_record(mutate(record), "pki/ca/x")


def test_seed_record_with_a_mismatched_public_key() -> None:
    record = json.loads(generate_key("ML-DSA-44", "openssl").to_record())
    record["public"] = json.loads(generate_key("ML-DSA-44", "openssl").to_record())["public"]
    with pytest.raises(CorruptRecord, match="does not match the seed"):
        key_from_record(json.dumps(record).encode(), "pki/ca/x")


def test_classical_record_claiming_another_type() -> None:
    record = json.loads(generate_key("Ed25519").to_record())
    record["key_type"] = "ECDSA-P256"
    with pytest.raises(CorruptRecord, match="record says ECDSA-P256, key is Ed25519"):
        key_from_record(json.dumps(record).encode(), "pki/ca/x")


def test_ca_record_holds_key_and_certificate_in_one_write(engine: PkiEngine, keystore: Keystore) -> None:
    engine.create_root("root", common_name="Root")
    assert keystore.list("pki/") == ["pki/ca/root"]
    raw = json.loads(keystore.get("pki/ca/root"))
    assert raw["format"] == "secretumvault-pki-ca" and raw["csr"] is None and raw["chain"] == []
    record = CaRecord.decode(keystore.get("pki/ca/root"), "pki/ca/root")
    assert record.certificate is not None


def test_cert_records_are_tagged(engine: PkiEngine, keystore: Keystore) -> None:
    from secretumvault.pki import Role

    engine.create_root("root", common_name="Root")
    engine.put_role("web", Role(issuer="root", allow_any_name=True))
    serial = engine.issue("web", "thing").serial_number
    path = "pki/certs/" + serial.replace(":", "").lstrip("0")
    raw = json.loads(keystore.get(path))
    assert raw["format"] == "secretumvault-pki-cert" and raw["issuer"] == "root" and raw["revoked_at"] is None
    with pytest.raises(CorruptRecord, match="not_after"):
        CertRecord.decode(json.dumps({**raw, "not_after": "soon"}).encode(), path)


def test_corrupt_ca_record_is_reported(engine: PkiEngine, keystore: Keystore) -> None:
    engine.create_root("root", common_name="Root")
    keystore.put("pki/ca/root", b'{"format":"secretumvault-pki-ca","version":1}')
    with pytest.raises(CorruptRecord, match="pki/ca/root"):
        engine.ca_certificate("root")


def test_spki_of_an_unsupported_algorithm() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, x25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    x = x25519.X25519PrivateKey.generate().public_key()
    with pytest.raises(UnsupportedAlgorithm):
        public_key_from_spki(x.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo), None)
    k256 = ec.generate_private_key(ec.SECP256K1()).public_key()
    with pytest.raises(UnsupportedAlgorithm, match="P-224, P-256, P-384 or P-521"):
        public_key_from_spki(k256.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo), None)
    with pytest.raises(InvalidKey):
        public_key_from_spki(b"\x30\x03\x02\x01\x00", None)
