"""Issue 23 in the library: HMAC keys per version (and records written before them), RSA keys,
restore under a new name, and the client's spelling of a type."""

from __future__ import annotations

import base64
import hashlib
import hmac as std_hmac
import json

import pytest

from secretumvault.errors import DecryptionError, InvalidArgument, InvalidSignature, PolicyViolation
from secretumvault.keystore import Keystore
from secretumvault.transit import Transit
from tests.transit.conftest import Unchanged


def _strip_hmac_keys(keystore: Keystore, name: str) -> None:
    """Rewrite the record as a release before per-version HMAC keys wrote it."""
    path = f"transit/keys/{name}"
    record = json.loads(keystore.get(path))
    for version in record["versions"].values():
        del version["hmac_key"]
    keystore.put(path, json.dumps(record).encode())


def test_older_records_get_hmac_keys_at_first_use(
    transit: Transit, keystore: Keystore, unchanged: Unchanged
) -> None:
    transit.create_key("old", "ed25519", exportable=True)
    transit.rotate_key("old")
    _strip_hmac_keys(keystore, "old")
    check = unchanged()
    # Verifying writes nothing: no HMAC was ever made with a version that has no HMAC key.
    with pytest.raises(InvalidSignature):
        transit.verify_hmac("old", b"m", "vault:v1:" + base64.b64encode(bytes(32)).decode())
    check()
    tag = transit.hmac("old", b"m")  # the first HMAC stores a key for every version, once
    check = unchanged()
    assert transit.hmac("old", b"m") == tag  # and it is the same key from then on
    transit.verify_hmac("old", b"m", tag)
    check()
    keys = transit.export_key("old", "hmac-key")
    assert set(keys) == {1, 2} and keys[1].key != keys[2].key
    expected = std_hmac.digest(keys[2].key, b"m", hashlib.sha256)
    assert tag == "vault:v2:" + base64.b64encode(expected).decode()
    # the other versions' material is as it was: signatures made before still verify
    transit.verify("old", b"x", transit.sign("old", b"x", key_version=1))


def test_hmac_algorithms_and_refusals(transit: Transit, unchanged: Unchanged) -> None:
    transit.create_key("k", "chacha20-poly1305", exportable=True)
    key = transit.export_key("k", "hmac-key")[1].key
    for algorithm, name in [("sha2-384", "sha384"), ("sha3-256", "sha3_256"), ("sha2-224", "sha224")]:
        tag = transit.hmac("k", b"d", algorithm=algorithm)
        assert tag == "vault:v1:" + base64.b64encode(std_hmac.digest(key, b"d", name)).decode()
        transit.verify_hmac("k", b"d", tag, algorithm=algorithm)
        with pytest.raises(InvalidSignature):  # an HMAC checks only under its own algorithm
            transit.verify_hmac("k", b"d", tag, algorithm="sha2-512")
    check = unchanged()
    with pytest.raises(InvalidArgument, match="unknown HMAC algorithm"):
        transit.hmac("k", b"d", algorithm="md5")
    check()


def test_rsa_key_policy_and_rotation(transit: Transit, unchanged: Unchanged) -> None:
    transit.create_key("r", "rsa-2048")
    ct = transit.encrypt("r", b"secret", associated_data=b"order 7")
    assert transit.decrypt("r", ct, associated_data=b"order 7") == b"secret"
    check = unchanged()
    with pytest.raises(DecryptionError, match="does not decrypt"):  # the associated data is the OAEP label
        transit.decrypt("r", ct, associated_data=b"order 8")
    with pytest.raises(PolicyViolation, match="not exportable"):
        transit.export_key("r", "signing-key")
    check()
    signature = transit.sign("r", b"m", signature_algorithm="pkcs1v15")
    transit.rotate_key("r")
    transit.verify("r", b"m", signature, signature_algorithm="pkcs1v15")
    with pytest.raises(InvalidSignature):  # PSS does not accept a PKCS#1 v1.5 signature
        transit.verify("r", b"m", signature)
    assert transit.read_key("r").supports_signing and transit.read_key("r").supports_encryption


def test_restore_under_new_name_keeps_ciphertexts_and_spelling(transit: Transit) -> None:
    transit.create_key(
        "src", "ml-dsa-65", exportable=True, allow_plaintext_backup=True, client_type={"type": "mldsa-65"}
    )
    transit.create_key("box", "ml-kem-768", exportable=True, allow_plaintext_backup=True)
    ct = transit.encrypt("box", b"kept", associated_data=b"ad")
    signature = transit.sign("src", b"m")
    transit.restore_key(transit.backup_key("box"), name="box2")
    assert transit.decrypt("box2", ct, associated_data=b"ad") == b"kept"
    assert transit.read_key("box2").name == "box2"
    info = transit.restore_key(transit.backup_key("src"), name="src2")
    assert info.client_type == {"type": "mldsa-65"} and info.type == "ml-dsa-65"
    transit.verify("src2", b"m", signature)
    # A copy's copy is still bound to the first name: the backup carries it.
    transit.restore_key(transit.backup_key("box2"), name="box3")
    assert transit.decrypt("box3", ct, associated_data=b"ad") == b"kept"
    with pytest.raises(InvalidArgument):
        transit.create_key("x", "aes256-gcm96", client_type={"colour": "blue"})
