"""CryptoPolicy: hybrid_mode decides what "the configured KEM/signature" is."""

from __future__ import annotations

import pytest

from secretumvault import errors, hybrid, pqc

from .conftest import untyped

BACKENDS = pqc.available_backends()


def test_hybrid_mode_yields_hybrid_algorithms() -> None:
    policy = hybrid.CryptoPolicy(hybrid_mode=True)
    kem, signature = policy.kem(), policy.signature()
    assert isinstance(kem, hybrid.HybridKem)
    assert isinstance(signature, hybrid.HybridSignature)
    assert (kem.name, signature.name) == ("X25519-ML-KEM-768", "Ed25519-ML-DSA-65")


def test_pure_mode_yields_post_quantum_algorithms() -> None:
    policy = hybrid.CryptoPolicy(hybrid_mode=False)
    kem, signature = policy.kem(), policy.signature()
    assert isinstance(kem, pqc.Kem)
    assert isinstance(signature, pqc.Signature)
    assert (kem.name, signature.name) == ("ML-KEM-768", "ML-DSA-65")


@pytest.mark.parametrize("hybrid_mode", [True, False])
def test_policy_algorithms_work_end_to_end(hybrid_mode: bool) -> None:
    policy = hybrid.CryptoPolicy(hybrid_mode=hybrid_mode)
    kem = policy.kem()
    assert isinstance(kem, hybrid.KemAlgorithm)
    pair = kem.generate_keypair()
    encapsulation = pair.public_key.encapsulate()
    assert len(encapsulation.ciphertext) == kem.ciphertext_size
    assert pair.secret_key.decapsulate(encapsulation.ciphertext) == encapsulation.shared_secret
    # Hybrid ciphertexts are envelopes, pure ones are bare ML-KEM ciphertexts.
    assert (encapsulation.ciphertext[0] == 1 and len(encapsulation.ciphertext) == 1125) is hybrid_mode

    scheme = policy.signature()
    assert isinstance(scheme, hybrid.SignatureAlgorithm)
    signing = scheme.generate_keypair()
    signature = signing.secret_key.sign(b"msg", b"ctx")
    assert len(signature) == scheme.signature_size
    signing.public_key.verify(signature, b"msg", b"ctx")
    with pytest.raises(errors.InvalidSignature):
        signing.public_key.verify(signature, b"msg", b"other")
    loaded = scheme.public_key_from_bytes(signing.public_key.to_bytes())
    loaded.verify(signature, b"msg", b"ctx")


def test_other_algorithm_choices() -> None:
    policy = hybrid.CryptoPolicy(
        kem_algorithm="ML-KEM-1024", signature_algorithm="ML-DSA-65", classical_signature="ECDSA-P256"
    )
    assert policy.kem().name == "X25519-ML-KEM-1024"
    assert policy.signature().name == "ECDSA-P256-ML-DSA-65"
    assert hybrid.CryptoPolicy(signature_algorithm="ML-DSA-44").signature().name == "Ed25519-ML-DSA-44"
    pure = hybrid.CryptoPolicy(hybrid_mode=False, signature_algorithm="ML-DSA-87")
    assert pure.signature().name == "ML-DSA-87"


def test_combinations_without_a_hybrid_are_refused_up_front() -> None:
    with pytest.raises(errors.UnsupportedAlgorithm, match="hybrid mode off"):
        hybrid.CryptoPolicy(signature_algorithm="ML-DSA-87")
    with pytest.raises(errors.UnsupportedAlgorithm, match="hybrid mode off"):
        hybrid.CryptoPolicy(kem_algorithm="ML-KEM-512")
    with pytest.raises(errors.UnsupportedAlgorithm):
        hybrid.CryptoPolicy(classical_signature="RSA-PSS")
    with pytest.raises(errors.InvalidType):
        hybrid.CryptoPolicy(hybrid_mode=untyped("yes"))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("hybrid_mode", [True, False])
def test_backend_is_passed_through(backend: str, hybrid_mode: bool) -> None:
    policy = hybrid.CryptoPolicy(hybrid_mode=hybrid_mode, backend=backend)
    assert policy.kem().backend == backend
    assert policy.signature().backend == backend


def test_unavailable_backend_is_reported() -> None:
    if "oqs" in BACKENDS:
        pytest.skip("the native 'oqs' backend is available here, so it cannot be reported missing")
    with pytest.raises(errors.BackendUnavailable, match="oqs"):
        hybrid.CryptoPolicy(backend="oqs").kem()


def test_policy_is_immutable() -> None:
    policy = hybrid.CryptoPolicy()
    with pytest.raises(AttributeError):
        untyped(policy).hybrid_mode = False
