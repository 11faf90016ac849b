"""Keystore throughput: put/get of a 1 KiB secret through the barrier.

    pytest benchmarks/bench_keystore.py --benchmark-only
    SECRETUMVAULT_TEST_PG_DSN=postgresql://... pytest benchmarks/bench_keystore.py   # adds PostgreSQL

Single-thread cases time one operation. Four-thread cases time a batch of
``BATCH`` operations spread over 4 threads sharing one Keystore; divide the
batch time by ``BATCH`` (in extra_info) for the time per operation.
SQLite runs with synchronous=FULL, so put() includes an fsync.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from secretumvault.keystore import Keystore, PostgresStorage, ScryptParams, Storage, open_storage

SECRET = os.urandom(1024)
THREADS = 4
BATCH = 400
PASSPHRASE = "benchmark passphrase"


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "sqlite":
        opened = open_storage(path=tmp_path / "bench.db")
        yield opened
        opened.close()
        return
    dsn = os.environ.get("SECRETUMVAULT_TEST_PG_DSN")
    if not dsn:
        pytest.skip("SECRETUMVAULT_TEST_PG_DSN is not set: start a server with .ci/postgres.sh")
    pg = PostgresStorage(dsn, table=f"bench_{uuid.uuid4().hex}")
    yield pg
    pg.drop()
    pg.close()


@pytest.fixture
def keystore(storage: Storage) -> Keystore:
    ks = Keystore(storage)
    ks.initialize_with_passphrase(PASSPHRASE, scrypt=ScryptParams(n=2**14))
    ks.unseal(PASSPHRASE)
    for i in range(BATCH):
        ks.put(f"bench/{i}", SECRET)
    return ks


def _in_threads(benchmark: Any, operation: Callable[[int], object]) -> None:
    benchmark.extra_info.update(threads=THREADS, operations_per_round=BATCH)
    share = BATCH // THREADS

    def run_share(first: int) -> None:
        for i in range(first, first + share):
            operation(i)

    with ThreadPoolExecutor(THREADS) as pool:

        def batch() -> None:
            list(pool.map(run_share, range(0, BATCH, share)))

        benchmark.pedantic(batch, rounds=10, iterations=1, warmup_rounds=2)


def test_put_1kib_1_thread(benchmark: Any, keystore: Keystore) -> None:
    counter = itertools.count()
    benchmark(lambda: keystore.put(f"bench/{next(counter) % BATCH}", SECRET))


def test_get_1kib_1_thread(benchmark: Any, keystore: Keystore) -> None:
    counter = itertools.count()
    result = benchmark(lambda: keystore.get(f"bench/{next(counter) % BATCH}"))
    assert result == SECRET


def test_put_1kib_4_threads(benchmark: Any, keystore: Keystore) -> None:
    _in_threads(benchmark, lambda i: keystore.put(f"bench/{i}", SECRET))


def test_get_1kib_4_threads(benchmark: Any, keystore: Keystore) -> None:
    _in_threads(benchmark, lambda i: keystore.get(f"bench/{i}"))
