"""Every Wycheproof ML-DSA case, on every backend that offers the parameter set."""

from __future__ import annotations

import pytest

from secretumvault import errors, pqc

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
    scheme = sig_or_skip(case_algorithm(case), backend)
    seed = case.hex("privateSeed", group=True)
    public = case.hex("publicKey", group=True)
    msg, ctx, sig = case.hex("msg"), case.hex("ctx") or b"", case.hex("sig")
    assert seed is not None

    if "IncorrectPrivateKeyLength" in case.flags:
        with pytest.raises((errors.InvalidKey, errors.UnsupportedAlgorithm)) as raised:
            scheme.keypair_from_seed(seed)
        if raised.type is errors.UnsupportedAlgorithm:
            pytest.skip(f"seed length not checkable: {raised.value}")
        return

    # The precomputed-mu cases need ML-DSA.Sign_internal/Verify_internal, which
    # neither pyca/cryptography nor liboqs's public API exposes.
    external_mu_reason = "case carries only mu; no backend exposes external-mu signing"

    if case.valid and msg is not None and sig is not None and public is not None:
        # A randomized signer cannot reproduce the vector's signature: check it verifies.
        scheme.public_key_from_bytes(public).verify(sig, msg, ctx)

    try:
        kp = scheme.keypair_from_seed(seed)
    except errors.UnsupportedAlgorithm as exc:
        if "InvalidContext" in case.flags:
            _assert_context_rejected(scheme.generate_keypair().secret_key, msg or b"", ctx)
            return
        pytest.skip(f"vector signature checked; own signature needs seed import: {exc}")
    assert kp.public_key.to_bytes() == public
    assert kp.secret_key.seed_bytes() == seed

    if "InvalidContext" in case.flags:
        _assert_context_rejected(kp.secret_key, msg or b"", ctx)
        return
    if msg is None:
        pytest.skip(f"public key from seed checked; {external_mu_reason}")
    own = kp.secret_key.sign(msg, ctx)
    kp.public_key.verify(own, msg, ctx)


def _assert_context_rejected(secret_key: pqc.SigSecretKey, msg: bytes, ctx: bytes) -> None:
    assert len(ctx) > 255
    with pytest.raises(errors.InvalidArgument, match="at most 255 bytes"):
        secret_key.sign(msg, ctx)


def case_algorithm(case: Case) -> str:
    return {"44": "ML-DSA-44", "65": "ML-DSA-65", "87": "ML-DSA-87"}[case.file.split("_")[1]]
