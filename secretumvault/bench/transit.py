"""Transit against its floor: each operation timed beside the bare crypto it cannot avoid.

Every case pairs a transit call (default settings: SQLite keystore, default
backend, the key cache on) with its *floor*, the same cryptography called
directly with everything prepared:

* ml-kem-768 encrypt: ``encapsulate()`` + AES-256-GCM of the plaintext under the
  shared secret; decrypt: ``decapsulate()`` + AES-256-GCM open. Batches: the
  batch KEM call + AES-GCM per item.
* aes256-gcm96 encrypt: 12 random nonce bytes + ``AESGCM.encrypt`` with a
  prepared key object; decrypt: ``AESGCM.decrypt``.
* hmac: ``hmac.digest(key, data, "sha256")``; verify adds ``compare_digest``.

What transit adds on top (record freshness check, key derivation, binding,
``vault:v<N>:`` base64 text, argument checks) is the ratio. The two sides take
turns within every repeat, so load on the machine lands on both; the ratio
reported is the median of the per-repeat ratios. Used by ``secretumvault
bench`` and ``benchmarks/bench_transit.py``; nothing else imports it.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["BATCH", "PLAINTEXT_SIZE", "TransitResult", "open_transit", "run"]

PLAINTEXT_SIZE = 1024
BATCH = 1000
_PASSPHRASE = "secretumvault bench"  # noqa: S105  # a throwaway store in a temporary directory
_ZERO_NONCE = bytes(12)

Op = Callable[[], object]


@dataclass(frozen=True)
class TransitResult:
    key_type: str
    operation: str  # encrypt, decrypt, encrypt_batch, decrypt_batch, hmac, verify_hmac, ...
    items: int  # per timed call: 1, or BATCH
    transit_ns_per_item: float
    floor_ns_per_item: float
    ratio: float  # median over repeats of transit / floor
    floor: str  # what the floor is

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextlib.contextmanager
def open_transit(backend: str | None = None) -> Iterator[Any]:
    """A Transit over a fresh, unsealed SQLite keystore in a temporary directory."""
    from secretumvault.keystore import Keystore, ScryptParams, SQLiteStorage
    from secretumvault.transit import Transit

    with tempfile.TemporaryDirectory(prefix="sv-bench-") as directory:
        storage = SQLiteStorage(Path(directory) / "bench.db")
        try:
            keystore = Keystore(storage)
            keystore.initialize_with_passphrase(_PASSPHRASE, scrypt=ScryptParams(n=2**14))
            keystore.unseal(_PASSPHRASE)
            yield Transit(keystore, backend=backend)
        finally:
            storage.close()


def _loop(op: Op, n: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(n):
        op()
    return (time.perf_counter_ns() - start) / n


def _compare(transit_op: Op, floor_op: Op, items: int, quick: bool) -> tuple[float, float, float]:
    """(transit ns per item, floor ns per item, median ratio), the two interleaved."""
    budget_ns = (0.02 if quick else 0.08) * 1e9
    repeats = 5 if quick else 11
    transit_op(), floor_op()  # warm caches: the key record, operators, lazily loaded secrets
    n = max(1, int(budget_ns / max(_loop(transit_op, 1), 1.0)))
    m = max(1, int(budget_ns / max(_loop(floor_op, 1), 1.0)))
    transit_times, floor_times, ratios = [], [], []
    for _ in range(repeats):
        t = _loop(transit_op, n)
        f = _loop(floor_op, m)
        transit_times.append(t / items)
        floor_times.append(f / items)
        ratios.append(t / f)
    return statistics.median(transit_times), statistics.median(floor_times), statistics.median(ratios)


def _kem_cases(transit: Any, backend: str | None) -> Iterator[tuple[str, str, int, Op, Op, str]]:
    from secretumvault import pqc

    transit.create_key("bench-kem", "ml-kem-768")
    kem = pqc.Kem("ML-KEM-768", backend=backend)
    pair = kem.generate_keypair()
    public_key, secret_key = pair.public_key, pair.secret_key
    plaintext = os.urandom(PLAINTEXT_SIZE)
    kem_ct, shared = public_key.encapsulate()
    aead_ct = AESGCM(shared).encrypt(_ZERO_NONCE, plaintext, None)

    def floor_encrypt() -> bytes:
        ciphertext, secret = public_key.encapsulate()
        return ciphertext + AESGCM(secret).encrypt(_ZERO_NONCE, plaintext, None)

    def floor_decrypt() -> bytes:
        return AESGCM(secret_key.decapsulate(kem_ct)).decrypt(_ZERO_NONCE, aead_ct, None)

    ciphertext = transit.encrypt("bench-kem", plaintext)
    what_enc = "encapsulate + AES-256-GCM seal"
    what_dec = "decapsulate + AES-256-GCM open"
    yield (
        "ml-kem-768",
        "encrypt",
        1,
        lambda: transit.encrypt("bench-kem", plaintext),
        floor_encrypt,
        what_enc,
    )
    yield (
        "ml-kem-768",
        "decrypt",
        1,
        lambda: transit.decrypt("bench-kem", ciphertext),
        floor_decrypt,
        what_dec,
    )

    plaintexts = [plaintext] * BATCH
    public_keys = [public_key] * BATCH
    kem_cts = [kem_ct] * BATCH
    aead_cts = [aead_ct] * BATCH
    batch = getattr(kem, "encapsulate_batch", None)

    def floor_encrypt_batch() -> list[bytes]:
        pairs = batch(public_keys) if batch else [public_key.encapsulate() for _ in plaintexts]
        return [
            ct + AESGCM(ss).encrypt(_ZERO_NONCE, pt, None)
            for (ct, ss), pt in zip(pairs, plaintexts, strict=True)
        ]

    def floor_decrypt_batch() -> list[bytes]:
        if hasattr(kem, "decapsulate_batch"):
            secrets = kem.decapsulate_batch(secret_key, kem_cts)
        else:
            secrets = [secret_key.decapsulate(ct) for ct in kem_cts]
        return [AESGCM(ss).decrypt(_ZERO_NONCE, ct, None) for ss, ct in zip(secrets, aead_cts, strict=True)]

    ciphertexts = transit.encrypt_batch("bench-kem", plaintexts)
    yield (
        "ml-kem-768",
        "encrypt_batch",
        BATCH,
        lambda: transit.encrypt_batch("bench-kem", plaintexts),
        floor_encrypt_batch,
        "batch encapsulate + AES-256-GCM seal per item",
    )
    yield (
        "ml-kem-768",
        "decrypt_batch",
        BATCH,
        lambda: transit.decrypt_batch("bench-kem", ciphertexts),
        floor_decrypt_batch,
        "batch decapsulate + AES-256-GCM open per item",
    )


def _aes_cases(transit: Any) -> Iterator[tuple[str, str, int, Op, Op, str]]:
    transit.create_key("bench-aes", "aes256-gcm96")
    aead = AESGCM(os.urandom(32))
    plaintext = os.urandom(PLAINTEXT_SIZE)
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, plaintext, None)

    def floor_encrypt() -> bytes:
        fresh = os.urandom(12)
        return fresh + aead.encrypt(fresh, plaintext, None)

    ciphertext = transit.encrypt("bench-aes", plaintext)
    plaintexts = [plaintext] * BATCH
    ciphertexts = transit.encrypt_batch("bench-aes", plaintexts)
    yield (
        "aes256-gcm96",
        "encrypt",
        1,
        lambda: transit.encrypt("bench-aes", plaintext),
        floor_encrypt,
        "random nonce + AESGCM.encrypt",
    )
    yield (
        "aes256-gcm96",
        "decrypt",
        1,
        lambda: transit.decrypt("bench-aes", ciphertext),
        lambda: aead.decrypt(nonce, sealed, None),
        "AESGCM.decrypt",
    )
    yield (
        "aes256-gcm96",
        "encrypt_batch",
        BATCH,
        lambda: transit.encrypt_batch("bench-aes", plaintexts),
        lambda: [floor_encrypt() for _ in plaintexts],
        "random nonce + AESGCM.encrypt per item",
    )
    yield (
        "aes256-gcm96",
        "decrypt_batch",
        BATCH,
        lambda: transit.decrypt_batch("bench-aes", ciphertexts),
        lambda: [aead.decrypt(nonce, sealed, None) for _ in ciphertexts],
        "AESGCM.decrypt per item",
    )


def _hmac_cases(transit: Any) -> Iterator[tuple[str, str, int, Op, Op, str]]:
    transit.create_key("bench-hmac", "hmac")
    key = os.urandom(32)
    data = os.urandom(PLAINTEXT_SIZE)
    tag = hmac.digest(key, data, "sha256")
    transit_tag = transit.hmac("bench-hmac", data)
    yield (
        "hmac",
        "hmac",
        1,
        lambda: transit.hmac("bench-hmac", data),
        lambda: hmac.digest(key, data, "sha256"),
        "hmac.digest(sha256)",
    )
    yield (
        "hmac",
        "verify_hmac",
        1,
        lambda: transit.verify_hmac("bench-hmac", data, transit_tag),
        lambda: hmac.compare_digest(hmac.digest(key, data, "sha256"), tag),
        "hmac.digest + compare_digest",
    )


def run(quick: bool = False, backend: str | None = None) -> list[TransitResult]:
    """Every case, measured against its floor (about 4 s, or 1 s with ``quick``)."""
    results = []
    with open_transit(backend) as transit:
        cases = [*_kem_cases(transit, backend), *_aes_cases(transit), *_hmac_cases(transit)]
        for key_type, operation, items, transit_op, floor_op, what in cases:
            per_item, floor_per_item, ratio = _compare(transit_op, floor_op, items, quick)
            results.append(TransitResult(key_type, operation, items, per_item, floor_per_item, ratio, what))
    return results


def render_table(data: dict[str, Any]) -> Any:
    """A rich table of the ``transit`` and ``busy_thread`` results (as dicts)."""
    from rich.table import Table

    table = Table(title="transit against its floor (µs per item), and busy-thread slowdown")
    for column in ("key type", "operation", "transit", "floor", "ratio", "floor is"):
        table.add_column(column, justify="right" if column in ("transit", "floor", "ratio") else "left")
    for row in data["transit"]:
        table.add_row(
            row["key_type"],
            row["operation"] + (f" x{row['items']}" if row["items"] > 1 else ""),
            f"{row['transit_ns_per_item'] / 1000:.2f}",
            f"{row['floor_ns_per_item'] / 1000:.2f}",
            f"{row['ratio']:.2f}x",
            row["floor"],
        )
    for row in data["busy_thread"]:
        two_threads = row["operation"].startswith("two threads")
        table.add_row(
            "threads",
            row["operation"],
            f"{row['busy_median_ns'] / 1000:.1f}",
            f"{row['idle_median_ns'] / 1000:.1f}",
            f"{row['slowdown']:.2f}x",
            (
                f"throughput of two threads / one (CPU time one / two: {row['cpu_ratio']:.2f}; "
                f"two threads' CPU / wall: {row['two_thread_cpu_per_wall']:.2f})"
            )
            if two_threads
            else "median beside a busy Python thread / idle",
        )
    return table
