"""Stores written before record versions (format 0x01 records, core record version 1) keep working.

The fixtures in ``data/`` were written by the old code (see ``data/README.md``);
their rows are copied as they are into a fresh storage of each backend.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import cast

import pytest

from secretumvault.errors import CorruptRecord, KeyNotFound, UnsealError
from secretumvault.keystore import Keystore, Storage, StoredValue, Write
from secretumvault.keystore.core import CORE_PATH, CoreRecord
from secretumvault.keystore.index import BUCKETS, ROOT_PATH

from .conftest import snapshot

DATA = Path(__file__).with_name("data")
LEGACY_PASSPHRASE = "legacy passphrase"
LEGACY_RECORDS = {
    "a": b"value of a (term 1)",
    "transit/keys/old": b"record written before the format change",
    "b": b"value of b (term 2)",
}


def _copy_rows(fixture: str, storage: Storage) -> None:
    conn = sqlite3.connect(f"file:{DATA / fixture}?mode=ro", uri=True)
    for path, value in conn.execute("SELECT path, value FROM records ORDER BY revision"):
        storage.put(path, bytes(value))
    conn.close()


@pytest.fixture
def legacy(storage: Storage) -> Storage:
    _copy_rows("legacy-v1-passphrase.db", storage)
    stored = storage.get(CORE_PATH)
    assert stored is not None and CoreRecord.decode(stored.value).seq is None  # really the old format
    assert all(cast(StoredValue, storage.get("data/" + p)).value[0] == 0x01 for p in LEGACY_RECORDS)
    return storage


def _unsealed(storage: Storage) -> Keystore:
    ks = Keystore(storage)
    ks.unseal(LEGACY_PASSPHRASE)
    return ks


def test_old_store_unseals_and_reads_without_writing(legacy: Storage) -> None:
    before = snapshot(legacy)
    ks = _unsealed(legacy)
    assert {p: ks.get(p) for p in LEGACY_RECORDS} == LEGACY_RECORDS
    assert ks.list() == sorted(LEGACY_RECORDS)
    assert ks.key_terms == [1, 2]
    with pytest.raises(KeyNotFound):
        ks.get("gone")
    assert snapshot(legacy) == before  # reading changes nothing, and adds no index


def test_first_write_upgrades_the_store_and_old_records_stay_readable(legacy: Storage) -> None:
    ks = _unsealed(legacy)
    ks.put("new", b"written after the upgrade")
    stored = legacy.get(CORE_PATH)
    assert stored is not None and CoreRecord.decode(stored.value).seq is not None
    assert legacy.get(ROOT_PATH) is not None
    for reader in (ks, _unsealed(legacy)):
        assert {p: reader.get(p) for p in LEGACY_RECORDS} == LEGACY_RECORDS
        assert reader.get("new") == b"written after the upgrade"
    ks.put("a", b"rewritten")
    a = legacy.get("data/a")
    assert a is not None and a.value[0] == 0x02
    assert _unsealed(legacy).get("a") == b"rewritten"


def test_rotation_upgrades_the_store(legacy: Storage) -> None:
    ks = _unsealed(legacy)
    assert ks.rotate() == 3
    assert {p: _unsealed(legacy).get(p) for p in LEGACY_RECORDS} == LEGACY_RECORDS


def test_after_the_upgrade_an_old_row_cannot_come_back(legacy: Storage) -> None:
    ks = _unsealed(legacy)
    old_a, old_b = legacy.get("data/a"), legacy.get("data/b")
    assert old_a is not None and old_b is not None
    ks.put("a", b"new a")  # upgrades, then writes a versioned record
    ks.delete("b")
    legacy.put("data/a", old_a.value)
    legacy.put("data/b", old_b.value)
    fresh = _unsealed(legacy)
    with pytest.raises(CorruptRecord):
        fresh.get("a")
    with pytest.raises(CorruptRecord):
        fresh.get("b")


def test_core_record_put_back_to_before_the_upgrade_is_detected(legacy: Storage) -> None:
    old_core = legacy.get(CORE_PATH)
    assert old_core is not None
    ks = _unsealed(legacy)
    ks.put("new", b"v")
    legacy.put(CORE_PATH, old_core.value)
    with pytest.raises(CorruptRecord, match="before this store's index"):
        _unsealed(legacy)
    legacy.delete(ROOT_PATH)  # and the index removed too: the versioned record gives it away
    with pytest.raises(CorruptRecord):
        _unsealed(legacy).get("new")


def test_old_shares_store_unseals_and_upgrades(storage: Storage) -> None:
    _copy_rows("legacy-v1-shares.db", storage)
    shares = json.loads((DATA / "legacy-v1-shares.json").read_text())["shares"]
    ks = Keystore(storage)
    for share in shares[1:]:
        ks.unseal_share(share)
    assert ks.get("a") == b"value of a (shares store)"
    ks.put("c", b"new")
    again = Keystore(storage)
    for share in shares[:2]:
        again.unseal_share(share)
    assert again.get("a") == b"value of a (shares store)" and again.get("c") == b"new"


def test_old_store_can_be_rekeyed(legacy: Storage) -> None:
    Keystore(legacy).rekey(LEGACY_PASSPHRASE, passphrase="a new passphrase for the old store")
    with pytest.raises(UnsealError):
        Keystore(legacy).unseal(LEGACY_PASSPHRASE)
    ks = Keystore(legacy)
    ks.unseal("a new passphrase for the old store")
    assert {p: ks.get(p) for p in LEGACY_RECORDS} == LEGACY_RECORDS


def test_a_large_old_store_is_upgraded_with_as_many_buckets_as_splitting_would_give(legacy: Storage) -> None:
    # The upgrade lists records without reading them: filler rows need no valid contents. One
    # past what 128 buckets hold: 256, where a write to 64 buckets could at most split to 128.
    filler = 2 * (2 * BUCKETS) ** 2 + 1
    legacy.apply([Write(f"data/filler/{i:05d}", None, b"\x01 not read") for i in range(filler)])
    ks = _unsealed(legacy)
    ks.put("new", b"written after the upgrade")
    root = legacy.get(ROOT_PATH)
    assert root is not None
    assert len(ks._require_unsealed().index.open_root(root.value).buckets) == 4 * BUCKETS
    for reader in (ks, _unsealed(legacy)):
        assert {p: reader.get(p) for p in LEGACY_RECORDS} == LEGACY_RECORDS
        assert reader.get("new") == b"written after the upgrade"
        assert len(reader.list("filler/")) == filler
