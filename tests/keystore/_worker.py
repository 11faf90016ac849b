"""A separate process for the multi-process tests (run as a script, not imported by pytest).

Reads the storage spec (JSON for open_storage) and the passphrase from the
environment, so no secret appears on a command line.

    _worker.py increment PATH COUNT   add 1 to the counter at PATH, COUNT times, by compare-and-set
    _worker.py stream PREFIX          put PREFIX/000000, PREFIX/000001, ... for ever, printing
                                      each number once put() has returned
"""

from __future__ import annotations

import json
import os
import sys

from secretumvault.errors import ConflictError, KeyNotFound
from secretumvault.keystore import Keystore, open_storage


def stream_value(i: int) -> bytes:
    return (f"value {i:06d} ".encode()) * 64


def increment(ks: Keystore, path: str, count: int) -> None:
    for _ in range(count):
        while True:
            try:
                entry = ks.get_entry(path)
                current, version = int(entry.value), entry.version
            except KeyNotFound:
                current, version = 0, None
            try:
                ks.cas(path, version, str(current + 1).encode())
                break
            except ConflictError:
                continue


def stream(ks: Keystore, prefix: str) -> None:
    i = 0
    while True:
        ks.put(f"{prefix}/{i:06d}", stream_value(i))
        print(i, flush=True)
        i += 1


def main() -> None:
    storage = open_storage(**json.loads(os.environ["SV_TEST_STORAGE"]))
    ks = Keystore(storage)
    ks.unseal(os.environ["SV_TEST_PASSPHRASE"])
    if sys.argv[1] == "increment":
        increment(ks, sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "stream":
        stream(ks, sys.argv[2])
    storage.close()


if __name__ == "__main__":
    main()
