"""Keystore.apply: several records in one transaction, all or nothing (issue 29).

On SQLite and PostgreSQL: each change keeps its own compare-and-set check, a
failed check writes nothing (the raw rows are compared), the records share one
advance of the index root, and rolling back any one of them is still detected.
Also: a Keystore's cache of opened index buckets never hides another writer's
change, nor a bucket put back from before it.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from secretumvault.errors import (
    ConflictError,
    CorruptRecord,
    InvalidArgument,
    InvalidType,
    KeyNotFound,
    SealedError,
    StorageBusy,
)
from secretumvault.keystore import Change, Keystore, SQLiteStorage, Storage
from secretumvault.keystore.index import ROOT_PATH, bucket_path

from .conftest import FAST_SCRYPT, PASSPHRASE, snapshot


def _root_seq(keystore: Keystore, storage: Storage) -> int:
    stored = storage.get(ROOT_PATH)
    assert stored is not None
    return keystore._require_unsealed().index.open_root(stored.value).seq


def _other(storage: Storage) -> Keystore:
    """A second Keystore on the same store, as another process would have."""
    other = Keystore(storage)
    other.unseal(PASSPHRASE)
    return other


def test_apply_writes_every_change_in_one_advance_of_the_root(keystore: Keystore, storage: Storage) -> None:
    old = keystore.put("old", b"to be replaced")
    gone = keystore.put("gone", b"to be deleted")
    before = _root_seq(keystore, storage)
    versions = keystore.apply(
        [
            Change.put("new", b"created"),
            Change.cas("old", old, b"replaced"),
            Change.delete("gone", expected_version=gone),
            Change.cas("fresh", None, b"made if absent"),
        ]
    )
    assert _root_seq(keystore, storage) == before + 1
    assert versions[2] is None
    assert [keystore.get_entry(p).version for p in ("new", "old", "fresh")] == [
        versions[0],
        versions[1],
        versions[3],
    ]
    assert keystore.get("new") == b"created"
    assert keystore.get("old") == b"replaced"
    assert keystore.get("fresh") == b"made if absent"
    with pytest.raises(KeyNotFound):
        keystore.get("gone")
    # Every record reads back, also through a keystore that never saw the apply.
    assert _other(storage).list() == ["fresh", "new", "old"]


@pytest.mark.parametrize(
    ("failing", "error"),
    [
        (lambda v: Change.cas("a", v + 1_000, b"stale"), ConflictError),
        (lambda v: Change.cas("a", None, b"exists already"), ConflictError),
        (lambda v: Change.delete("absent"), KeyNotFound),
        (lambda v: Change.delete("a", expected_version=v + 1_000), ConflictError),
    ],
    ids=["stale-version", "not-absent", "delete-absent", "stale-delete"],
)
def test_one_failed_check_writes_nothing(
    keystore: Keystore, storage: Storage, failing: Callable[[int], Change], error: type[Exception]
) -> None:
    version = keystore.put("a", b"first")
    keystore.put("b", b"second")
    before = snapshot(storage)
    with pytest.raises(error):
        keystore.apply([Change.put("b", b"would change"), failing(version), Change.put("c", b"would be new")])
    assert snapshot(storage) == before
    assert keystore.get("b") == b"second"
    # The keystore is still usable: the same changes without the failing one go through.
    keystore.apply([Change.put("b", b"changed"), Change.put("c", b"new")])
    assert keystore.get("b") == b"changed"
    assert keystore.get("c") == b"new"


def test_bad_arguments_are_refused_before_anything_is_written(keystore: Keystore, storage: Storage) -> None:
    keystore.put("a", b"x")
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match="same path twice"):
        keystore.apply([Change.put("a", b"1"), Change.delete("a")])
    with pytest.raises(InvalidType, match="Change"):
        keystore.apply([("a", b"1")])  # type: ignore[list-item]
    with pytest.raises(InvalidType, match="sequence"):
        keystore.apply(Change.put("a", b"1"))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="NUL"):
        keystore.apply([Change("a\x00b", b"1", None)])
    with pytest.raises(InvalidArgument, match="empty"):
        Change.put("", b"1")
    with pytest.raises(InvalidType):
        Change.put("a", "text")  # type: ignore[arg-type]
    assert keystore.apply([]) == []
    assert snapshot(storage) == before
    keystore.seal()
    with pytest.raises(SealedError):
        keystore.apply([Change.put("a", b"1")])
    assert snapshot(storage) == before


def test_a_change_hides_its_value_from_repr() -> None:
    assert "s3cret" not in repr(Change.put("p", b"s3cret"))
    assert repr(Change.delete("p", expected_version=3)) == "Change(path='p', expected_version=3)"


def test_rolling_back_one_record_of_an_apply_is_detected(keystore: Keystore, storage: Storage) -> None:
    keystore.apply([Change.put("x", b"x1"), Change.put("y", b"y1")])
    old_x = storage.get("data/x")
    assert old_x is not None
    keystore.apply([Change.put("x", b"x2"), Change.put("y", b"y2")])
    storage.put("data/x", old_x.value)
    with pytest.raises(CorruptRecord, match="older copy"):
        keystore.get("x")
    with pytest.raises(CorruptRecord, match="older copy"):
        _other(storage).get("x")
    assert keystore.get("y") == b"y2"  # its partner is untouched


def test_applies_from_two_keystores_racing_lose_nothing(storage: Storage) -> None:
    """Two keystores (as two processes) on one store: their applies race on the index root by
    compare-and-set and retry; every increment of a shared counter and every record lands."""
    first = Keystore(storage)
    first.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    first.unseal(PASSPHRASE)
    second = _other(storage)
    first.put("counter", b"0")
    rounds, failures = 15, []

    def work(keystore: Keystore, name: str) -> None:
        try:
            for n in range(rounds):
                while True:
                    entry = keystore.get_entry("counter")
                    try:
                        keystore.apply(
                            [
                                Change.cas("counter", entry.version, str(int(entry.value) + 1).encode()),
                                Change.put(f"{name}/{n}", b"done"),
                            ]
                        )
                        break
                    except ConflictError:
                        continue
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            failures.append(exc)

    threads = [
        threading.Thread(target=work, args=(keystore, name))
        for keystore, name in ((first, "a"), (second, "b"), (first, "c"), (second, "d"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert first.get("counter") == str(4 * rounds).encode()
    assert len(_other(storage).list()) == 1 + 4 * rounds


def test_cached_buckets_never_hide_another_keystores_write(keystore: Keystore, storage: Storage) -> None:
    other = _other(storage)
    keystore.put("k", b"mine")
    assert keystore.get("k") == b"mine"  # this keystore now holds k's bucket, opened
    other.put("k", b"theirs")
    assert keystore.get("k") == b"theirs"
    other.delete("k")
    with pytest.raises(KeyNotFound):
        keystore.get("k")
    version = other.put("k", b"again")
    assert keystore.get_entry("k").version == version
    keystore.cas("k", version, b"mine again")  # its write starts from the other's bucket
    assert other.get("k") == b"mine again"


def test_a_cached_bucket_put_back_is_still_detected(keystore: Keystore, storage: Storage) -> None:
    """The very bytes a keystore has cached, put back after another keystore wrote the bucket:
    the cache saves only the decryption, never the check against the root."""
    keystore.put("k", b"one")
    bucket = bucket_path(
        keystore._require_unsealed().index.locate("data/k")[1] % 64
    )  # 64 buckets: a new store
    assert keystore.get("k") == b"one"
    cached_bytes, cached_record = storage.get(bucket), storage.get("data/k")
    assert cached_bytes is not None and cached_record is not None
    _other(storage).put("k", b"two")
    storage.put(bucket, cached_bytes.value)
    storage.put("data/k", cached_record.value)
    with pytest.raises(CorruptRecord, match="rolled back"):
        keystore.get("k")


class TracedSQLite(SQLiteStorage):
    """A real SQLiteStorage whose connections report every statement they run."""

    def __init__(self, path: Path) -> None:
        self.statements: list[str] = []
        super().__init__(path)

    def _connect(self) -> sqlite3.Connection:  # type: ignore[override]
        conn = super()._connect()
        conn.set_trace_callback(self.statements.append)
        return conn

    def commits_during(self, call: Callable[[], object]) -> int:
        self.statements.clear()
        call()
        return sum(1 for statement in self.statements if statement.strip().upper() == "COMMIT")


def test_a_sqlite_apply_is_one_transaction(tmp_path: Path) -> None:
    """Counted in SQLite itself: one COMMIT for four records, as for one."""
    storage = TracedSQLite(tmp_path / "vault.db")
    try:
        keystore = Keystore(storage)
        keystore.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
        keystore.unseal(PASSPHRASE)
        changes = [Change.put(f"p{n}", b"v") for n in range(4)]
        assert storage.commits_during(lambda: keystore.apply(changes)) == 1
        assert storage.commits_during(lambda: keystore.put("single", b"v")) == 1
        assert keystore.list() == ["p0", "p1", "p2", "p3", "single"]
    finally:
        storage.close()


def _queued_behind_a_held_turn(keystore: Keystore, calls: list[Callable[[], object]]) -> list[object]:
    """Run ``calls`` on threads while the test holds the keystore's writer turn, release it once
    every call is queued, and return each call's result or exception."""
    records = keystore._records
    outcomes: list[object] = [None] * len(calls)

    def run(n: int) -> None:
        try:
            outcomes[n] = calls[n]()
        except Exception as exc:  # returned to the test
            outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    assert records._writers.acquire(timeout=5)
    try:
        for thread in threads:
            thread.start()
        queued = threading.Event()
        for _ in range(1000):  # a bound, not a timing: each check waits for the threads to move
            with records._queue_lock:
                if len(records._queue) == len(calls):
                    queued.set()
                    break
            queued.wait(0.01)
        assert queued.is_set(), "the writers never queued"
    finally:
        records._writers.release()
    for thread in threads:
        thread.join()
    return outcomes


def test_writers_queued_behind_a_turn_share_one_transaction(tmp_path: Path) -> None:
    """Group commit: one COMMIT and one root advance for eight writers; the one whose check
    fails gets its ConflictError and writes nothing, the others are not held back by it."""
    storage = TracedSQLite(tmp_path / "vault.db")
    try:
        keystore = Keystore(storage)
        keystore.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
        keystore.unseal(PASSPHRASE)
        stale = keystore.put("contested", b"as it is")
        keystore.put("contested", b"moved on")
        before = _root_seq(keystore, storage)
        calls: list[Callable[[], object]] = [
            functools.partial(keystore.put, f"w{n}", f"value {n}".encode()) for n in range(7)
        ]
        calls.append(lambda: keystore.cas("contested", stale, b"stale write"))
        storage.statements.clear()
        outcomes = _queued_behind_a_held_turn(keystore, calls)
        commits = sum(1 for statement in storage.statements if statement.strip().upper() == "COMMIT")
        assert commits == 1
        assert _root_seq(keystore, storage) == before + 1
        assert isinstance(outcomes[-1], ConflictError)
        assert keystore.get("contested") == b"moved on"
        for n in range(7):
            assert outcomes[n] == keystore.get_entry(f"w{n}").version
            assert _other(storage).get(f"w{n}") == f"value {n}".encode()
    finally:
        storage.close()


def test_queued_writers_of_one_path_each_get_their_own_check(keystore: Keystore, storage: Storage) -> None:
    """Two writers queued on the same record: the second is checked against the first's outcome
    (in a later transaction), so exactly one compare-and-set from the same version wins."""
    version = keystore.put("shared", b"start")
    calls: list[Callable[[], object]] = [
        lambda: keystore.cas("shared", version, b"first"),
        lambda: keystore.cas("shared", version, b"second"),
        lambda: keystore.put("elsewhere", b"unrelated"),
    ]
    outcomes = _queued_behind_a_held_turn(keystore, calls)
    wins = [outcome for outcome in outcomes[:2] if isinstance(outcome, int)]
    assert len(wins) == 1
    assert sum(isinstance(outcome, ConflictError) for outcome in outcomes[:2]) == 1
    assert keystore.get_entry("shared").version == wins[0]
    assert keystore.get("shared") in (b"first", b"second")
    assert keystore.get("elsewhere") == b"unrelated"


def _short_wait_keystore(path: Path) -> tuple[SQLiteStorage, Keystore]:
    storage = SQLiteStorage(path, pool_timeout=0.3)
    keystore = Keystore(storage)
    keystore.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    keystore.unseal(PASSPHRASE)
    return storage, keystore


def test_a_writer_whose_turn_never_comes_is_storage_busy_and_writes_nothing(tmp_path: Path) -> None:
    storage, keystore = _short_wait_keystore(tmp_path / "vault.db")
    try:
        keystore.put("a", b"1")
        before = snapshot(storage)
        records = keystore._records
        assert records._writers.acquire(timeout=5)  # another writer's turn that never ends
        try:
            with pytest.raises(StorageBusy):
                keystore.apply([Change.put("a", b"2"), Change.put("b", b"2")])
            assert records._queue == []  # it left the queue: no later turn writes it
        finally:
            records._writers.release()
        assert snapshot(storage) == before
        keystore.put("b", b"3")  # the next turn is served as usual
        assert keystore.get("b") == b"3"
    finally:
        storage.close()


def test_a_writer_taken_into_a_slow_group_gets_its_outcome_not_storage_busy(tmp_path: Path) -> None:
    """Its changes were taken by the turn holder, whose commit waits on SQLite's write lock
    (held by another process) beyond the writer's pool_timeout: the writer waits for that
    commit and gets its version, since its changes are in it."""
    path = tmp_path / "vault.db"
    storage, keystore = _short_wait_keystore(path)
    other = sqlite3.connect(path, isolation_level=None)
    records = keystore._records
    try:
        calls: list[Callable[[], object]] = [
            functools.partial(keystore.put, "x", b"from x"),
            functools.partial(keystore.put, "y", b"from y"),
        ]
        outcomes: list[object] = [None, None]

        def run(n: int) -> None:
            try:
                outcomes[n] = calls[n]()
            except Exception as exc:  # returned to the test
                outcomes[n] = exc

        threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
        assert records._writers.acquire(timeout=5)
        try:
            for thread in threads:
                thread.start()
            for _ in range(1000):  # a bound: wait until both are queued
                with records._queue_lock:
                    if len(records._queue) == 2:
                        break
                threading.Event().wait(0.01)
            other.execute("BEGIN IMMEDIATE")  # SQLite's write lock, held elsewhere
        finally:
            records._writers.release()  # one of them takes both and waits on SQLite
        # Past the writers' pool_timeout (0.3 s): the one not holding the turn stops waiting for
        # it and waits for the commit that holds its changes instead.
        threading.Event().wait(1.0)
        other.execute("ROLLBACK")
        for thread in threads:
            thread.join()
        assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
        assert keystore.get_entry("x").version == outcomes[0]
        assert keystore.get("y") == b"from y"
    finally:
        other.close()
        storage.close()


def test_reads_fetch_a_bucket_only_when_the_root_expects_one_this_keystore_does_not_know(
    tmp_path: Path,
) -> None:
    """A bucket holds records / 64 entries: fetching it on every read made reads grow with the store."""
    storage = TracedSQLite(tmp_path / "vault.db")
    try:
        keystore = Keystore(storage)
        keystore.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
        keystore.unseal(PASSPHRASE)
        keystore.put("k", b"mine")
        bucket = bucket_path(
            keystore._require_unsealed().index.locate("data/k")[1] % 64
        )  # 64 buckets: a new store

        def bucket_fetched(call: Callable[[], object]) -> bool:
            storage.statements.clear()
            call()
            return any(bucket in statement for statement in storage.statements)

        assert not bucket_fetched(lambda: keystore.get("k"))  # this keystore wrote it: known
        _other(storage).put("k", b"theirs")  # the root now expects a bucket it has not seen
        assert bucket_fetched(lambda: keystore.get("k"))
        assert keystore.get("k") == b"theirs"
        assert not bucket_fetched(lambda: keystore.get("k"))  # read once at that write: known
    finally:
        storage.close()
