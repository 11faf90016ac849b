"""The index doubles its buckets as the store grows (issue 29: a write re-sealed a bucket of records / 64).

On SQLite and PostgreSQL: the write that would leave a bucket with more than
twice as many entries as there are buckets re-files every entry into twice as
many, in its own apply; every record still reads back, also through a
Keystore that knew the old count; rolling back a record or a bucket across the
split is still detected; a damaged bucket makes the splitting write fail with
nothing written. A store written before buckets could split (64, fixture in
``data/``) reads and splits as a new one does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from secretumvault.errors import CorruptRecord
from secretumvault.keystore import Change, Keystore, SQLiteStorage, Storage, StoredValue
from secretumvault.keystore.index import (
    BUCKETS,
    MAX_BUCKETS,
    ROOT_PATH,
    Bucket,
    IndexKeys,
    RootIndex,
    bucket_count_for,
    bucket_path,
    needs_split,
    tag_key,
)

from .conftest import PASSPHRASE, snapshot, unsealed_keystore

DATA = Path(__file__).with_name("data")


def _root(keystore: Keystore, storage: Storage) -> RootIndex:
    stored = storage.get(ROOT_PATH)
    assert stored is not None
    return keystore._require_unsealed().index.open_root(stored.value)


def _other(storage: Storage, passphrase: str = PASSPHRASE) -> Keystore:
    """A second Keystore on the same store, as another process would have."""
    other = Keystore(storage)
    other.unseal(passphrase)
    return other


def _names_in_bucket(keystore: Keystore, number: int, count: int) -> Iterator[str]:
    """Record names whose path files into bucket ``number`` of ``count`` buckets."""
    index = keystore._require_unsealed().index
    i = 0
    while True:
        name = f"grow/{i}"
        if index.locate("data/" + name)[1] % count == number:
            yield name
        i += 1


@pytest.fixture
def full_bucket(keystore: Keystore, storage: Storage) -> Callable[[], str]:
    """Bucket 0 of 64 at its limit (128 entries): the next record filed there splits the buckets."""
    names = _names_in_bucket(keystore, 0, BUCKETS)
    keystore.apply([Change.put(next(names), b"v") for _ in range(2 * BUCKETS)])
    assert len(_root(keystore, storage).buckets) == BUCKETS
    return lambda: next(names)


def test_the_write_that_overfills_a_bucket_doubles_them(
    keystore: Keystore, storage: Storage, full_bucket: Callable[[], str]
) -> None:
    keystore.put("elsewhere", b"written before the split")
    before = _root(keystore, storage)
    name = full_bucket()
    keystore.put(name, b"the 129th")
    root = _root(keystore, storage)
    assert len(root.buckets) == 2 * BUCKETS
    assert root.seq == before.seq + 1
    assert set(root.buckets) == {root.seq}  # every bucket written by the splitting write
    assert all(storage.get(bucket_path(n)) is not None for n in range(2 * BUCKETS))
    # Every record reads back, here and through a keystore that never saw the index before.
    fresh = _other(storage)
    for reader in (keystore, fresh):
        assert reader.get(name) == b"the 129th"
        assert reader.get("elsewhere") == b"written before the split"
        assert len(reader.list("grow/")) == 2 * BUCKETS + 1
        assert all(reader.get(path) == b"v" for path in reader.list("grow/") if path != name)


def test_every_entry_lands_in_the_bucket_its_tag_names(
    keystore: Keystore, storage: Storage, full_bucket: Callable[[], str]
) -> None:
    keystore.put(full_bucket(), b"split")
    _assert_filed_by_tag(keystore, storage)


def _assert_filed_by_tag(keystore: Keystore, storage: Storage) -> None:
    index = keystore._require_unsealed().index
    root = _root(keystore, storage)
    listed = 0
    for number in range(len(root.buckets)):
        stored = storage.get(bucket_path(number))
        assert stored is not None
        bucket = index.open_bucket(stored.value, number, root.buckets[number])
        assert all(tag_key(tag) % len(root.buckets) == number for tag in bucket.entries)
        listed += len(bucket.entries)
    assert listed == len(keystore.list())


def test_a_keystore_that_knew_64_buckets_reads_and_writes_after_the_split(
    keystore: Keystore, storage: Storage, full_bucket: Callable[[], str]
) -> None:
    other = _other(storage)
    first = next(_names_in_bucket(keystore, 1, BUCKETS))
    other.put(first, b"by the other, before")  # it has now opened (and sealed) a 64-bucket root
    assert other._require_unsealed().index.bucket_count() == BUCKETS
    splitting = full_bucket()
    keystore.put(splitting, b"split here")
    assert len(_root(keystore, storage).buckets) == 2 * BUCKETS
    assert other.get(splitting) == b"split here"
    assert other.get(first) == b"by the other, before"
    assert other._require_unsealed().index.bucket_count() == 2 * BUCKETS
    # A writer whose guess is stale (64) reads again, once, under the new count.
    stale = _other(storage)
    stale.put("moved/0", b"x")
    keystore.put(full_bucket(), b"advance the root past what stale saw")
    stale_index = stale._require_unsealed().index
    stale_index._opened_root = None  # as a process that last opened a 64-bucket root
    assert stale_index.bucket_count() == BUCKETS
    later = next(_names_in_bucket(keystore, BUCKETS, 2 * BUCKETS))  # bucket 0 of 64, 64 of 128
    stale.put(later, b"by the stale one, after")
    assert keystore.get(later) == b"by the stale one, after"
    assert keystore.get("moved/0") == b"x"
    assert len(_root(keystore, storage).buckets) == 2 * BUCKETS
    _assert_filed_by_tag(keystore, storage)


class _SplitBetweenReads(SQLiteStorage):
    """Runs ``hook`` (once) right after a read of two rows: the root and a record, as a read starts."""

    hook: Callable[[], object] | None = None

    def get_many(self, paths: Sequence[str]) -> dict[str, StoredValue]:
        rows = super().get_many(paths)
        if self.hook is not None and len(paths) == 2:
            hook, self.hook = self.hook, None
            hook()
        return rows


def test_a_read_that_races_a_split_reads_again_under_the_new_count(tmp_path: Path) -> None:
    writer_storage = SQLiteStorage(tmp_path / "vault.db")
    writer = unsealed_keystore(writer_storage)
    names = _names_in_bucket(writer, 0, BUCKETS)
    writer.apply([Change.put(next(names), b"v") for _ in range(2 * BUCKETS)])
    target = next(_names_in_bucket(writer, BUCKETS, 2 * BUCKETS))  # bucket 0 of 64, 64 of 128
    writer.put(target, b"read me")
    reader_storage = _SplitBetweenReads(tmp_path / "vault.db")
    reader = _other(reader_storage)
    reader_storage.hook = lambda: writer.put(next(names), b"splits")
    assert reader.get(target) == b"read me"
    assert reader_storage.hook is None  # the split did come between the two reads
    assert len(_root(writer, writer_storage).buckets) == 2 * BUCKETS
    reader_storage.close()
    writer_storage.close()


def test_concurrent_writers_across_a_split_all_land(
    keystore: Keystore, storage: Storage, full_bucket: Callable[[], str]
) -> None:
    names = [full_bucket() for _ in range(8)] + [f"other/{i}" for i in range(8)]
    start = threading.Barrier(len(names))
    errors: list[BaseException] = []

    def put(name: str) -> None:
        start.wait()
        try:
            keystore.put(name, name.encode())
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(_root(keystore, storage).buckets) == 2 * BUCKETS
    fresh = _other(storage)
    assert all(fresh.get(name) == name.encode() for name in names)


def test_rolling_back_a_record_or_a_bucket_across_the_split_is_detected(
    keystore: Keystore, storage: Storage, full_bucket: Callable[[], str]
) -> None:
    name = full_bucket()
    keystore.put(name, b"old")
    old_record = storage.get("data/" + name)
    old_bucket = storage.get(bucket_path(0))
    assert old_record is not None and old_bucket is not None
    keystore.put(full_bucket(), b"split")
    keystore.put(name, b"new")
    count = len(_root(keystore, storage).buckets)
    assert count == 2 * BUCKETS

    current = storage.get("data/" + name)
    assert current is not None
    storage.put("data/" + name, old_record.value)
    with pytest.raises(CorruptRecord, match="older copy"):
        _other(storage).get(name)
    storage.put("data/" + name, current.value)
    assert _other(storage).get(name) == b"new"

    number = keystore._require_unsealed().index.locate("data/" + name)[1] % count
    storage.put(bucket_path(number), old_bucket.value)  # bucket 0 from before the split
    with pytest.raises(CorruptRecord, match=r"rolled back|failed authentication"):
        _other(storage).get(name)


def test_a_damaged_bucket_fails_the_splitting_write_and_nothing_is_written(
    keystore: Keystore, storage: Storage, full_bucket: Callable[[], str]
) -> None:
    # Bucket 1 is not touched by the splitting write, but the split reads (and checks) it.
    name_in_1 = next(_names_in_bucket(keystore, 1, BUCKETS))
    keystore.put(name_in_1, b"first")
    stale = storage.get(bucket_path(1))
    assert stale is not None
    keystore.put(name_in_1, b"second")
    storage.put(bucket_path(1), stale.value)  # an older copy put back
    before = snapshot(storage)
    with pytest.raises(CorruptRecord, match="rolled back"):
        keystore.put(full_bucket(), b"would split")
    assert snapshot(storage) == before
    assert len(_root(keystore, storage).buckets) == BUCKETS


def test_a_store_of_64_buckets_from_before_splitting_reads_writes_and_splits(storage: Storage) -> None:
    # Written by the code before buckets could split (see data/README.md): 300 records, one
    # written twice, one deleted.
    conn = sqlite3.connect(f"file:{DATA / 'index-64-buckets.db'}?mode=ro", uri=True)
    for path, value in conn.execute("SELECT path, value FROM records ORDER BY revision"):
        storage.put(path, bytes(value))
    conn.close()
    keystore = _other(storage, "index passphrase")
    assert len(keystore.list("records/")) == 299
    assert keystore.get("records/000") == b"value 0, written again"
    assert all(keystore.get(f"records/{i:03d}") == f"value {i}".encode() for i in range(1, 299))
    names = _names_in_bucket(keystore, 0, BUCKETS)
    while len(_root(keystore, storage).buckets) == BUCKETS:
        keystore.put(next(names), b"filling bucket 0")
    assert len(_root(keystore, storage).buckets) == 2 * BUCKETS
    fresh = _other(storage, "index passphrase")
    assert all(fresh.get(f"records/{i:03d}") == f"value {i}".encode() for i in range(1, 299))


def test_locate_files_as_the_64_bucket_code_did() -> None:
    # Before splitting, a path's bucket was the first byte of its tag's digest, modulo 64.
    index = IndexKeys(bytes(range(32)))
    tag_key_ = hmac.new(b"k", b"p", hashlib.sha256).digest()  # any digest: the rule is arithmetic
    tag = base64.b64encode(tag_key_[:16]).decode()
    assert tag_key(tag) % 64 == tag_key_[0] % 64
    for i in range(500):
        tag, key = index.locate(f"data/{i}")
        assert key == tag_key(tag)
        assert key % 64 == base64.b64decode(tag)[0] % 64
        assert key % 128 in (key % 64, key % 64 + 64)  # a doubling sends n to n or n + 64


def test_bucket_counts() -> None:
    assert bucket_count_for(0) == BUCKETS
    assert bucket_count_for(2 * BUCKETS * BUCKETS) == BUCKETS
    assert bucket_count_for(2 * BUCKETS * BUCKETS + 1) == 2 * BUCKETS
    assert bucket_count_for(10**12) == MAX_BUCKETS
    full = Bucket(0, 1, {str(i): 1 for i in range(2 * BUCKETS)})
    over = Bucket(0, 1, {str(i): 1 for i in range(2 * BUCKETS + 1)})
    assert not needs_split([full], BUCKETS)
    assert needs_split([full, over], BUCKETS)
    assert not needs_split([Bucket(0, 1, {str(i): 1 for i in range(2 * MAX_BUCKETS + 1)})], MAX_BUCKETS)


@pytest.mark.parametrize("count", [0, 32, 63, 96, 100, 2 * MAX_BUCKETS])
def test_a_root_with_a_bucket_count_the_code_never_writes_is_malformed(count: int) -> None:
    index = IndexKeys(bytes(32))
    sealed = index.seal_root(RootIndex(5, 1, (1,) * count))
    with pytest.raises(CorruptRecord, match="malformed"):
        IndexKeys(bytes(32)).open_root(sealed)


@pytest.mark.parametrize("number", [0, 255, 256, 300, MAX_BUCKETS - 1])
def test_a_sealed_bucket_opens_only_under_its_own_number(number: int) -> None:
    index = IndexKeys(bytes(32))
    sealed = index.seal_bucket(Bucket(number, 7, {"t": 7}))
    assert IndexKeys(bytes(32)).open_bucket(sealed, number, 7).entries == {"t": 7}
    for other in {number ^ 1, number % 256, number + 256, (number * 2) % MAX_BUCKETS} - {number}:
        with pytest.raises(CorruptRecord, match="failed authentication"):
            IndexKeys(bytes(32)).open_bucket(sealed, other, 7)
