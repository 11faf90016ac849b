"""Rekey: new passphrase, new shares (t and n may change), or a move between the two (issue 13, item 14).

Only the root key is rewrapped: every record row stays byte for byte as it was.
A failed rekey changes nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from secretumvault.errors import ConflictError, CorruptRecord, InvalidArgument, InvalidType, UnsealError
from secretumvault.keystore import Keystore, PendingRekey, ScryptParams, SQLiteStorage, Storage
from secretumvault.keystore.core import CORE_PATH
from tests.conftest import untyped

from .conftest import FAST_SCRYPT, PASSPHRASE, snapshot

NEW_PASSPHRASE = "the passphrase after the rekey"
RECORDS = {"a": b"value a", "transit/keys/k": b"key material", "b": b""}


@pytest.fixture
def filled(keystore: Keystore) -> Keystore:
    for path, value in RECORDS.items():
        keystore.put(path, value)
    return keystore


def _data_rows(storage: Storage) -> dict[str, tuple[bytes, int]]:
    return {path: row for path, row in snapshot(storage).items() if path.startswith(("data/", "index/"))}


def _unseals(storage: Storage, material: str | Sequence[str]) -> bool:
    ks = Keystore(storage, scrypt_limit=FAST_SCRYPT)
    try:
        if isinstance(material, str):
            ks.unseal(material)
        else:
            for share in material:
                ks.unseal_share(share)
    except UnsealError:
        return False
    if ks.sealed:
        return False
    assert {path: ks.get(path) for path in RECORDS} == RECORDS
    return True


def test_new_passphrase(filled: Keystore, storage: Storage) -> None:
    rows = _data_rows(storage)
    assert filled.rekey(PASSPHRASE, passphrase=NEW_PASSPHRASE, scrypt=FAST_SCRYPT) == []
    assert _data_rows(storage) == rows  # no record re-encrypted
    assert not _unseals(storage, PASSPHRASE)
    assert _unseals(storage, NEW_PASSPHRASE)
    assert not filled.sealed and filled.get("a") == b"value a"  # stays unsealed: same root key


def test_passphrase_to_shares_to_other_shares_to_passphrase(filled: Keystore, storage: Storage) -> None:
    rows = _data_rows(storage)
    first = filled.rekey(PASSPHRASE, shares=5, threshold=3)
    assert len(first) == 5
    assert not _unseals(storage, PASSPHRASE)
    assert _unseals(storage, first[2:]) and not _unseals(storage, first[:2])
    second = filled.rekey(first[1:4], shares=2, threshold=2)  # t and n change
    assert not _unseals(storage, first)
    assert _unseals(storage, second)
    assert filled.rekey(second, passphrase=NEW_PASSPHRASE, scrypt=FAST_SCRYPT) == []
    assert _unseals(storage, NEW_PASSPHRASE)
    assert _data_rows(storage) == rows


def test_old_shares_are_named_as_such(filled: Keystore, storage: Storage) -> None:
    old = filled.rekey(PASSPHRASE, shares=3, threshold=2)
    filled.rekey(old[:2], shares=3, threshold=2)
    with pytest.raises(UnsealError, match="before a rekey"):
        Keystore(storage).unseal_share(old[0])


def test_a_sealed_keystore_can_be_rekeyed(filled: Keystore, storage: Storage) -> None:
    other = Keystore(storage, scrypt_limit=FAST_SCRYPT)
    other.rekey(PASSPHRASE, passphrase=NEW_PASSPHRASE, scrypt=FAST_SCRYPT)
    assert other.sealed
    assert filled.get("a") == b"value a"  # unsealed elsewhere: unaffected
    filled.put("c", b"written after the rekey")
    assert _unseals(storage, NEW_PASSPHRASE)


@pytest.mark.parametrize(
    ("current", "error"),
    [
        ("wrong passphrase", UnsealError),
        (["svs1-not-a-share"], UnsealError),
        ([PASSPHRASE], UnsealError),
        (42, UnsealError),
        ("", InvalidArgument),
    ],
)
def test_wrong_current_passphrase_changes_nothing(
    filled: Keystore, storage: Storage, current: object, error: type[Exception]
) -> None:
    before = snapshot(storage)
    with pytest.raises(error):
        filled.rekey(untyped(current), passphrase=NEW_PASSPHRASE, scrypt=FAST_SCRYPT)
    assert snapshot(storage) == before
    assert _unseals(storage, PASSPHRASE)


def test_wrong_current_shares_change_nothing(filled: Keystore, storage: Storage) -> None:
    shares = filled.rekey(PASSPHRASE, shares=5, threshold=3)
    other_store_shares = _other_store_shares()
    before = snapshot(storage)
    for current, match in [
        (shares[:2], "needs 3"),
        ([shares[0], shares[0], shares[1]], "needs 3"),
        (other_store_shares, "another store"),
        (PASSPHRASE, "list of current shares"),
    ]:
        with pytest.raises(UnsealError, match=match):
            filled.rekey(current, passphrase=NEW_PASSPHRASE, scrypt=FAST_SCRYPT)
    assert snapshot(storage) == before
    assert _unseals(storage, shares[:3])


def _other_store_shares() -> list[str]:
    with tempfile.TemporaryDirectory() as directory:
        other = SQLiteStorage(Path(directory) / "other.db")
        shares = Keystore(other).initialize_with_shares(shares=5, threshold=3)
        other.close()
    return shares[:3]


@pytest.mark.parametrize(
    "new",
    [
        {},
        {"passphrase": NEW_PASSPHRASE, "shares": 3, "threshold": 2},
        {"shares": 3},
        {"shares": 3, "threshold": 4},
        {"shares": 5, "threshold": 1},
        {"shares": 3, "threshold": 2, "scrypt": FAST_SCRYPT},
        {"passphrase": ""},
        {"passphrase": NEW_PASSPHRASE, "scrypt": ScryptParams(n=2**18)},  # above the keystore's limit
    ],
)
def test_bad_new_material_changes_nothing(filled: Keystore, storage: Storage, new: dict[str, Any]) -> None:
    before = snapshot(storage)
    with pytest.raises(InvalidArgument):
        filled.rekey(PASSPHRASE, **new)
    assert snapshot(storage) == before


def test_two_steps_store_unchanged_until_complete(filled: Keystore, storage: Storage) -> None:
    before = snapshot(storage)
    pending = filled.prepare_rekey(PASSPHRASE, shares=3, threshold=2)
    assert snapshot(storage) == before
    assert _unseals(storage, PASSPHRASE) and not _unseals(storage, pending.shares[:2])
    filled.complete_rekey(pending)
    assert not _unseals(storage, PASSPHRASE) and _unseals(storage, pending.shares[:2])


def test_pending_rekey_repr_hides_the_shares(filled: Keystore) -> None:
    pending = filled.prepare_rekey(PASSPHRASE, shares=3, threshold=2)
    text = repr(pending)
    assert all(share not in text for share in pending.shares)
    assert "threshold=2" in text


def test_a_concurrent_rekey_wins_and_the_other_conflicts(filled: Keystore, storage: Storage) -> None:
    first = filled.prepare_rekey(PASSPHRASE, passphrase="first new passphrase", scrypt=FAST_SCRYPT)
    second = Keystore(storage).prepare_rekey(
        PASSPHRASE, passphrase="second new passphrase", scrypt=FAST_SCRYPT
    )
    filled.complete_rekey(first)
    before = snapshot(storage)
    with pytest.raises(ConflictError, match="rekeyed by someone else"):
        filled.complete_rekey(second)
    assert snapshot(storage) == before
    assert _unseals(storage, "first new passphrase")


def test_a_rotation_between_the_steps_is_kept(filled: Keystore, storage: Storage) -> None:
    pending = filled.prepare_rekey(PASSPHRASE, passphrase=NEW_PASSPHRASE, scrypt=FAST_SCRYPT)
    assert filled.rotate() == 2
    filled.put("after-rotation", b"term 2")
    filled.complete_rekey(pending)
    ks = Keystore(storage, scrypt_limit=FAST_SCRYPT)
    ks.unseal(NEW_PASSPHRASE)
    assert ks.key_terms == [1, 2]
    assert ks.get("after-rotation") == b"term 2"


def test_complete_rekey_takes_only_a_pending_rekey(filled: Keystore) -> None:
    with pytest.raises(InvalidType):
        filled.complete_rekey(untyped("not a pending rekey"))
    assert isinstance(filled.prepare_rekey(PASSPHRASE, shares=1, threshold=1), PendingRekey)


def test_core_record_from_before_the_rekey_put_back_is_detected(filled: Keystore, storage: Storage) -> None:
    # Someone who knew the old passphrase keeps a copy of the old core record and
    # puts it back after the rekey: the index names a later core record.
    old_core = storage.get(CORE_PATH)
    assert old_core is not None
    filled.rekey(PASSPHRASE, passphrase=NEW_PASSPHRASE, scrypt=FAST_SCRYPT)
    storage.put(CORE_PATH, old_core.value)
    with pytest.raises(CorruptRecord, match="before a rekey"):
        Keystore(storage).unseal(PASSPHRASE)
