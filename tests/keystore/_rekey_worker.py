"""A process that rekeys a store and kills itself (SIGKILL) at a chosen point (run as a script).

Environment (no secret on a command line):
    SV_TEST_STORAGE   JSON keyword arguments of open_storage()
    SV_TEST_OLD       the current passphrase
    SV_TEST_NEW       the new passphrase, or "shares:N:T" for new shares
    SV_TEST_SHARES    file the new shares are written to (and fsynced) before the switch

    _rekey_worker.py once POINT   rekey once; SIGKILL at POINT:
        prepared    new material made (shares saved), store not yet written
        first-write inside the atomic write, after its first row
        all-writes  inside the atomic write, after its last row, before COMMIT
        committed   right after the switch
        none        no kill
    _rekey_worker.py loop         rekey OLD->NEW->OLD->... for ever, printing a line after each switch
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from secretumvault.keystore import Keystore, PostgresStorage, ScryptParams, SQLiteStorage, Storage, Write

KILL_POINTS = ("prepared", "first-write", "all-writes", "committed", "none")
FAST_SCRYPT = ScryptParams(n=2**14, r=8, p=1)  # as conftest's: milliseconds per derivation


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _killing(base: type[Any], point: str) -> Callable[..., Storage]:
    """The storage class, made to die at ``point`` within apply(), between its row writes."""

    # The base is chosen at run time (SQLite or PostgreSQL), which mypy cannot type.
    class Killing(base):  # type: ignore[misc]
        def apply(self, writes: Sequence[Write]) -> list[int | None]:
            self._rows_to_write, self._rows_written = len(writes), 0
            return list(super().apply(writes))

        def _apply_one(self, conn: Any, write: Write) -> int | None:
            result: int | None = super()._apply_one(conn, write)
            self._rows_written += 1
            if (point == "first-write" and self._rows_written == 1) or (
                point == "all-writes" and self._rows_written == self._rows_to_write
            ):
                _die()
            return result

    return Killing


def open_killing_storage(point: str) -> Storage:
    spec = json.loads(os.environ["SV_TEST_STORAGE"])
    if spec["backend"] == "sqlite":
        return _killing(SQLiteStorage, point)(spec["path"])
    return _killing(PostgresStorage, point)(spec["dsn"], table=spec["table"])


def _save(path: str, shares: Sequence[str]) -> None:
    with open(path, "w", encoding="ascii") as out:
        out.write("".join(f"{share}\n" for share in shares))
        out.flush()
        os.fsync(out.fileno())


def once(point: str) -> None:
    ks = Keystore(open_killing_storage(point))
    new = os.environ["SV_TEST_NEW"]
    if new.startswith("shares:"):
        _, n, t = new.split(":")
        pending = ks.prepare_rekey(os.environ["SV_TEST_OLD"], shares=int(n), threshold=int(t))
        _save(os.environ["SV_TEST_SHARES"], pending.shares)
    else:
        pending = ks.prepare_rekey(os.environ["SV_TEST_OLD"], passphrase=new, scrypt=FAST_SCRYPT)
    if point == "prepared":
        _die()
    ks.complete_rekey(pending)
    if point == "committed":
        _die()


def loop() -> None:
    ks = Keystore(open_killing_storage("none"))
    passphrases = {"A": os.environ["SV_TEST_OLD"], "B": os.environ["SV_TEST_NEW"]}
    now = "A"
    while True:
        target = "B" if now == "A" else "A"
        ks.rekey(passphrases[now], passphrase=passphrases[target], scrypt=FAST_SCRYPT)
        now = target
        print(now, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "once":
        once(sys.argv[2])
    else:
        loop()
