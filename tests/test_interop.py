"""Cross-backend interop: what one backend makes, the other accepts, byte for byte."""

from __future__ import annotations

import pytest

from secretumvault import pqc

BOTH = ("oqs", "openssl")
pytestmark = pytest.mark.skipif(
    not set(BOTH) <= set(pqc.available_backends()),
    reason=f"interop needs both backends; available: {pqc.available_backends()}",
)


@pytest.mark.parametrize("name", ["ML-KEM-768", "ML-KEM-1024"])
@pytest.mark.parametrize(("maker", "taker"), [BOTH, BOTH[::-1]])
def test_kem_ciphertexts_decapsulate_across_backends(name: str, maker: str, taker: str) -> None:
    maker_kem, taker_kem = pqc.Kem(name, backend=maker), pqc.Kem(name, backend=taker)
    recipient = taker_kem.generate_keypair()
    # The maker encapsulates to the taker's key, loaded from its standard encoding.
    enc = maker_kem.public_key_from_bytes(recipient.public_key.to_bytes()).encapsulate()
    assert recipient.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret


@pytest.mark.parametrize("name", ["ML-KEM-768", "ML-KEM-1024"])
@pytest.mark.parametrize(("maker", "taker"), [BOTH, BOTH[::-1]])
def test_kem_keys_move_between_backends_by_seed(name: str, maker: str, taker: str) -> None:
    original = pqc.Kem(name, backend=maker).generate_keypair()
    moved = pqc.Kem(name, backend=taker).keypair_from_seed(original.secret_key.seed_bytes())
    assert moved.public_key.to_bytes() == original.public_key.to_bytes()
    enc = original.public_key.encapsulate()
    assert moved.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret


@pytest.mark.parametrize("name", ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"])
@pytest.mark.parametrize(("signer", "verifier"), [BOTH, BOTH[::-1]])
def test_signatures_verify_across_backends(name: str, signer: str, verifier: str) -> None:
    kp = pqc.Signature(name, backend=signer).generate_keypair()
    sig = kp.secret_key.sign(b"interop message", context=b"ctx")
    other = pqc.Signature(name, backend=verifier).public_key_from_bytes(kp.public_key.to_bytes())
    other.verify(sig, b"interop message", context=b"ctx")
    with pytest.raises(Exception, match="does not verify"):
        other.verify(sig, b"interop message", context=b"other")


def test_public_keys_compare_equal_across_backends() -> None:
    seed = bytes(range(64))
    a = pqc.Kem("ML-KEM-768", backend="oqs").keypair_from_seed(seed).public_key
    b = pqc.Kem("ML-KEM-768", backend="openssl").keypair_from_seed(seed).public_key
    assert a == b and b == a


@pytest.mark.parametrize("name", ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"])
@pytest.mark.parametrize(("maker", "taker"), [BOTH, BOTH[::-1]])
def test_signature_keys_move_between_backends_by_seed(name: str, maker: str, taker: str) -> None:
    original = pqc.Signature(name, backend=maker).generate_keypair()
    moved = pqc.Signature(name, backend=taker).keypair_from_seed(original.secret_key.seed_bytes())
    assert moved.public_key.to_bytes() == original.public_key.to_bytes()
    assert moved.secret_key.seed_bytes() == original.secret_key.seed_bytes()
    original.public_key.verify(moved.secret_key.sign(b"moved", b"ctx"), b"moved", b"ctx")
    moved.public_key.verify(original.secret_key.sign(b"stayed"), b"stayed")
