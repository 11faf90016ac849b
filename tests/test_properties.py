"""Property tests (hypothesis): round trips and rejection hold for arbitrary inputs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretumvault import errors, pqc

from .conftest import kem_or_skip, sig_or_skip

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(seed=st.binary(min_size=64, max_size=64))
def test_seeded_keys_round_trip(backend: str, seed: bytes) -> None:
    kem = kem_or_skip("ML-KEM-768", backend)
    kp = kem.keypair_from_seed(seed)
    assert kp.secret_key.seed_bytes() == seed
    enc = kp.public_key.encapsulate()
    assert kp.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret


@SETTINGS
@given(message=st.binary(max_size=2048), context=st.binary(max_size=255))
def test_sign_verify_round_trip(backend: str, message: bytes, context: bytes) -> None:
    kp = _sig_keys(backend)
    sig = kp.secret_key.sign(message, context)
    kp.public_key.verify(sig, message, context)


@SETTINGS
@given(data=st.data())
def test_any_single_bit_flip_breaks_the_signature(backend: str, data: st.DataObject) -> None:
    kp = _sig_keys(backend)
    sig = bytearray(kp.secret_key.sign(b"fixed message"))
    index = data.draw(st.integers(0, len(sig) * 8 - 1))
    sig[index // 8] ^= 1 << (index % 8)
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify(bytes(sig), b"fixed message")


@SETTINGS
@given(blob=st.binary(max_size=1200))
def test_arbitrary_encapsulation_keys_never_crash(backend: str, blob: bytes) -> None:
    kem = kem_or_skip("ML-KEM-768", backend)
    try:
        pk = kem.public_key_from_bytes(blob)
    except errors.InvalidKey:
        return
    assert len(blob) == kem.public_key_size
    assert len(pk.encapsulate().ciphertext) == kem.ciphertext_size


@SETTINGS
@given(ciphertext=st.binary(min_size=1088, max_size=1088))
def test_random_ciphertexts_decapsulate_without_error(backend: str, ciphertext: bytes) -> None:
    kp = _kem_keys(backend)
    # Implicit rejection: any well-sized ciphertext yields some 32-byte secret.
    assert len(kp.secret_key.decapsulate(ciphertext)) == 32


_kem_cache: dict[str, pqc.KemKeyPair] = {}
_sig_cache: dict[str, pqc.SigKeyPair] = {}


def _kem_keys(backend: str) -> pqc.KemKeyPair:
    if backend not in _kem_cache:
        _kem_cache[backend] = kem_or_skip("ML-KEM-768", backend).generate_keypair()
    return _kem_cache[backend]


def _sig_keys(backend: str) -> pqc.SigKeyPair:
    if backend not in _sig_cache:
        _sig_cache[backend] = sig_or_skip("ML-DSA-44", backend).generate_keypair()
    return _sig_cache[backend]
