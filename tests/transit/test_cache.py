"""The transit key cache: used while provably current, never after another process changed the key.

Changes are made by a separate process (``_worker.py``) on the same store,
SQLite and PostgreSQL, and the very next call here must see them. The cache
must also be used: an unchanged key is not read and parsed again.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secretumvault.errors import (
    CorruptRecord,
    DecryptionError,
    KeyNotFound,
    KeystoreError,
    PolicyViolation,
    SealedError,
)
from secretumvault.keystore import Keystore, SQLiteStorage, open_storage
from secretumvault.keystore.storage import ChangeTracking
from secretumvault.transit import Transit
from secretumvault.transit._store import MAX_CACHED_KEYS, LoadedKey
from tests.keystore.conftest import PASSPHRASE, storage_spec, unsealed_keystore

__all__ = ["storage_spec"]  # the fixture, imported for pytest

WORKER = Path(__file__).with_name("_worker.py")


@pytest.fixture
def shared(storage_spec: dict[str, Any]) -> Iterator[tuple[dict[str, Any], Keystore]]:
    """A storage spec and an unsealed keystore over it, in this process."""
    storage = open_storage(**storage_spec)
    yield storage_spec, unsealed_keystore(storage)
    storage.close()


def other_process(spec: dict[str, Any], action: str, name: str = "k") -> None:
    env = {**os.environ, "SV_TEST_STORAGE": json.dumps(spec), "SV_TEST_PASSPHRASE": PASSPHRASE}
    subprocess.run([sys.executable, str(WORKER), action, name], env=env, check=True, timeout=120)


def cached(transit: Transit, name: str = "k") -> LoadedKey:
    return transit._store._cache[name]


@pytest.mark.parametrize("key_type", ["aes256-gcm96", "ml-kem-768", "hmac", "ed25519"])
def test_other_process_rotation_is_seen_by_the_next_call(
    shared: tuple[dict[str, Any], Keystore], key_type: str
) -> None:
    spec, keystore = shared
    transit = Transit(keystore)
    transit.create_key("k", key_type)

    def operation() -> str:
        if key_type == "hmac":
            return transit.hmac("k", b"x")
        if key_type == "ed25519":
            return transit.sign("k", b"x")
        return transit.encrypt("k", b"x")

    assert operation().startswith("vault:v1:")
    first = cached(transit)
    assert operation().startswith("vault:v1:")
    assert cached(transit) is first  # served from the cache, not read again
    other_process(spec, "rotate")
    assert operation().startswith("vault:v2:")
    assert cached(transit) is not first


def test_other_process_policy_trim_and_delete_are_seen(shared: tuple[dict[str, Any], Keystore]) -> None:
    spec, keystore = shared
    transit = Transit(keystore)
    transit.create_key("k", "ml-kem-768")
    old = transit.encrypt("k", b"old secret")
    assert transit.decrypt("k", old) == b"old secret"
    other_process(spec, "rotate")
    other_process(spec, "min-decryption")
    with pytest.raises(PolicyViolation, match="min_decryption_version"):
        transit.decrypt("k", old)
    other_process(spec, "trim")
    with pytest.raises(PolicyViolation, match="trimmed"):
        transit.decrypt("k", old)
    assert transit.read_key("k").min_available_version == 2
    assert transit.has_key("k")
    other_process(spec, "delete")
    assert not transit.has_key("k")  # the server's inline check: another process's delete is seen
    with pytest.raises(KeyNotFound):
        transit.encrypt("k", b"x")
    assert "k" not in transit._store._cache


def test_write_elsewhere_in_the_store_keeps_the_cached_key(shared: tuple[dict[str, Any], Keystore]) -> None:
    """Another record changed: the key's own version is checked, and it is not read again."""
    spec, keystore = shared
    transit = Transit(keystore)
    transit.create_key("k")
    ciphertext = transit.encrypt("k", b"x")
    first = cached(transit)
    other_process(spec, "write-other")
    assert transit.decrypt("k", ciphertext) == b"x"
    assert cached(transit) is first


def test_deleted_and_recreated_key_is_not_served_from_cache(shared: tuple[dict[str, Any], Keystore]) -> None:
    """Same name, same version number, new key material: the cache must not hide it."""
    spec, keystore = shared
    transit = Transit(keystore)
    transit.create_key("k")
    old = transit.encrypt("k", b"x")
    other_process(spec, "delete")
    Transit(keystore).create_key("k")  # another engine, same keystore: as a third party would
    with pytest.raises(DecryptionError):
        transit.decrypt("k", old)


def test_two_keystores_in_one_process_see_each_others_writes(tmp_path: Path) -> None:
    """Two connections to one SQLite file (as two processes have), interleaved call by call."""
    first_storage, second_storage = SQLiteStorage(tmp_path / "v.db"), SQLiteStorage(tmp_path / "v.db")
    try:
        first = Transit(unsealed_keystore(first_storage))
        second_keystore = Keystore(second_storage)
        second_keystore.unseal(PASSPHRASE)
        second = Transit(second_keystore)
        first.create_key("k")
        for version in range(1, 21):
            assert first.encrypt("k", b"x").startswith(f"vault:v{version}:")
            assert second.encrypt("k", b"x").startswith(f"vault:v{version}:")
            (first if version % 2 else second).rotate_key("k")
    finally:
        first_storage.close()
        second_storage.close()


def test_sealing_empties_the_cache_at_once(keystore: Keystore) -> None:
    transit = Transit(keystore)
    transit.create_key("k", "ml-kem-768")
    transit.decrypt("k", transit.encrypt("k", b"x"))  # loads the secret key too
    loaded = weakref.ref(cached(transit))
    keystore.seal()
    gc.collect()
    assert transit._store._cache == {}
    assert loaded() is None  # nothing else kept the key objects alive
    with pytest.raises(SealedError):
        transit.encrypt("k", b"x")
    keystore.unseal(PASSPHRASE)
    assert transit.encrypt("k", b"x").startswith("vault:v1:")


def test_cache_is_bounded(keystore: Keystore) -> None:
    transit = Transit(keystore)
    for index in range(MAX_CACHED_KEYS + 5):
        transit.create_key(f"k{index}", "hmac")
    for index in range(MAX_CACHED_KEYS + 5):
        transit.hmac(f"k{index}", b"x")
    assert len(transit._store._cache) == MAX_CACHED_KEYS
    assert f"k{MAX_CACHED_KEYS + 4}" in transit._store._cache


# -- the storage methods the cache relies on ------------------------------------------------------


def test_storage_change_counter_and_revision(storage_spec: dict[str, Any]) -> None:
    first, second = open_storage(**storage_spec), open_storage(**storage_spec)  # two connections
    try:
        assert isinstance(first, ChangeTracking) and isinstance(second, ChangeTracking)
        assert first.revision("a") is None
        revision = first.put("a", b"1")
        assert first.revision("a") == second.revision("a") == revision
        counter = first.change_counter()
        if storage_spec["backend"] == "postgresql":
            assert counter is None  # PostgreSQL checks the record's revision instead
        else:
            for _ in range(3):  # it may count a change that did not happen, then settles
                counter = first.change_counter()
            assert first.change_counter() == counter  # nothing changed
            second.put("b", b"2")  # written through another connection
            after_other = first.change_counter()
            assert after_other != counter
            first.put("a", b"3")  # and through this one
            assert first.change_counter() != after_other
        second.delete("a")
        assert first.revision("a") is None
    finally:
        first.close()
        second.close()


def test_pinned_change_counter_stands_for_its_block_until_this_storage_writes(
    storage_spec: dict[str, Any],
) -> None:
    """A server request pins the counter: another process's commit during the block is seen
    by the next block; this process's own write is seen at once."""
    first, second = open_storage(**storage_spec), open_storage(**storage_spec)
    try:
        assert isinstance(first, ChangeTracking)
        first.put("a", b"1")
        for _ in range(3):  # settle (SQLite's watch starts on the second call)
            first.change_counter()
        with first.pin_change_counter():
            pinned = first.change_counter()
            second.put("b", b"2")  # another process commits during the block
            assert first.change_counter() == pinned
        after = first.change_counter()
        with first.pin_change_counter():
            before_own = first.change_counter()
            first.put("a", b"3")  # this storage writes: the pin no longer stands
            after_own = first.change_counter()
        if storage_spec["backend"] == "postgresql":
            assert pinned is after is before_own is after_own is None  # revisions are checked instead
        else:
            assert after != pinned  # after the block, the other commit counts
            assert after_own != before_own
    finally:
        first.close()
        second.close()


def test_closing_a_storage_ends_its_pin(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "v.db")
    with storage.pin_change_counter():
        storage.close()
        with pytest.raises(KeystoreError, match="closed"):
            storage.change_counter()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the inotify fast path is Linux only")
def test_sqlite_fast_path_waits_out_a_writer_mid_commit(tmp_path: Path) -> None:
    """Frames written by an open write transaction (a cache spill) are events, but not yet a
    commit: until that writer is done, every call must count a change, so the caller checks
    the record itself; once it is done, the count settles again."""
    import sqlite3

    path = tmp_path / "v.db"
    storage = SQLiteStorage(path)
    writer = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        storage.put("a", b"1")
        for _ in range(3):
            settled = storage.change_counter()
        assert storage._watch is not None  # the fast path is on
        assert storage.change_counter() == settled
        writer.execute("PRAGMA cache_size = 1")  # spill to the WAL before commit
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO records VALUES ('data/b', zeroblob(200000), 1000000000)")
        seen = [storage.change_counter() for _ in range(4)]
        assert len(set(seen)) == 4 and settled not in seen  # never "unchanged" while it writes
        assert storage.get("data/b") is None  # and indeed not committed yet
        writer.execute("COMMIT")
        after_commit = storage.change_counter()
        assert after_commit not in seen
        assert storage.get("data/b") is not None
        assert storage.change_counter() == after_commit  # settled again
    finally:
        writer.close()
        storage.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_child_never_reads_the_parents_watch(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "v.db")
    try:
        for _ in range(3):
            storage.change_counter()
        pid = os.fork()
        if pid == 0:  # child: must not drain the queue the parent relies on
            code = 0 if storage._watch is None or storage._watch.lost else 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        before = storage.change_counter()
        other = SQLiteStorage(tmp_path / "v.db")
        other.put("x", b"1")
        other.close()
        assert storage.change_counter() != before
    finally:
        storage.close()


def test_threads_sharing_a_storage_each_see_every_other_writers_commit(tmp_path: Path) -> None:
    """The lock-free fast path: while two threads check at once (one may be draining and
    resettling while the other polls), a commit made elsewhere is seen by each thread's next call."""
    storage = SQLiteStorage(tmp_path / "v.db")
    writer = SQLiteStorage(tmp_path / "v.db")
    rounds = 150
    before_write = threading.Barrier(3)
    after_write = threading.Barrier(3)
    missed: list[int] = []

    def check() -> None:
        for _ in range(rounds):
            for _ in range(20):  # the fast path, concurrently with the other thread
                storage.change_counter()
            seen = storage.change_counter()
            before_write.wait()
            after_write.wait()
            if storage.change_counter() == seen:
                missed.append(seen)

    try:
        for _ in range(3):
            storage.change_counter()  # the inotify watch is set up by now
        assert storage._watch is not None
        threads = [threading.Thread(target=check) for _ in range(2)]
        for thread in threads:
            thread.start()
        for index in range(rounds):
            before_write.wait()
            writer.put("data/x", str(index).encode())
            after_write.wait()
        for thread in threads:
            thread.join()
        assert missed == []
    finally:
        writer.close()
        storage.close()


def test_record_deleted_outside_the_keystore_is_corrupt_even_when_cached(
    keystore: Keystore, storage: SQLiteStorage
) -> None:
    """The cache does not turn the keystore's rollback/deletion check into a plain KeyNotFound."""
    transit = Transit(keystore)
    transit.create_key("k")
    transit.encrypt("k", b"x")
    assert "k" in transit._store._cache
    assert storage.delete("data/transit/keys/k")  # behind the keystore's back
    with pytest.raises(CorruptRecord, match="deleted outside the keystore"):
        transit.encrypt("k", b"x")
