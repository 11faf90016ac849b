"""pytest-benchmark suite for the pqc layer: one benchmark per (backend, operation).

    pytest benchmarks/bench_pqc.py --benchmark-group-by=param:operation

The C floor (the same liboqs calls looped in C) is in benchmarks/peer_compare.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from secretumvault import pqc

MESSAGE = b"\x00" * 32
BACKENDS = [
    pytest.param(b, marks=pytest.mark.skipif(b not in pqc.available_backends(), reason=f"{b} unavailable"))
    for b in ("oqs", "openssl")
]


def _kem_ops(backend: str) -> dict[str, Callable[[], object]]:
    kem = pqc.Kem("ML-KEM-768", backend=backend)
    kp = kem.generate_keypair()
    ct = kp.public_key.encapsulate().ciphertext
    return {
        "ML-KEM-768 keygen": kem.generate_keypair,
        "ML-KEM-768 encaps": kp.public_key.encapsulate,
        "ML-KEM-768 decaps": lambda: kp.secret_key.decapsulate(ct),
    }


def _sig_ops(backend: str) -> dict[str, Callable[[], object]]:
    scheme = pqc.Signature("ML-DSA-65", backend=backend)
    kp = scheme.generate_keypair()
    sig = kp.secret_key.sign(MESSAGE)
    return {
        "ML-DSA-65 keygen": scheme.generate_keypair,
        "ML-DSA-65 sign": lambda: kp.secret_key.sign(MESSAGE),
        "ML-DSA-65 verify": lambda: kp.public_key.verify(sig, MESSAGE),
    }


OPERATIONS = [
    "ML-KEM-768 keygen",
    "ML-KEM-768 encaps",
    "ML-KEM-768 decaps",
    "ML-DSA-65 keygen",
    "ML-DSA-65 sign",
    "ML-DSA-65 verify",
]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_pqc_operation(benchmark: BenchmarkFixture, backend: str, operation: str) -> None:
    ops = _kem_ops(backend) if operation.startswith("ML-KEM") else _sig_ops(backend)
    benchmark.group = operation
    benchmark(ops[operation])


@pytest.mark.parametrize("backend", BACKENDS)
def test_encapsulate_batch_of_1000(benchmark: BenchmarkFixture, backend: str) -> None:
    kem = pqc.Kem("ML-KEM-768", backend=backend)
    keys = [kem.generate_keypair().public_key for _ in range(1000)]
    benchmark.group = "ML-KEM-768 encaps x1000"
    result = benchmark(kem.encapsulate_batch, keys)
    assert len(result) == 1000


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_batch_of_1000(benchmark: BenchmarkFixture, backend: str) -> None:
    scheme = pqc.Signature("ML-DSA-65", backend=backend)
    kp = scheme.generate_keypair()
    items = [(kp.public_key, kp.secret_key.sign(MESSAGE), MESSAGE, b"")] * 1000
    benchmark.group = "ML-DSA-65 verify x1000"
    assert all(benchmark(scheme.verify_batch, items))
