"""Every Wycheproof ML-KEM case, on every backend that offers the parameter set."""

from __future__ import annotations

import pytest

from secretumvault import errors

from ..conftest import kem_or_skip
from .loader import Case, cases

SETS = (512, 768, 1024)


@pytest.mark.parametrize("case", cases(*(f"mlkem_{n}_test.json" for n in SETS)))
def test_mlkem_keygen_and_decaps(case: Case, backend: str) -> None:
    kem = kem_or_skip(case.group["parameterSet"], backend)
    seed, ek, c, k = case.hex("seed"), case.hex("ek"), case.hex("c"), case.hex("K")
    assert seed is not None and c is not None
    if len(seed) != kem_seed_size():
        assert case.invalid
        with pytest.raises(errors.InvalidKey, match="seeds"):
            kem.keypair_from_seed(seed)
        return
    kp = kem.keypair_from_seed(seed)
    if ek:
        assert kp.public_key.to_bytes() == ek
    if case.valid:
        assert kp.secret_key.decapsulate(c) == k
    else:
        assert len(c) != kem.ciphertext_size
        with pytest.raises(errors.InvalidCiphertext, match=f"{kem.ciphertext_size} bytes"):
            kp.secret_key.decapsulate(c)


def kem_seed_size() -> int:
    return 64


@pytest.mark.parametrize("case", cases(*(f"mlkem_{n}_encaps_test.json" for n in SETS)))
def test_mlkem_encaps(case: Case, backend: str) -> None:
    kem = kem_or_skip(case.group["parameterSet"], backend)
    ek, m = case.hex("ek"), case.hex("m")
    assert ek is not None and m is not None
    if case.invalid:
        # Wrong length or a coefficient >= q: FIPS 203 requires rejecting the key.
        with pytest.raises(errors.InvalidKey):
            kem.public_key_from_bytes(ek)
        return
    public_key = kem.public_key_from_bytes(ek)
    assert public_key.to_bytes() == ek
    try:
        enc = public_key.encapsulate_derand(m)
    except errors.UnsupportedAlgorithm as exc:
        pytest.skip(f"key checked; derandomized encapsulation unavailable: {exc}")
    assert enc.ciphertext == case.hex("c")
    assert enc.shared_secret == case.hex("K")


@pytest.mark.parametrize("case", cases(*(f"mlkem_{n}_keygen_seed_test.json" for n in SETS)))
def test_mlkem_keygen_from_seed(case: Case, backend: str) -> None:
    kem = kem_or_skip(case.group["parameterSet"], backend)
    seed, ek, dk = case.hex("seed"), case.hex("ek"), case.hex("dk")
    assert seed is not None and ek is not None and dk is not None
    kp = kem.keypair_from_seed(seed)
    assert kp.public_key.to_bytes() == ek
    assert kp.secret_key.seed_bytes() == seed
    assert kp.secret_key.public_key().to_bytes() == ek
    try:
        exported = kp.secret_key.to_bytes()
    except errors.UnsupportedAlgorithm as exc:
        pytest.skip(f"ek and seed checked; expanded dk not exportable: {exc}")
    assert exported == dk
    loaded = kem.secret_key_from_bytes(dk)
    assert loaded.public_key().to_bytes() == ek
    enc = kp.public_key.encapsulate()
    assert loaded.decapsulate(enc.ciphertext) == enc.shared_secret
