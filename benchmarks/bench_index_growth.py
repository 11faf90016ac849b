"""What a keystore put and get cost as the store grows, every record in the rollback index (issue 29).

    python benchmarks/bench_index_growth.py [--sizes 1000,16000,64000,256000] [--rounds 500]

Not a test: it prints numbers. Unlike ``bench_store_growth.py`` (filler rows
written under the index), every filler record here goes through
``Keystore.apply`` (500 at a time), so the index lists them all and each put
re-seals a bucket of its real size. At each size it times, as medians of CPU
time over ``--rounds`` (SQLite, ``synchronous=FULL``, so wall time is mostly
the fsync):

- ``put``: ``Keystore.put`` of one of 50 paths, written over and over;
- ``get``: ``Keystore.get`` of a filler record.

It also prints the index's bucket count: a store starts with 64 buckets and
doubles them when a write would leave one holding more than twice as many
entries as there are buckets (docs/design.md, "Keystore").
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from secretumvault.keystore import Change, Keystore, ScryptParams, SQLiteStorage

_BATCH = 500
_VALUE_SIZE = 200


def _cpu_us(call: Callable[[str], object], paths: list[str]) -> float:
    """The median CPU time of ``call(path)`` over ``paths``, in µs."""
    samples = []
    for path in paths:
        started = time.process_time_ns()
        call(path)
        samples.append((time.process_time_ns() - started) / 1000)
    return statistics.median(samples)


def _put(keystore: Keystore) -> Callable[[str], object]:
    return lambda path: keystore.put(path, os.urandom(_VALUE_SIZE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,16000,64000,256000")
    parser.add_argument("--rounds", type=int, default=500)
    options = parser.parse_args()
    sizes = sorted(int(size) for size in options.sizes.split(","))
    with tempfile.TemporaryDirectory() as folder:
        storage = SQLiteStorage(Path(folder) / "vault.db")
        keystore = Keystore(storage)
        keystore.initialize_with_passphrase("bench", scrypt=ScryptParams(n=2**14, r=8, p=1))
        keystore.unseal("bench")
        index = keystore._require_unsealed().index  # only for its bucket count
        filled = 0
        print(f"{'records':>9}  {'buckets':>7}  {'put, µs CPU':>11}  {'get, µs CPU':>11}")
        for size in sizes:
            while filled < size:
                count = min(_BATCH, size - filled)
                keystore.apply(
                    [Change.put(f"filler/{filled + i:09d}", os.urandom(_VALUE_SIZE)) for i in range(count)]
                )
                filled += count
            probes = [f"probe/{i % 50}" for i in range(options.rounds)]
            fillers = [f"filler/{i * 7919 % filled:09d}" for i in range(options.rounds)]
            put_us, get_us = _cpu_us(_put(keystore), probes), _cpu_us(keystore.get, fillers)
            print(f"{filled:>9,}  {index.bucket_count():>7}  {put_us:>11.0f}  {get_us:>11.0f}", flush=True)
        storage.close()


if __name__ == "__main__":
    main()
