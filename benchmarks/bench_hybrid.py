"""Hybrid KEM and signature cost next to the sum of their parts.

Each "parts" benchmark performs exactly the component operations a hybrid
operation needs (ML-KEM/ML-DSA through pqc, X25519/Ed25519 through
pyca/cryptography), so ``hybrid / parts - 1`` is the cost of the hybrid
machinery itself: the envelope, the X-Wing combiner, the bound message and
the Python dispatch. Target: at most 15 %.

    pytest benchmarks/bench_hybrid.py --benchmark-group-by=group
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from secretumvault import hybrid, pqc

BACKENDS = pqc.available_backends()
MESSAGE = b"m" * 64


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- KEM: X25519-ML-KEM-768 -------------------------------------------------------


def test_encapsulate_hybrid(benchmark: Any, backend: str) -> None:
    benchmark.group = f"encapsulate [{backend}]"
    public_key = hybrid.HybridKem("X25519-ML-KEM-768", backend=backend).generate_keypair().public_key
    benchmark(public_key.encapsulate)


def test_encapsulate_parts(benchmark: Any, backend: str) -> None:
    benchmark.group = f"encapsulate [{backend}]"
    ml_kem_public = pqc.Kem("ML-KEM-768", backend=backend).generate_keypair().public_key
    x_public = X25519PrivateKey.generate().public_key()

    def parts() -> None:
        ml_kem_public.encapsulate()
        ephemeral = X25519PrivateKey.generate()
        ephemeral.public_key().public_bytes_raw()
        ephemeral.exchange(x_public)

    benchmark(parts)


def test_decapsulate_hybrid(benchmark: Any, backend: str) -> None:
    benchmark.group = f"decapsulate [{backend}]"
    pair = hybrid.HybridKem("X25519-ML-KEM-768", backend=backend).generate_keypair()
    ciphertext = pair.public_key.encapsulate().ciphertext
    benchmark(pair.secret_key.decapsulate, ciphertext)


def test_decapsulate_parts(benchmark: Any, backend: str) -> None:
    benchmark.group = f"decapsulate [{backend}]"
    ml_kem = pqc.Kem("ML-KEM-768", backend=backend).generate_keypair()
    ml_kem_ciphertext = ml_kem.public_key.encapsulate().ciphertext
    x_secret = X25519PrivateKey.generate()
    x_ephemeral = X25519PrivateKey.generate().public_key().public_bytes_raw()

    def parts() -> None:
        ml_kem.secret_key.decapsulate(ml_kem_ciphertext)
        x_secret.exchange(X25519PublicKey.from_public_bytes(x_ephemeral))

    benchmark(parts)


# -- signatures: Ed25519-ML-DSA-65 ------------------------------------------------


def test_sign_hybrid(benchmark: Any, backend: str) -> None:
    benchmark.group = f"sign [{backend}]"
    secret_key = hybrid.HybridSignature("Ed25519-ML-DSA-65", backend=backend).generate_keypair().secret_key
    benchmark(secret_key.sign, MESSAGE)


def test_sign_parts(benchmark: Any, backend: str) -> None:
    benchmark.group = f"sign [{backend}]"
    ml_dsa_secret = pqc.Signature("ML-DSA-65", backend=backend).generate_keypair().secret_key
    ed_secret = ed25519.Ed25519PrivateKey.generate()

    def parts() -> None:
        ed_secret.sign(MESSAGE)
        ml_dsa_secret.sign(MESSAGE)

    benchmark(parts)


def test_verify_hybrid(benchmark: Any, backend: str) -> None:
    benchmark.group = f"verify [{backend}]"
    pair = hybrid.HybridSignature("Ed25519-ML-DSA-65", backend=backend).generate_keypair()
    signature = pair.secret_key.sign(MESSAGE)
    benchmark(pair.public_key.verify, signature, MESSAGE)


def test_verify_parts(benchmark: Any, backend: str) -> None:
    benchmark.group = f"verify [{backend}]"
    ml_dsa = pqc.Signature("ML-DSA-65", backend=backend).generate_keypair()
    ml_dsa_signature = ml_dsa.secret_key.sign(MESSAGE)
    ed_secret = ed25519.Ed25519PrivateKey.generate()
    ed_public, ed_signature = ed_secret.public_key(), ed_secret.sign(MESSAGE)

    def parts() -> None:
        ed_public.verify(ed_signature, MESSAGE)
        ml_dsa.public_key.verify(ml_dsa_signature, MESSAGE)

    benchmark(parts)
