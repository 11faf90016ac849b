"""Rolling records back is detected (issue 13, item 12).

The attacker here can read and write rows of the store but holds no key: they
put back older copies of rows, as from a backup or an earlier snapshot. Every
partial rollback fails with CorruptRecord when an affected record is read;
restoring every row at once (the whole store as it was) is the documented limit.
"""

from __future__ import annotations

import pytest

from secretumvault.errors import CorruptRecord, KeyNotFound, PolicyViolation
from secretumvault.keystore import Keystore, Storage
from secretumvault.keystore.index import ROOT_PATH, bucket_path
from secretumvault.transit import Transit

from .conftest import PASSPHRASE, snapshot


def _row(storage: Storage, path: str) -> bytes:
    stored = storage.get(path)
    assert stored is not None
    return stored.value


def _bucket_of(keystore: Keystore, path: str) -> str:
    unlocked = keystore._require_unsealed()
    return bucket_path(unlocked.index.locate("data/" + path)[1] % unlocked.index.bucket_count())


def _restore(storage: Storage, rows: dict[str, tuple[bytes, int]]) -> None:
    """Put every row back as it was in ``rows`` and remove the rows that were not there."""
    for path in storage.list(""):
        if path not in rows:
            storage.delete(path)
    for path, (value, _) in rows.items():
        storage.put(path, value)


def test_an_older_copy_of_a_record_is_detected(keystore: Keystore, storage: Storage) -> None:
    keystore.put("k", b"version one")
    old = _row(storage, "data/k")
    keystore.put("k", b"version two")
    storage.put("data/k", old)
    with pytest.raises(CorruptRecord, match="older copy"):
        keystore.get("k")
    with pytest.raises(CorruptRecord):
        _fresh(storage).get("k")


def _fresh(storage: Storage) -> Keystore:
    ks = Keystore(storage)
    ks.unseal(PASSPHRASE)
    return ks


def test_a_deleted_record_put_back_is_detected(keystore: Keystore, storage: Storage) -> None:
    keystore.put("k", b"deleted for good")
    old = _row(storage, "data/k")
    keystore.delete("k")
    storage.put("data/k", old)
    with pytest.raises(CorruptRecord, match="put back after a delete"):
        _fresh(storage).get("k")


def test_a_record_deleted_behind_the_keystore_is_detected(keystore: Keystore, storage: Storage) -> None:
    keystore.put("k", b"v")
    storage.delete("data/k")
    with pytest.raises(CorruptRecord, match="deleted outside the keystore"):
        _fresh(storage).get("k")
    # Deleting it through the keystore repairs the index; the path is then simply absent.
    keystore.delete("k")
    with pytest.raises(KeyNotFound):
        keystore.get("k")


def test_record_and_its_bucket_rolled_back_together_are_detected(
    keystore: Keystore, storage: Storage
) -> None:
    keystore.put("k", b"version one")
    bucket = _bucket_of(keystore, "k")
    old_record, old_bucket = _row(storage, "data/k"), _row(storage, bucket)
    keystore.put("k", b"version two")
    storage.put("data/k", old_record)
    storage.put(bucket, old_bucket)
    with pytest.raises(CorruptRecord, match="rolled back"):
        _fresh(storage).get("k")


def test_root_rolled_back_too_is_detected_by_any_record_written_since(
    keystore: Keystore, storage: Storage
) -> None:
    keystore.put("k", b"version one")
    bucket = _bucket_of(keystore, "k")
    rows = {p: _row(storage, p) for p in ("data/k", bucket, ROOT_PATH)}
    keystore.put("k", b"version two")
    keystore.put("other", b"written after")
    for path, value in rows.items():
        storage.put(path, value)
    fresh = _fresh(storage)
    with pytest.raises(CorruptRecord):
        fresh.get("other")
    # The keystore that was in use has seen later writes: it notices on any read.
    with pytest.raises(CorruptRecord, match="back in time"):
        keystore.get("k")


def test_whole_store_rollback_is_seen_only_by_a_keystore_that_saw_later_writes(
    keystore: Keystore, storage: Storage
) -> None:
    keystore.put("k", b"version one")
    everything = snapshot(storage)
    keystore.put("k", b"version two")
    _restore(storage, everything)
    with pytest.raises(CorruptRecord, match="back in time"):
        keystore.get("k")
    # The documented limit: with no state outside the store, a fresh keystore
    # cannot tell an old store from a current one.
    assert _fresh(storage).get("k") == b"version one"


@pytest.mark.parametrize("row", ["root", "bucket"])
def test_tampered_index_rows_are_corrupt(keystore: Keystore, storage: Storage, row: str) -> None:
    keystore.put("k", b"v")
    path = ROOT_PATH if row == "root" else _bucket_of(keystore, "k")
    value = bytearray(_row(storage, path))
    value[-1] ^= 1
    storage.put(path, bytes(value))
    before = snapshot(storage)
    with pytest.raises(CorruptRecord, match="failed authentication"):
        _fresh(storage).get("k") if row == "bucket" else _fresh(storage)
    with pytest.raises(CorruptRecord):
        keystore.put("k", b"a write refuses a tampered index too")
    assert snapshot(storage) == before


def test_deleted_index_root_is_corrupt(keystore: Keystore, storage: Storage) -> None:
    keystore.put("k", b"v")
    storage.delete(ROOT_PATH)
    before = snapshot(storage)
    with pytest.raises(CorruptRecord, match="missing"):
        _fresh(storage)
    with pytest.raises(CorruptRecord, match="missing"):
        keystore.get("k")
    with pytest.raises(CorruptRecord, match="missing"):
        keystore.put("k", b"no silent re-creation of the index")
    assert snapshot(storage) == before


def test_bucket_rows_cannot_be_swapped(keystore: Keystore, storage: Storage) -> None:
    names = [f"key-{i}" for i in range(40)]
    for name in names:
        keystore.put(name, b"v")
    buckets = sorted({_bucket_of(keystore, n) for n in names})
    first, second = buckets[0], buckets[1]
    a, b = _row(storage, first), _row(storage, second)
    storage.put(first, b)
    storage.put(second, a)
    victim = next(n for n in names if _bucket_of(keystore, n) == first)
    with pytest.raises(CorruptRecord):
        _fresh(storage).get(victim)


def test_trimmed_transit_key_stays_trimmed(keystore: Keystore, storage: Storage) -> None:
    # The case: after rotate, min_decryption_version=2 and trim, putting
    # back the key's old row brought version 1 back, and old ciphertexts decrypted.
    transit = Transit(keystore)
    transit.create_key("payments")
    old_ciphertext = transit.encrypt("payments", b"card 4111")
    transit.rotate_key("payments")
    old_row = _row(storage, "data/transit/keys/payments")
    transit.update_key_config("payments", min_decryption_version=2)
    transit.trim_key("payments", 2)
    with pytest.raises(PolicyViolation, match="trimmed"):
        transit.decrypt("payments", old_ciphertext)
    storage.put("data/transit/keys/payments", old_row)
    with pytest.raises(CorruptRecord):
        Transit(_fresh(storage)).decrypt("payments", old_ciphertext)
