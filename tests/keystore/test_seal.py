"""Initialisation, sealing and unsealing, by passphrase and by Shamir shares."""

from __future__ import annotations

import itertools
import json

import pytest

from secretumvault.errors import (
    AlreadyInitialized,
    CorruptRecord,
    InvalidArgument,
    InvalidType,
    NotInitialized,
    SealedError,
    UnsealError,
)
from secretumvault.keystore import Keystore, ScryptParams, Storage, UnsealProgress
from secretumvault.keystore import shamir as shamir_shares
from secretumvault.keystore.core import CORE_PATH, CoreRecord
from secretumvault.keystore.seal import ShamirSeal
from tests.conftest import untyped

from .conftest import FAST_SCRYPT, PASSPHRASE, snapshot


@pytest.fixture
def shared(storage: Storage) -> tuple[Keystore, list[str]]:
    """A store sealed with 5 shares, threshold 3 (still sealed)."""
    ks = Keystore(storage)
    return ks, ks.initialize_with_shares(shares=5, threshold=3)


# -- initialisation ------------------------------------------------------------------


def test_a_new_store_is_uninitialised_and_sealed(storage: Storage) -> None:
    ks = Keystore(storage)
    assert not ks.initialized
    assert ks.sealed
    with pytest.raises(NotInitialized):
        ks.unseal(PASSPHRASE)
    with pytest.raises(SealedError):
        ks.get("anything")


def test_initialised_store_stays_sealed_until_unsealed(storage: Storage) -> None:
    ks = Keystore(storage)
    ks.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    assert ks.initialized and ks.sealed
    with pytest.raises(SealedError):
        ks.put("k", b"v")
    ks.unseal(PASSPHRASE)
    assert not ks.sealed


def test_initialise_only_once(storage: Storage) -> None:
    ks = Keystore(storage)
    ks.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    before = snapshot(storage)
    with pytest.raises(AlreadyInitialized):
        ks.initialize_with_passphrase("another", scrypt=FAST_SCRYPT)
    with pytest.raises(AlreadyInitialized):
        Keystore(storage).initialize_with_shares(shares=3, threshold=2)
    assert snapshot(storage) == before
    ks.unseal(PASSPHRASE)


@pytest.mark.parametrize("also_deleted", [(), ("core/index",)])
@pytest.mark.parametrize("seal", ["passphrase", "shares"])
def test_a_store_whose_core_record_was_deleted_is_reported_damaged(
    storage: Storage, seal: str, also_deleted: tuple[str, ...]
) -> None:
    """Issue 22: unseal said "call initialize" and initialise said "already initialised", a loop."""
    ks = Keystore(storage)
    if seal == "passphrase":
        ks.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
        ks.unseal(PASSPHRASE)
    else:
        shares = ks.initialize_with_shares(shares=3, threshold=2)
        for share in shares[:2]:
            ks.unseal_share(share)
    ks.put("secret", b"kept")
    saved = {path: storage.get(path) for path in (CORE_PATH, *also_deleted)}
    for path in saved:
        storage.delete(path)
    before = snapshot(storage)
    damaged = r"damaged: its keyring record 'core/keyring' is missing"
    fresh = Keystore(storage)
    with pytest.raises(CorruptRecord, match=damaged):
        fresh.unseal(PASSPHRASE) if seal == "passphrase" else fresh.unseal_share(shares[0])
    with pytest.raises(CorruptRecord, match=damaged):
        fresh.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    with pytest.raises(CorruptRecord, match=damaged):
        fresh.initialize_with_shares(shares=3, threshold=2)
    with pytest.raises(CorruptRecord, match=damaged):  # an unsealed object sees it at its next core write
        ks.rotate()
    assert snapshot(storage) == before
    for path, stored in saved.items():  # put back from a backup, the store works again
        assert stored is not None
        storage.put(path, stored.value)
    restored = Keystore(storage)
    if seal == "passphrase":
        restored.unseal(PASSPHRASE)
    else:
        for share in shares[1:]:
            restored.unseal_share(share)
    assert restored.get("secret") == b"kept"


def test_racing_initialisation_has_one_winner(storage: Storage) -> None:
    # Simulates another process initialising between our check and our write.
    first, second = Keystore(storage), Keystore(storage)
    first._create(ShamirSeal.new(1, 1), b"\x01" * 32)
    before = snapshot(storage)
    with pytest.raises(AlreadyInitialized):
        second._create(ShamirSeal.new(1, 1), b"\x02" * 32)
    assert snapshot(storage) == before


@pytest.mark.parametrize(
    ("shares", "threshold"), [(0, 0), (3, 4), (3, 0), (5, 1), (256, 2), (True, 1), (3, 2.0)]
)
def test_share_counts_are_checked(storage: Storage, shares: object, threshold: object) -> None:
    with pytest.raises(InvalidArgument):
        Keystore(storage).initialize_with_shares(shares=untyped(shares), threshold=untyped(threshold))
    assert not Keystore(storage).initialized


@pytest.mark.parametrize(
    ("passphrase", "error"), [("", InvalidArgument), (b"", InvalidArgument), (42, InvalidType)]
)
def test_bad_passphrases_are_refused(storage: Storage, passphrase: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        Keystore(storage).initialize_with_passphrase(untyped(passphrase), scrypt=FAST_SCRYPT)
    assert not Keystore(storage).initialized


@pytest.mark.parametrize(
    ("n", "r", "p"), [(2**13, 8, 1), (3 * 2**14, 8, 1), (2**21, 8, 1), (2**14, 0, 1), (2**14, 8, 17)]
)
def test_scrypt_parameters_are_bounded(n: int, r: int, p: int) -> None:
    with pytest.raises(InvalidArgument):
        ScryptParams(n=n, r=r, p=p)


# -- passphrase ----------------------------------------------------------------------


def test_passphrase_as_bytes_or_text(storage: Storage) -> None:
    ks = Keystore(storage)
    ks.initialize_with_passphrase("pässwörd", scrypt=FAST_SCRYPT)
    ks.unseal("pässwörd".encode())
    assert not ks.sealed


def test_wrong_passphrase_is_refused_and_changes_nothing(keystore: Keystore, storage: Storage) -> None:
    keystore.put("k", b"v")
    keystore.seal()
    before = snapshot(storage)
    with pytest.raises(UnsealError, match="wrong passphrase"):
        keystore.unseal(PASSPHRASE + "!")
    assert keystore.sealed
    assert snapshot(storage) == before
    keystore.unseal(PASSPHRASE)
    assert keystore.get("k") == b"v"


def test_a_wrong_passphrase_is_refused_even_when_already_unsealed(keystore: Keystore) -> None:
    with pytest.raises(UnsealError):
        keystore.unseal("wrong")
    assert not keystore.sealed  # still unsealed by the earlier, right passphrase


def test_passphrase_store_refuses_shares(keystore: Keystore) -> None:
    keystore.seal()
    share = shamir_shares.split(b"\x00" * 32, ShamirSeal.new(1, 1))[0]
    with pytest.raises(UnsealError, match="passphrase"):
        keystore.unseal_share(share)
    assert keystore.sealed


def test_each_keystore_object_is_sealed_on_its_own(keystore: Keystore, storage: Storage) -> None:
    other = Keystore(storage)
    assert other.sealed and not keystore.sealed
    with pytest.raises(SealedError):
        other.get("k")


def test_tampered_seal_configuration_fails_to_unseal(keystore: Keystore, storage: Storage) -> None:
    # Lowering the stored scrypt cost would weaken the passphrase; it is bound
    # into the wrapped root key's associated data, so unsealing fails instead.
    keystore.seal()
    stored = storage.get(CORE_PATH)
    assert stored is not None
    record = json.loads(stored.value)
    record["seal"]["n"] = 2**15
    storage.put(CORE_PATH, json.dumps(record).encode())
    with pytest.raises(UnsealError):
        keystore.unseal(PASSPHRASE)


def test_out_of_bounds_scrypt_cost_in_store_is_corrupt(keystore: Keystore, storage: Storage) -> None:
    stored = storage.get(CORE_PATH)
    assert stored is not None
    record = json.loads(stored.value)
    record["seal"]["n"] = 2**30  # would need a terabyte of memory
    storage.put(CORE_PATH, json.dumps(record).encode())
    with pytest.raises(CorruptRecord):
        Keystore(storage).unseal(PASSPHRASE)


@pytest.mark.parametrize(
    "garbage", [b"", b"not json", b"[]", b'{"format":"secretumvault.keystore.core","version":2}']
)
def test_garbled_core_record_is_corrupt(keystore: Keystore, storage: Storage, garbage: bytes) -> None:
    storage.put(CORE_PATH, garbage)
    with pytest.raises(CorruptRecord):
        Keystore(storage).unseal(PASSPHRASE)


# -- Shamir shares ----------------------------------------------------------------------


def test_shares_are_distinct_text(shared: tuple[Keystore, list[str]]) -> None:
    _, shares = shared
    assert len(shares) == len(set(shares)) == 5
    assert all(isinstance(s, str) and s.startswith("svs1-") for s in shares)


def test_any_threshold_shares_unseal_in_any_order(
    shared: tuple[Keystore, list[str]], storage: Storage
) -> None:
    ks, shares = shared
    ks.seal()
    for chosen in itertools.permutations(shares, 3):
        fresh = Keystore(storage)
        progress = [fresh.unseal_share(s) for s in chosen]
        assert progress == [
            UnsealProgress(True, 1, 3),
            UnsealProgress(True, 2, 3),
            UnsealProgress(False, 3, 3),
        ]
        assert not fresh.sealed
    fresh.put("k", b"v")


def test_fewer_than_threshold_shares_do_not_unseal(shared: tuple[Keystore, list[str]]) -> None:
    ks, shares = shared
    assert ks.unseal_share(shares[4]) == UnsealProgress(True, 1, 3)
    assert ks.unseal_share(shares[0]) == UnsealProgress(True, 2, 3)
    assert ks.sealed
    with pytest.raises(SealedError):
        ks.get("k")


def test_combining_fewer_shares_does_not_give_the_key(
    shared: tuple[Keystore, list[str]], storage: Storage
) -> None:
    _, shares = shared
    stored = storage.get(CORE_PATH)
    assert stored is not None
    core = CoreRecord.decode(stored.value)
    two = [shamir_shares.parse_share(s) for s in shares[:2]]
    with pytest.raises(UnsealError):
        core.unlock(shamir_shares.combine(two))


def test_a_repeated_share_is_not_counted(shared: tuple[Keystore, list[str]]) -> None:
    ks, shares = shared
    ks.unseal_share(shares[0])
    with pytest.raises(UnsealError, match="already given"):
        ks.unseal_share(shares[0])
    ks.unseal_share(shares[1])
    assert ks.sealed
    assert ks.unseal_share(shares[2]).sealed is False


def test_a_garbled_share_is_refused_and_not_counted(shared: tuple[Keystore, list[str]]) -> None:
    ks, shares = shared
    ks.unseal_share(shares[0])
    garbled = shares[1][:10] + ("A" if shares[1][10] != "A" else "B") + shares[1][11:]
    with pytest.raises(UnsealError, match="garbled"):
        ks.unseal_share(garbled)
    for junk in ["", "svs1-", "svs1-!!!!", "hello", shares[1][:-4]]:
        with pytest.raises(UnsealError):
            ks.unseal_share(junk)
    with pytest.raises(UnsealError):
        ks.unseal_share(untyped(b"svs1-abc"))
    assert ks.unseal_share(shares[1]) == UnsealProgress(True, 2, 3)


def test_a_share_of_another_store_is_refused(shared: tuple[Keystore, list[str]], tmp_path: object) -> None:
    from secretumvault.keystore import SQLiteStorage

    ks, _ = shared
    elsewhere = SQLiteStorage(f"{tmp_path}/other.db")
    foreign = Keystore(elsewhere).initialize_with_shares(shares=5, threshold=3)
    elsewhere.close()
    with pytest.raises(UnsealError, match="another store"):
        ks.unseal_share(foreign[0])
    assert ks.sealed


def test_wrong_shares_are_refused_progress_resets_store_unchanged(
    shared: tuple[Keystore, list[str]], storage: Storage
) -> None:
    ks, shares = shared
    stored = storage.get(CORE_PATH)
    assert stored is not None
    seal = CoreRecord.decode(stored.value).seal
    assert isinstance(seal, ShamirSeal)
    # Well-formed shares of the right set that rebuild a different key.
    forged = shamir_shares.split(b"\x42" * 32, seal)
    before = snapshot(storage)
    ks.unseal_share(shares[0])
    ks.unseal_share(shares[1])
    with pytest.raises(UnsealError, match="wrong passphrase or shares"):
        ks.unseal_share(forged[2])
    assert ks.sealed
    assert snapshot(storage) == before
    # Progress was reset: two good shares are not enough again.
    assert ks.unseal_share(shares[3]) == UnsealProgress(True, 1, 3)


def test_a_shares_store_refuses_a_passphrase(shared: tuple[Keystore, list[str]]) -> None:
    ks, _ = shared
    with pytest.raises(UnsealError, match="unseal_share"):
        ks.unseal(PASSPHRASE)


def test_seal_discards_shares_given_so_far(shared: tuple[Keystore, list[str]]) -> None:
    ks, shares = shared
    ks.unseal_share(shares[0])
    ks.unseal_share(shares[1])
    ks.seal()
    assert ks.unseal_share(shares[2]) == UnsealProgress(True, 1, 3)


def test_a_share_given_to_an_unsealed_store_reports_unsealed(shared: tuple[Keystore, list[str]]) -> None:
    ks, shares = shared
    for share in shares[:3]:
        ks.unseal_share(share)
    assert ks.unseal_share(shares[3]).sealed is False
    assert not ks.sealed


def test_one_share_threshold_one(storage: Storage) -> None:
    ks = Keystore(storage)
    (share,) = ks.initialize_with_shares(shares=1, threshold=1)
    assert ks.unseal_share(share) == UnsealProgress(False, 1, 1)


@pytest.mark.parametrize("field", ["version", "seal.n", "seal.r", "seal.p"])
def test_huge_integer_in_core_record_is_corrupt(keystore: Keystore, storage: Storage, field: str) -> None:
    # Python refuses to parse integers of more than 4300 digits with a plain ValueError.
    stored = storage.get(CORE_PATH)
    assert stored is not None
    record = json.loads(stored.value)
    huge = "9" * 5000
    placeholder = "HUGE-INTEGER-PLACEHOLDER"
    if "." in field:
        section, name = field.split(".")
        record[section][name] = placeholder
    else:
        record[field] = placeholder
    storage.put(CORE_PATH, json.dumps(record).replace(f'"{placeholder}"', huge).encode())
    before = snapshot(storage)
    with pytest.raises(CorruptRecord):
        Keystore(storage).unseal(PASSPHRASE)
    with pytest.raises(CorruptRecord):
        keystore.rotate()
    assert snapshot(storage) == before
