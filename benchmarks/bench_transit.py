"""Transit throughput: encrypt/decrypt of 1 KiB and 64 KiB, single and batches of 1,000.

    pytest benchmarks/bench_transit.py --benchmark-only --benchmark-group-by=param:backend

Key types aes256-gcm96 and ml-kem-768, on every available backend, through a
Transit with the default ``cache_ttl=0`` (the key cache is checked against
storage on every call, so other processes' rotations are seen at once: see
``secretumvault.transit._store``) and with ``cache_ttl=60`` (no check for up to
a minute).

``test_baseline_kem_plus_aead`` times the floor: one ML-KEM-768 encapsulation
plus AES-256-GCM of 1 KiB on the same backend, in the same run. Batch cases time
the whole batch; divide by BATCH for the time per item.

``test_ratios_to_floor`` runs :mod:`secretumvault.bench.transit` and
:mod:`secretumvault.bench.load` (what ``secretumvault bench --json`` reports) and
prints every ratio; like every benchmark here it asserts no time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secretumvault import pqc
from secretumvault.keystore import Keystore, ScryptParams, SQLiteStorage
from secretumvault.transit import Transit

BATCH = 1000
SIZES = {"1KiB": 1024, "64KiB": 64 * 1024}
KEY_TYPES = ["aes256-gcm96", "ml-kem-768"]
PASSPHRASE = "benchmark passphrase"


@pytest.fixture(params=pqc.available_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def keystore(tmp_path: Path) -> Iterator[Keystore]:
    storage = SQLiteStorage(tmp_path / "bench.db")
    ks = Keystore(storage)
    ks.initialize_with_passphrase(PASSPHRASE, scrypt=ScryptParams(n=2**14))
    ks.unseal(PASSPHRASE)
    yield ks
    storage.close()


def _transit(keystore: Keystore, backend: str, key_type: str, cache_ttl: float) -> Transit:
    transit = Transit(keystore, backend=backend, cache_ttl=cache_ttl)
    transit.create_key("bench", key_type)
    return transit


def test_baseline_kem_plus_aead(benchmark: Any, backend: str) -> None:
    public_key = pqc.Kem("ML-KEM-768", backend=backend).generate_keypair().public_key
    plaintext = os.urandom(1024)
    nonce = bytes(12)

    def encapsulate_and_encrypt() -> bytes:
        ciphertext, shared_secret = public_key.encapsulate()
        return ciphertext + AESGCM(shared_secret).encrypt(nonce, plaintext, None)

    benchmark(encapsulate_and_encrypt)


@pytest.mark.parametrize("cache_ttl", [0.0, 60.0])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_encrypt(
    benchmark: Any, keystore: Keystore, backend: str, key_type: str, size: str, cache_ttl: float
) -> None:
    transit = _transit(keystore, backend, key_type, cache_ttl)
    plaintext = os.urandom(SIZES[size])
    benchmark(transit.encrypt, "bench", plaintext)


@pytest.mark.parametrize("cache_ttl", [0.0, 60.0])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_decrypt(
    benchmark: Any, keystore: Keystore, backend: str, key_type: str, size: str, cache_ttl: float
) -> None:
    transit = _transit(keystore, backend, key_type, cache_ttl)
    plaintext = os.urandom(SIZES[size])
    ciphertext = transit.encrypt("bench", plaintext)
    assert benchmark(transit.decrypt, "bench", ciphertext) == plaintext


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_encrypt_batch(benchmark: Any, keystore: Keystore, backend: str, key_type: str, size: str) -> None:
    transit = _transit(keystore, backend, key_type, 0.0)
    plaintexts = [os.urandom(SIZES[size])] * BATCH
    benchmark.extra_info["items_per_round"] = BATCH
    benchmark.pedantic(transit.encrypt_batch, args=("bench", plaintexts), rounds=5, iterations=1)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_decrypt_batch(benchmark: Any, keystore: Keystore, backend: str, key_type: str, size: str) -> None:
    transit = _transit(keystore, backend, key_type, 0.0)
    plaintexts = [os.urandom(SIZES[size])] * BATCH
    ciphertexts = transit.encrypt_batch("bench", plaintexts)
    benchmark.extra_info["items_per_round"] = BATCH
    result = benchmark.pedantic(transit.decrypt_batch, args=("bench", ciphertexts), rounds=5, iterations=1)
    assert result == plaintexts


def test_ratios_to_floor(benchmark: Any) -> None:
    from secretumvault.bench import load, transit

    def measure() -> dict[str, Any]:
        return {"transit": transit.run(quick=True), "busy_thread": load.run(quick=True)}

    measured = benchmark.pedantic(measure, rounds=1, iterations=1)
    for result in measured["transit"]:
        benchmark.extra_info[f"{result.key_type} {result.operation} ratio"] = round(result.ratio, 3)
        print(f"{result.key_type:14} {result.operation:14} {result.ratio:6.2f}x of {result.floor}")
    for load_result in measured["busy_thread"]:
        benchmark.extra_info[f"busy thread {load_result.operation}"] = round(load_result.slowdown, 2)
        print(f"busy thread: {load_result.operation}: {load_result.slowdown:.1f}x its idle median")
