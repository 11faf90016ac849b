"""Does a store's size change what a token revoke or a short prefix list costs? (issue 29)

    python benchmarks/bench_store_growth.py [--sizes 1000,1000000] [--rounds 200]
    SECRETUMVAULT_TEST_PG_DSN=postgresql://... python benchmarks/bench_store_growth.py --postgres

Not a test: it prints numbers. For each size it fills a fresh store with that
many filler records (raw rows in one transaction, under data/filler/, which no
call here reads), then times, as medians over ``--rounds``:

- ``list``: ``Keystore.list`` of a prefix with 3 children;
- ``revoke``: ``TokenStore.revoke`` of a token with one child (it lists the
  children of both through the same prefix list, and deletes their records).

Before prefix lists were index ranges, both read every record of the store.
The last column is the ratio to the smallest store; issue 29 asks for 1.5x or
less between 1,000 and 1,000,000 records.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from secretumvault.keystore import Keystore, PostgresStorage, ScryptParams, SQLiteStorage, Storage
from secretumvault.server.state.tokens import TokenStore

FAST_SCRYPT = ScryptParams(n=2**14, r=8, p=1)
PASSPHRASE = "benchmark passphrase"
FILL_BATCH = 50_000


def fill_sqlite(storage: SQLiteStorage, count: int) -> None:
    with storage._write_transaction() as conn:
        for start in range(0, count, FILL_BATCH):
            rows = [
                (f"data/filler/{i:09d}", os.urandom(64), i + 1)
                for i in range(start, min(count, start + FILL_BATCH))
            ]
            conn.executemany("INSERT INTO records (path, value, revision) VALUES (?, ?, ?)", rows)


def fill_postgres(storage: PostgresStorage, count: int) -> None:
    with storage._connection() as conn, conn.transaction(), conn.cursor() as cursor:
        table = storage._table
        with cursor.copy(f"COPY {table} (path, value, revision) FROM STDIN") as copy:
            for i in range(count):
                copy.write_row((f"data/filler/{i:09d}", os.urandom(64), i + 1))
        cursor.execute(f"ANALYZE {table}")


def median_ms(call: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(storage: Storage, size: int, rounds: int, fill: Callable[[int], None]) -> dict[str, float]:
    keystore = Keystore(storage)
    keystore.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    # After initialising: initialise refuses a store that holds records but no keyring.
    fill(size)
    keystore.unseal(PASSPHRASE)
    for child in range(3):
        keystore.put(f"bench/parent/{child}", b"x")
    tokens = TokenStore(keystore)
    results = {"list": median_ms(lambda: keystore.list("bench/parent/"), rounds)}

    pairs = []
    for _ in range(rounds):
        _, parent = tokens.create(
            policies=("default",), ttl=3600, renewable=True, display_name="p", parent=None
        )
        tokens.create(policies=("default",), ttl=3600, renewable=True, display_name="c", parent=parent)
        pairs.append(parent)
    revoke_times = []
    for parent in pairs:
        started = time.perf_counter()
        tokens.revoke(parent)
        revoke_times.append(time.perf_counter() - started)
    results["revoke"] = statistics.median(revoke_times) * 1000
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (SECRETUMVAULT_TEST_PG_DSN)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    rows: list[tuple[int, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as directory:
        for size in sizes:
            if args.postgres:
                dsn = os.environ["SECRETUMVAULT_TEST_PG_DSN"]
                pg = PostgresStorage(dsn, table=f"bench_{uuid.uuid4().hex[:12]}")
                try:
                    rows.append((size, measure(pg, size, args.rounds, functools.partial(fill_postgres, pg))))
                finally:
                    pg.drop()
                    pg.close()
            else:
                lite = SQLiteStorage(Path(directory) / f"growth-{size}.db")
                try:
                    fill = functools.partial(fill_sqlite, lite)
                    rows.append((size, measure(lite, size, args.rounds, fill)))
                finally:
                    lite.close()
    backend = "PostgreSQL" if args.postgres else "SQLite (synchronous=FULL)"
    print(f"{backend}, medians of {args.rounds} rounds, ms; ratio to {sizes[0]:,} records")
    print(f"{'records':>12} {'list (3)':>10} {'ratio':>6} {'revoke':>10} {'ratio':>6}")
    base = rows[0][1]
    for size, result in rows:
        print(
            f"{size:>12,} {result['list']:>10.3f} {result['list'] / base['list']:>6.2f} "
            f"{result['revoke']:>10.3f} {result['revoke'] / base['revoke']:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
