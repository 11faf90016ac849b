"""Keystore records through the barrier: get, put, cas, delete, list, rotate."""

from __future__ import annotations

import struct
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secretumvault.errors import (
    ConflictError,
    InvalidArgument,
    InvalidType,
    KeyNotFound,
    SealedError,
)
from secretumvault.keystore import Entry, Keystore, SQLiteStorage, Storage, open_storage
from tests.conftest import untyped

from .conftest import FAST_SCRYPT, PASSPHRASE, snapshot


def test_put_get_round_trip(keystore: Keystore) -> None:
    version = keystore.put("transit/keys/foo", b"\x00secret\xff")
    assert keystore.get("transit/keys/foo") == b"\x00secret\xff"
    assert keystore.get_entry("transit/keys/foo") == Entry(b"\x00secret\xff", version)


def test_accepts_bytearray_and_memoryview(keystore: Keystore) -> None:
    keystore.put("a", bytearray(b"one"))
    keystore.put("b", memoryview(b"two"))
    assert (keystore.get("a"), keystore.get("b")) == (b"one", b"two")


def test_empty_value_round_trips(keystore: Keystore) -> None:
    keystore.put("empty", b"")
    assert keystore.get("empty") == b""


def test_put_replaces_and_bumps_the_version(keystore: Keystore) -> None:
    first = keystore.put("k", b"v1")
    second = keystore.put("k", b"v2")
    assert second > first
    assert keystore.get_entry("k") == Entry(b"v2", second)


def test_get_of_absent_path_raises_key_not_found(keystore: Keystore) -> None:
    with pytest.raises(KeyNotFound, match="no record at 'missing'"):
        keystore.get("missing")
    with pytest.raises(KeyError):  # KeyNotFound is also a KeyError
        keystore.get("missing")


def test_cas_create_update_and_conflicts(keystore: Keystore) -> None:
    created = keystore.cas("k", None, b"v1")
    with pytest.raises(ConflictError):
        keystore.cas("k", None, b"clobber")
    updated = keystore.cas("k", created, b"v2")
    with pytest.raises(ConflictError):
        keystore.cas("k", created, b"stale write")
    assert keystore.get_entry("k") == Entry(b"v2", updated)


@pytest.mark.parametrize(
    ("version", "error"),
    [(0, InvalidArgument), (-3, InvalidArgument), (True, InvalidType), ("1", InvalidType)],
)
def test_cas_rejects_bad_versions(keystore: Keystore, version: object, error: type[Exception]) -> None:
    keystore.put("k", b"v")
    with pytest.raises(error):
        keystore.cas("k", untyped(version), b"new")
    assert keystore.get("k") == b"v"


def test_delete(keystore: Keystore) -> None:
    keystore.put("k", b"v")
    keystore.delete("k")
    with pytest.raises(KeyNotFound):
        keystore.get("k")
    with pytest.raises(KeyNotFound):
        keystore.delete("k")


def test_compare_and_delete_removes_only_the_version_read(keystore: Keystore, storage: Storage) -> None:
    read = keystore.put("k", b"policy: deletion allowed")
    changed = keystore.cas("k", read, b"policy: deletion forbidden")  # a change made meanwhile
    before = snapshot(storage)
    with pytest.raises(ConflictError):
        keystore.delete("k", expected_version=read)
    assert snapshot(storage) == before
    assert keystore.get("k") == b"policy: deletion forbidden"
    keystore.delete("k", expected_version=changed)
    with pytest.raises(KeyNotFound):
        keystore.get("k")


def test_compare_and_delete_of_an_absent_record_is_key_not_found(keystore: Keystore) -> None:
    version = keystore.put("k", b"v")
    keystore.delete("k")
    with pytest.raises(KeyNotFound):
        keystore.delete("k", expected_version=version)


@pytest.mark.parametrize(
    ("version", "error"), [(0, InvalidArgument), ("1", InvalidType), (True, InvalidType)]
)
def test_compare_and_delete_rejects_bad_versions(
    keystore: Keystore, version: object, error: type[Exception]
) -> None:
    keystore.put("k", b"v")
    with pytest.raises(error):
        keystore.delete("k", expected_version=untyped(version))
    assert keystore.get("k") == b"v"


def test_list_by_prefix_hides_the_core_record(keystore: Keystore) -> None:
    for path in ["transit/keys/b", "transit/keys/a", "pki/root", "core/keyring"]:
        keystore.put(path, b"v")
    assert keystore.list("transit/") == ["transit/keys/a", "transit/keys/b"]
    # A user path named like the core record is a different record, under data/.
    assert keystore.list() == ["core/keyring", "pki/root", "transit/keys/a", "transit/keys/b"]
    assert keystore.get("core/keyring") == b"v"


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("", InvalidArgument),
        ("a\x00b", InvalidArgument),
        ("\ud800", InvalidArgument),
        ("x" * 1025, InvalidArgument),
        (b"bytes/path", InvalidType),
        (None, InvalidType),
    ],
)
def test_bad_paths_are_refused(keystore: Keystore, path: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        keystore.put(untyped(path), b"v")
    with pytest.raises(error):
        keystore.get(untyped(path))
    assert keystore.list() == []


def test_str_value_is_refused(keystore: Keystore) -> None:
    with pytest.raises(InvalidType):
        keystore.put("k", untyped("text"))
    assert keystore.list() == []


def test_records_survive_a_restart(storage_spec: dict[str, Any]) -> None:
    first = open_storage(**storage_spec)
    ks = Keystore(first)
    ks.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    ks.unseal(PASSPHRASE)
    ks.put("persist/me", b"still here")
    first.close()

    second = open_storage(**storage_spec)
    reopened = Keystore(second)
    assert reopened.sealed
    reopened.unseal(PASSPHRASE)
    assert reopened.get("persist/me") == b"still here"
    second.close()


def test_rotate_keeps_old_records_readable(keystore: Keystore, storage: Storage) -> None:
    keystore.put("old", b"written under term 1")
    assert keystore.rotate() == 2
    keystore.put("new", b"written under term 2")
    assert keystore.key_terms == [1, 2]
    assert keystore.get("old") == b"written under term 1"
    assert keystore.get("new") == b"written under term 2"
    assert _term_of(storage, "old") == 1
    assert _term_of(storage, "new") == 2


def test_rotation_by_another_process_is_picked_up(keystore: Keystore, storage: Storage) -> None:
    other = Keystore(storage)  # stands for another process on the same store
    other.unseal(PASSPHRASE)
    assert other.rotate() == 2
    other.put("from/other", b"term 2 record")
    # keystore still holds the term-1 keyring: reading a term-2 record reloads it.
    assert keystore.get("from/other") == b"term 2 record"
    keystore.put("from/first", b"after reload")
    assert _term_of(storage, "from/first") == 2
    assert keystore.rotate() == 3
    assert other.get("from/first") == b"after reload"


def test_keystore_is_safe_for_threads(keystore: Keystore) -> None:
    threads, increments = 4, 25

    def work() -> None:
        for _ in range(increments):
            while True:
                try:
                    entry = keystore.get_entry("counter")
                    current, version = int(entry.value), entry.version
                except KeyNotFound:
                    current, version = 0, None
                try:
                    keystore.cas("counter", version, str(current + 1).encode())
                    break
                except ConflictError:
                    continue

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert keystore.get("counter") == str(threads * increments).encode()


def test_sealing_stops_every_operation(keystore: Keystore) -> None:
    keystore.put("k", b"v")
    keystore.seal()
    assert keystore.sealed
    operations: list[Callable[[], object]] = [
        lambda: keystore.get("k"),
        lambda: keystore.get_entry("k"),
        lambda: keystore.put("k", b"x"),
        lambda: keystore.cas("k", None, b"x"),
        lambda: keystore.delete("k"),
        lambda: keystore.list(),
        lambda: keystore.rotate(),
        lambda: keystore.key_terms,
    ]
    for operation in operations:
        with pytest.raises(SealedError, match="unseal"):
            operation()
    keystore.unseal(PASSPHRASE)
    assert keystore.get("k") == b"v"


def test_reprs_show_no_secret(keystore: Keystore) -> None:
    keystore.put("k", b"SUPER-SECRET-VALUE")
    text = repr(keystore) + repr(keystore.get_entry("k"))
    assert "SUPER-SECRET-VALUE" not in text
    assert "sealed=False" in repr(keystore)


@settings(max_examples=60, deadline=None)
@given(
    records=st.dictionaries(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=40),
        st.binary(max_size=2048),
        max_size=8,
    )
)
def test_any_paths_and_values_round_trip(records: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        storage = SQLiteStorage(Path(directory) / "vault.db")
        ks = Keystore(storage)
        # One share, threshold one: the unseal key itself, so no scrypt per example.
        (share,) = ks.initialize_with_shares(shares=1, threshold=1)
        ks.unseal_share(share)
        versions = {path: ks.put(path, value) for path, value in records.items()}
        assert {path: ks.get_entry(path) for path in records} == {
            path: Entry(value, versions[path]) for path, value in records.items()
        }
        assert ks.list() == sorted(records, key=lambda p: p.encode())
        storage.close()


def _term_of(storage: Storage, path: str) -> int:
    stored = storage.get("data/" + path)
    assert stored is not None
    version, term, _ = struct.unpack(">BIQ", stored.value[:13])
    assert version == 2
    return int(term)
