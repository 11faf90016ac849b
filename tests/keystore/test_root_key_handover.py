"""Keystore.export_root_key / unseal_with_root_key: how one server worker unseals another."""

from __future__ import annotations

import os

import pytest

from secretumvault.errors import SealedError, UnsealError
from secretumvault.keystore import Keystore, Storage
from tests.keystore.conftest import FAST_SCRYPT, PASSPHRASE, snapshot


def test_a_sibling_unseals_with_the_exported_root_key(storage: Storage) -> None:
    first, second = Keystore(storage), Keystore(storage)
    shares = first.initialize_with_shares(shares=3, threshold=2)
    with pytest.raises(SealedError):
        first.export_root_key()
    first.unseal_share(shares[0])
    first.unseal_share(shares[1])
    first.put("app/one", b"secret value")
    second.unseal_share(shares[2])  # a pending share, forgotten by the unseal below
    second.unseal_with_root_key(first.export_root_key())
    assert not second.sealed
    assert second.get("app/one") == b"secret value"
    second.seal()
    second.unseal_share(shares[0])  # counting starts again: one share is not enough
    assert second.sealed


def test_a_wrong_root_key_is_refused_and_changes_nothing(storage: Storage) -> None:
    keystore = Keystore(storage)
    keystore.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    before = snapshot(storage)
    for wrong in (os.urandom(32), b"short", "not bytes"):
        with pytest.raises(UnsealError):
            keystore.unseal_with_root_key(wrong)  # type: ignore[arg-type]
        assert keystore.sealed
    assert snapshot(storage) == before


def test_the_root_key_is_not_in_any_repr(storage: Storage) -> None:
    keystore = Keystore(storage)
    shares = keystore.initialize_with_shares(shares=1, threshold=1)
    keystore.unseal_share(shares[0])
    root_key = keystore.export_root_key()
    unlocked = keystore._unlocked  # the object that holds it
    for text in (repr(keystore), repr(unlocked)):
        assert root_key.hex() not in text and repr(root_key) not in text
