"""The Storage contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from secretumvault.errors import ConflictError, InvalidArgument, KeystoreError
from secretumvault.keystore import PostgresStorage, SQLiteStorage, Storage, StoredValue, open_storage
from tests.conftest import untyped

from .conftest import pg_dsn


def test_implements_the_protocol(storage: Storage) -> None:
    assert isinstance(storage, Storage)


def test_get_of_absent_path_is_none(storage: Storage) -> None:
    assert storage.get("nothing/here") is None


def test_put_then_get_round_trips_bytes(storage: Storage) -> None:
    value = bytes(range(256)) * 3
    revision = storage.put("a/b", value)
    stored = storage.get("a/b")
    assert stored is not None
    assert (stored.value, stored.revision) == (value, revision)


def test_revisions_increase_across_the_whole_store(storage: Storage) -> None:
    revisions = [storage.put("x", b"1"), storage.put("y", b"2"), storage.put("x", b"3")]
    assert revisions == sorted(revisions)
    assert len(set(revisions)) == 3


def test_cas_none_creates_only_if_absent(storage: Storage) -> None:
    revision = storage.cas("k", None, b"first")
    with pytest.raises(ConflictError):
        storage.cas("k", None, b"second")
    stored = storage.get("k")
    assert stored is not None and (stored.value, stored.revision) == (b"first", revision)


def test_cas_with_revision_updates_only_at_that_revision(storage: Storage) -> None:
    first = storage.put("k", b"v1")
    second = storage.cas("k", first, b"v2")
    with pytest.raises(ConflictError):
        storage.cas("k", first, b"stale")
    stored = storage.get("k")
    assert stored is not None and (stored.value, stored.revision) == (b"v2", second)


def test_cas_with_revision_on_absent_path_conflicts(storage: Storage) -> None:
    with pytest.raises(ConflictError):
        storage.cas("absent", 1, b"v")
    assert storage.get("absent") is None


def test_deleted_and_recreated_path_does_not_reuse_a_revision(storage: Storage) -> None:
    old = storage.put("k", b"v1")
    assert storage.delete("k") is True
    storage.put("k", b"v2")
    with pytest.raises(ConflictError):
        storage.cas("k", old, b"lost update")


def test_delete_reports_whether_there_was_a_record(storage: Storage) -> None:
    storage.put("k", b"v")
    assert storage.delete("k") is True
    assert storage.delete("k") is False
    assert storage.get("k") is None


def test_list_by_prefix_is_sorted_and_exact(storage: Storage) -> None:
    for path in ["a/2", "a/1", "ab", "b/1", "a%/x", "a_/y"]:
        storage.put(path, b"v")
    assert storage.list("a/") == ["a/1", "a/2"]
    # LIKE wildcards in a prefix are plain characters.
    assert storage.list("a%") == ["a%/x"]
    assert storage.list("a_") == ["a_/y"]
    assert storage.list("") == sorted(["a/2", "a/1", "ab", "b/1", "a%/x", "a_/y"])
    assert storage.list("zzz") == []


def test_non_ascii_paths(storage: Storage) -> None:
    storage.put("clé/ключ/鍵", b"v")
    assert storage.list("clé/") == ["clé/ключ/鍵"]


def test_closed_storage_refuses_work(storage_spec: dict[str, Any]) -> None:
    opened = open_storage(**storage_spec)
    opened.close()
    with pytest.raises(KeystoreError):
        opened.get("k")


def test_threads_racing_on_cas_lose_no_update(storage: Storage) -> None:
    storage.put("counter", b"0")
    threads, increments = 4, 25

    def work() -> None:
        for _ in range(increments):
            while True:
                stored = storage.get("counter")
                assert stored is not None
                try:
                    storage.cas("counter", stored.revision, str(int(stored.value) + 1).encode())
                    break
                except ConflictError:
                    continue

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stored = storage.get("counter")
    assert stored is not None and int(stored.value) == threads * increments


def test_open_storage_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument):
        open_storage("sqlite")
    with pytest.raises(InvalidArgument):
        open_storage("postgresql", path=tmp_path / "x.db")
    with pytest.raises(InvalidArgument):
        open_storage(untyped("mysql"), path=tmp_path / "x.db")


def test_postgres_table_name_is_checked() -> None:
    with pytest.raises(InvalidArgument):
        PostgresStorage("postgresql://127.0.0.1:1/x", table="records; DROP TABLE x")


def test_postgres_unreachable_server_is_a_keystore_error() -> None:
    with pytest.raises(KeystoreError):
        PostgresStorage("postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=2")


def test_sqlite_file_is_in_wal_mode(sqlite_storage: SQLiteStorage, tmp_path: Path) -> None:
    sqlite_storage.put("k", b"v")
    conn = sqlite3.connect(tmp_path / "vault.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(KeystoreError, match="schema version 99"):
        SQLiteStorage(path)


def test_sqlite_opening_an_existing_store_writes_nothing(tmp_path: Path) -> None:
    # A short command (``transit encrypt``) must not pay for a commit and a WAL checkpoint
    # just to open the store: its schema is read, not rewritten.
    path = tmp_path / "vault.db"
    first = SQLiteStorage(path)
    revision = first.put("k", b"v")
    first.close()  # the last connection checkpoints the WAL into the file
    before = path.read_bytes()
    again = SQLiteStorage(path)
    assert again.get("k") == StoredValue(b"v", revision)
    assert Path(f"{path}-wal").stat().st_size == 0  # no transaction was written
    again.close()
    assert path.read_bytes() == before
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()


def test_sqlite_creates_the_schema_of_an_empty_file_once(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch(mode=0o600)
    one, two = SQLiteStorage(path), SQLiteStorage(path)  # the second finds it made
    revision = one.put("k", b"v")
    assert two.get("k") == StoredValue(b"v", revision)
    one.close()
    two.close()


def test_sqlite_unopenable_path_is_a_keystore_error(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError):
        SQLiteStorage(tmp_path / "no" / "such" / "dir" / "vault.db")


def test_connection_error_does_not_echo_the_password() -> None:
    dsn = "postgresql://user:hunter2-secret@127.0.0.1:1/db?connect_timeout=1"
    with pytest.raises(KeystoreError) as info:
        PostgresStorage(dsn)
    assert "hunter2-secret" not in str(info.value)


def test_postgres_repr_shows_no_dsn() -> None:
    dsn = pg_dsn()
    storage = PostgresStorage(dsn, table=f"t_{uuid.uuid4().hex}")
    try:
        assert dsn not in repr(storage)
        assert "postgresql://" not in repr(storage)
    finally:
        storage.drop()
        storage.close()
