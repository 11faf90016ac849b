"""Fixtures for the PKI tests: a fast unsealed keystore, engines per backend, a settable clock."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.pki import PkiEngine
from tests.keystore.conftest import PASSPHRASE, unsealed_keystore

__all__ = ["PASSPHRASE"]  # the tests reopen stores with it

START = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


class Clock:
    """A clock the test moves by hand: expiry and tidy are tested without waiting."""

    def __init__(self, now: datetime.datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, delta: datetime.timedelta) -> None:
        self.now += delta


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[SQLiteStorage]:
    opened = SQLiteStorage(tmp_path / "vault.db")
    yield opened
    opened.close()


@pytest.fixture
def keystore(storage: SQLiteStorage) -> Keystore:
    return unsealed_keystore(storage)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(keystore: Keystore, backend: str, clock: Clock) -> PkiEngine:
    """An engine whose new ML-DSA keys live on ``backend`` (each available backend in turn)."""
    return PkiEngine(keystore, backend=backend, clock=clock)
