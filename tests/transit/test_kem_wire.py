"""KEM ciphertext bodies, rebuilt here from docs/design.md alone: format 2 written, format 1 still read.

Nothing here calls the transit KDF code: the keys are derived with hashlib
(SP 800-56C one-step, SHA3-256) and pyca's HKDF, so a change to the wire
format, the KDF or the binding fails these tests.
"""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from secretumvault import hybrid, pqc
from secretumvault.errors import DecryptionError, InvalidCiphertext
from secretumvault.pqc.keys import KemPublicKey
from secretumvault.transit import Transit
from tests.transit.conftest import KEM_TYPES, Unchanged

_ALGORITHMS = {
    "ml-kem-768": "ML-KEM-768",
    "ml-kem-1024": "ML-KEM-1024",
    "hybrid-x25519-ml-kem-768": "X25519-ML-KEM-768",
}
_ZERO_NONCE = bytes(12)


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _identity(name: str, version: int, key_type: str) -> bytes:
    return _field(name.encode()) + struct.pack(">I", version) + _field(key_type.encode())


def _associated_data(name: str, version: int, key_type: str, user_data: bytes) -> bytes:
    return b"secretumvault.transit.ciphertext.v1\x00" + _identity(name, version, key_type) + _field(user_data)


def _format2_key(shared_secret: bytes, name: str, version: int, key_type: str) -> bytes:
    fixed_info = b"secretumvault.transit.kem-aead-key.v2\x00" + _identity(name, version, key_type)
    return hashlib.sha3_256(b"\x00\x00\x00\x01" + shared_secret + fixed_info).digest()


def _format1_key(shared_secret: bytes, name: str, version: int, key_type: str) -> bytes:
    info = b"secretumvault.transit.kem-aead-key.v1\x00" + _identity(name, version, key_type)
    return HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(shared_secret)


def _body(ciphertext: str) -> bytes:
    return base64.b64decode(ciphertext.split(":", 2)[2], validate=True)


def _vault(version: int, body: bytes) -> str:
    return f"vault:v{version}:{base64.b64encode(body).decode()}"


def _public_key(
    transit: Transit, name: str, key_type: str, backend: str
) -> KemPublicKey | hybrid.HybridKemPublicKey:
    encoded = transit.export_key(name, "public-key")[1].key
    if key_type.startswith("hybrid-"):
        return hybrid.HybridKem(_ALGORITHMS[key_type], backend).public_key_from_bytes(encoded)
    return pqc.Kem(_ALGORITHMS[key_type], backend).public_key_from_bytes(encoded)


def _format1_ciphertext(
    transit: Transit, name: str, key_type: str, backend: str, plaintext: bytes, ad: bytes
) -> str:
    """What secretumvault wrote before format 2: ``u32be(len(kem_ct)) | kem_ct | aead_ct``, HKDF key."""
    kem_ct, shared_secret = _public_key(transit, name, key_type, backend).encapsulate()
    key = _format1_key(shared_secret, name, 1, key_type)
    aead_ct = AESGCM(key).encrypt(_ZERO_NONCE, plaintext, _associated_data(name, 1, key_type, ad))
    return _vault(1, _field(kem_ct) + aead_ct)


@pytest.mark.parametrize("key_type", ["ml-kem-768", "ml-kem-1024"])
def test_format2_body_opens_with_the_documented_derivation(
    transit: Transit, backend: str, key_type: str
) -> None:
    transit.create_key("wire", key_type, exportable=True)
    plaintext, ad = b"format two", b"tenant 9"
    body = _body(transit.encrypt("wire", plaintext, ad))
    kem = pqc.Kem(_ALGORITHMS[key_type], backend)
    assert body[0] == 2
    assert len(body) == 1 + kem.ciphertext_size + len(plaintext) + 16
    kem_ct, aead_ct = body[1 : 1 + kem.ciphertext_size], body[1 + kem.ciphertext_size :]
    seed = transit.export_key("wire", "encryption-key")[1].key
    shared_secret = kem.keypair_from_seed(seed).secret_key.decapsulate(kem_ct)
    key = _format2_key(shared_secret, "wire", 1, key_type)
    assert AESGCM(key).decrypt(_ZERO_NONCE, aead_ct, _associated_data("wire", 1, key_type, ad)) == plaintext
    # The HKDF key of format 1 does not open it: the format byte chooses the KDF.
    with pytest.raises(InvalidTag):
        AESGCM(_format1_key(shared_secret, "wire", 1, key_type)).decrypt(
            _ZERO_NONCE, aead_ct, _associated_data("wire", 1, key_type, ad)
        )


@pytest.mark.parametrize("key_type", KEM_TYPES)
def test_format1_ciphertexts_still_decrypt_and_rewrap_to_format2(
    transit: Transit, backend: str, key_type: str
) -> None:
    transit.create_key("old", key_type)
    old = _format1_ciphertext(transit, "old", key_type, backend, b"written by 0.1", b"ad")
    assert transit.decrypt("old", old, b"ad") == b"written by 0.1"
    with pytest.raises(DecryptionError):
        transit.decrypt("old", old, b"other ad")
    rewrapped = transit.rewrap("old", old, b"ad")
    assert _body(rewrapped)[0] == 2
    assert transit.decrypt("old", rewrapped, b"ad") == b"written by 0.1"


@pytest.mark.parametrize("key_type", KEM_TYPES)
def test_a_batch_may_mix_both_formats(transit: Transit, backend: str, key_type: str) -> None:
    transit.create_key("mix", key_type)
    plaintexts = [b"item %d" % i for i in range(6)]
    mixed = [
        _format1_ciphertext(transit, "mix", key_type, backend, p, b"") if i % 2 else transit.encrypt("mix", p)
        for i, p in enumerate(plaintexts)
    ]
    assert transit.decrypt_batch("mix", mixed) == plaintexts


def test_a_format1_body_under_the_format2_kdf_is_refused(transit: Transit, backend: str) -> None:
    """Relabelling a body's format (0x02 in front of a format 1 body's KEM ciphertext) cannot open it."""
    transit.create_key("k", "ml-kem-768")
    old = _body(_format1_ciphertext(transit, "k", "ml-kem-768", backend, b"x", b""))
    with pytest.raises(DecryptionError):
        transit.decrypt("k", _vault(1, b"\x02" + old[4:]))


@pytest.mark.parametrize("key_type", KEM_TYPES)
def test_malformed_bodies_name_what_is_wrong(transit: Transit, key_type: str, unchanged: Unchanged) -> None:
    transit.create_key("k", key_type)
    body = _body(transit.encrypt("k", b"abc"))
    kem_size = len(body) - 1 - 3 - 16
    check = unchanged()
    cases = {
        "body format 3": b"\x03" + body[1:],
        "body format 255": b"\xff" + body[1:],
        "declares a": _field(bytes(kem_size + 1)) + bytes(40),
        "truncated": body[: 1 + kem_size + 15],
    }
    for message, bad in cases.items():
        with pytest.raises(InvalidCiphertext, match=message):
            transit.decrypt("k", _vault(1, bad))
        with pytest.raises(InvalidCiphertext, match=f"batch item 1: .*{message}"):
            transit.decrypt_batch("k", [transit.encrypt("k", b"fine"), _vault(1, bad)])
    for short in (b"\x00", b"\x00\x00\x04"):
        with pytest.raises(InvalidCiphertext, match="truncated"):
            transit.decrypt("k", _vault(1, short))
    check()
