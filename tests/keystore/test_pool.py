"""The storages' bounded connection pools: many threads share a few connections, a pool that
stays busy raises StorageBusy and changes nothing, and close() closes every connection."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from secretumvault.errors import InvalidArgument, InvalidType, KeystoreError, StorageBusy
from secretumvault.keystore import PostgresStorage, SQLiteStorage, Storage, open_storage

from .conftest import snapshot

POOL = 3
THREADS = 24  # well above the pool: every call must still succeed (waiting its turn)


def _open(spec: dict[str, Any], **pool: Any) -> Storage:
    return open_storage(**spec, **pool)


def _db_descriptors(path: str) -> int:
    """This process's open descriptors on the store's files (the database, -wal, -shm)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(path):
            count += 1
    return count


def _pg_connections(dsn: str) -> int:
    """Client connections to the test database, not counting the one asking."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def _hold_connection(storage: Storage) -> Any:
    """Check out one pooled connection (a private hook: a call in progress, frozen)."""
    assert isinstance(storage, (SQLiteStorage, PostgresStorage))
    holder = storage._connection()
    holder.__enter__()
    return holder


def test_more_threads_than_connections_all_succeed(storage_spec: dict[str, Any]) -> None:
    storage = _open(storage_spec, max_connections=POOL, pool_timeout=30)
    assert isinstance(storage, (SQLiteStorage, PostgresStorage))
    peak = 0

    def work(index: int) -> list[str]:
        nonlocal peak
        path = f"data/t{index:02d}"
        revision = storage.put(path, b"v%d" % index)
        assert storage.cas(path, revision, b"w%d" % index) > revision
        stored = storage.get(path)
        assert stored is not None and stored.value == b"w%d" % index
        peak = max(peak, storage.open_connections())
        return storage.list(path)

    try:
        with ThreadPoolExecutor(THREADS) as executor:
            listed = list(executor.map(work, range(THREADS)))
        assert listed == [[f"data/t{index:02d}"] for index in range(THREADS)]
        assert 1 <= peak <= POOL
        assert storage.open_connections() <= POOL
    finally:
        storage.close()


def test_a_busy_pool_raises_storage_busy_and_changes_nothing(storage_spec: dict[str, Any]) -> None:
    timeout = 0.3
    storage = _open(storage_spec, max_connections=1, pool_timeout=timeout)
    try:
        storage.put("data/a", b"1")
        before = snapshot(storage)
        holder = _hold_connection(storage)
        try:
            for call in (
                lambda: storage.put("data/b", b"2"),
                lambda: storage.get("data/a"),
                lambda: storage.list("data/"),
                lambda: storage.delete("data/a"),
            ):
                started = time.monotonic()
                with pytest.raises(StorageBusy) as raised:
                    call()
                assert time.monotonic() - started >= timeout * 0.9  # it waited for the pool first
                assert "max_connections" in str(raised.value) and "try again" in str(raised.value)
                assert isinstance(raised.value, KeystoreError)
        finally:
            holder.__exit__(None, None, None)
        assert snapshot(storage) == before  # nothing was written
        storage.put("data/b", b"2")  # and the pool serves again once the connection is back
        assert storage.list("data/") == ["data/a", "data/b"]
    finally:
        storage.close()


def test_sqlite_writers_queue_in_process_and_time_out_as_storage_busy(tmp_path: Path) -> None:
    """While another process holds SQLite's write lock, one writer of ours waits in SQLite's
    busy handler and the next waits on our queue: after pool_timeout that one is StorageBusy."""
    path = tmp_path / "v.db"
    storage = SQLiteStorage(path, max_connections=4, pool_timeout=0.3)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        storage.put("data/a", b"1")
        before = snapshot(storage)
        other.execute("BEGIN IMMEDIATE")  # the write lock, held elsewhere
        first: list[object] = []
        waiting = threading.Thread(target=lambda: first.append(storage.put("data/first", b"1")))
        waiting.start()
        deadline = time.monotonic() + 30
        while not storage._write_lock.locked():  # the first writer is in, waiting on SQLite
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with pytest.raises(StorageBusy):
            storage.put("data/second", b"2")
        assert storage.get("data/a") is not None  # readers are not held up by the queue
        other.execute("ROLLBACK")
        waiting.join(timeout=60)
        assert len(first) == 1  # the first writer went through once the lock was free
        after = snapshot(storage)
        assert "data/second" not in after and "data/first" in after
        assert after == {**before, "data/first": after["data/first"]}
    finally:
        other.close()
        storage.close()


def test_sqlite_close_closes_every_connection(tmp_path: Path) -> None:
    path = str(tmp_path / "v.db")
    storage = SQLiteStorage(path, max_connections=POOL, pool_timeout=30)
    barrier = threading.Barrier(POOL)

    def hold_all(index: int) -> None:
        with storage._connection():
            barrier.wait(timeout=30)  # all POOL connections are open at once
        storage.put(f"data/{index}", b"x")

    with ThreadPoolExecutor(POOL) as executor:
        list(executor.map(hold_all, range(POOL)))
    assert storage.open_connections() == POOL
    assert _db_descriptors(path) >= POOL  # each connection holds the database file open
    storage.close()
    assert storage.open_connections() == 0
    assert _db_descriptors(path) == 0
    with pytest.raises(KeystoreError, match="closed"):
        storage.get("data/0")


def test_sqlite_connection_in_use_at_close_is_closed_when_handed_back(tmp_path: Path) -> None:
    path = str(tmp_path / "v.db")
    storage = SQLiteStorage(path, max_connections=2)
    holder = _hold_connection(storage)
    storage.close()
    assert _db_descriptors(path) > 0  # still in use by a call
    holder.__exit__(None, None, None)
    assert storage.open_connections() == 0 and _db_descriptors(path) == 0


def test_postgres_close_closes_every_connection() -> None:
    from .conftest import pg_dsn

    dsn = pg_dsn()
    table = f"t_pool_{os.getpid()}"
    baseline = _pg_connections(dsn)
    storage = PostgresStorage(dsn, table=table, max_connections=POOL, pool_timeout=30)
    try:
        barrier = threading.Barrier(POOL)

        def hold_all(_: int) -> None:
            with storage._connection():
                barrier.wait(timeout=30)

        with ThreadPoolExecutor(POOL) as executor:
            list(executor.map(hold_all, range(POOL)))
        assert storage.open_connections() == POOL
        assert _pg_connections(dsn) == baseline + POOL
    finally:
        storage.drop()
        storage.close()
    _wait_for(lambda: _pg_connections(dsn) == baseline)  # the server sees the sockets close
    with pytest.raises(KeystoreError, match="closed"):
        storage.get("data/0")


def _wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"max_connections": 0}, InvalidArgument),
        ({"max_connections": 1001}, InvalidArgument),
        ({"max_connections": 2.0}, InvalidType),
        ({"max_connections": True}, InvalidType),
        ({"pool_timeout": 0}, InvalidArgument),
        ({"pool_timeout": float("nan")}, InvalidArgument),
        ({"pool_timeout": "5"}, InvalidType),
    ],
)
def test_bad_pool_settings_are_refused_before_opening(
    tmp_path: Path, arguments: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        SQLiteStorage(tmp_path / "v.db", **arguments)
    assert not (tmp_path / "v.db").exists()
