"""Every Wycheproof ML-DSA case, on every backend that offers the parameter set."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from secretumvault import errors, pqc
from secretumvault.pqc.prehash import external_mu

from ..conftest import sig_or_skip
from .loader import Case, cases

SETS = (44, 65, 87)
REJECTED = (errors.InvalidSignature, errors.InvalidArgument)


@pytest.mark.parametrize("case", cases(*(f"mldsa_{n}_verify_test.json" for n in SETS)))
def test_mldsa_verify(case: Case, backend: str) -> None:
    scheme = sig_or_skip(case_algorithm(case), backend)
    public = case.hex("publicKey", group=True)
    sig, msg, ctx = case.hex("sig"), case.hex("msg"), case.hex("ctx") or b""
    assert public is not None and sig is not None and msg is not None
    if len(public) != scheme.public_key_size:
        assert case.invalid and "IncorrectPublicKeyLength" in case.flags
        with pytest.raises(errors.InvalidKey, match="public keys are"):
            scheme.public_key_from_bytes(public)
        return
    key = scheme.public_key_from_bytes(public)
    if case.valid:
        key.verify(sig, msg, ctx)
    else:
        with pytest.raises(REJECTED):
            key.verify(sig, msg, ctx)


@pytest.mark.parametrize("case", cases(*(f"mldsa_{n}_sign_seed_test.json" for n in SETS)))
def test_mldsa_sign_from_seed(case: Case, backend: str) -> None:
    """Keys from the seed, the vector's signature over msg and over mu, and our own signatures.

    Where the backend signs deterministically (oqs), FIPS 204's deterministic
    signature over the message and over mu must equal the vector's, byte for
    byte. The "Randomized" cases were made with an rnd the API does not take
    (hedged signing draws its own): their signature is verified, ours too.
    """
    scheme = sig_or_skip(case_algorithm(case), backend)
    seed, public = case.hex("privateSeed", group=True), case.hex("publicKey", group=True)
    msg, ctx, sig, mu = case.hex("msg"), case.hex("ctx") or b"", case.hex("sig"), case.hex("mu")
    assert seed is not None
    if "IncorrectPrivateKeyLength" in case.flags:
        with pytest.raises(errors.InvalidKey, match="seeds"):
            scheme.keypair_from_seed(seed)
        return
    assert public is not None
    kp = scheme.keypair_from_seed(seed)
    assert kp.public_key.to_bytes() == public
    assert kp.secret_key.seed_bytes() == seed
    if "InvalidContext" in case.flags:
        _assert_context_rejected(kp.secret_key, msg or b"", ctx)
        return

    assert case.valid and sig is not None
    if msg is not None:
        kp.public_key.verify(sig, msg, ctx)
    if mu is not None:
        kp.public_key.verify_mu(sig, mu)
    if msg is not None and mu is not None:  # mu computed here with hashlib, independently of both backends
        assert external_mu(public, b"\x00" + bytes((len(ctx),)) + ctx + msg) == mu

    if "Randomized" in case.flags:
        assert case.hex("rnd") is not None
        if msg is not None:
            kp.public_key.verify(kp.secret_key.sign(msg, ctx), msg, ctx)
        return
    if msg is not None:
        own = _deterministic(backend, lambda: kp.secret_key.sign(msg, ctx, deterministic=True))
        assert own in (None, sig)
        kp.public_key.verify(kp.secret_key.sign(msg, ctx), msg, ctx)
    if mu is not None:
        own = _deterministic(backend, lambda: kp.secret_key.sign_mu(mu, deterministic=True))
        assert own in (None, sig)
        kp.public_key.verify_mu(kp.secret_key.sign_mu(mu), mu)


def _deterministic(backend: str, sign: Callable[[], bytes]) -> bytes | None:
    """The deterministic signature; None on the one backend that signs hedged only (pyca/cryptography)."""
    if backend != "openssl":
        return sign()
    with pytest.raises(errors.UnsupportedAlgorithm, match="backend='oqs'"):
        sign()
    return None


def _assert_context_rejected(secret_key: pqc.SigSecretKey, msg: bytes, ctx: bytes) -> None:
    assert len(ctx) > 255
    with pytest.raises(errors.InvalidArgument, match="at most 255 bytes"):
        secret_key.sign(msg, ctx)


def case_algorithm(case: Case) -> str:
    return {"44": "ML-DSA-44", "65": "ML-DSA-65", "87": "ML-DSA-87"}[case.file.split("_")[1]]
