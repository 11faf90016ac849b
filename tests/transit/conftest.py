"""Fixtures for the transit tests: a fast, unsealed SQLite keystore and a Transit over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.transit import Transit
from tests.keystore.conftest import snapshot, unsealed_keystore

ENCRYPTION_TYPES = [
    "aes256-gcm96",
    "chacha20-poly1305",
    "ml-kem-768",
    "ml-kem-1024",
    "hybrid-x25519-ml-kem-768",
]
SIGNING_TYPES = ["ed25519", "ecdsa-p256", "ml-dsa-44", "ml-dsa-65", "ml-dsa-87", "hybrid-ed25519-ml-dsa-65"]
KEM_TYPES = ["ml-kem-768", "ml-kem-1024", "hybrid-x25519-ml-kem-768"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "vault.db"


@pytest.fixture
def storage(db_path: Path) -> Iterator[SQLiteStorage]:
    opened = SQLiteStorage(db_path)
    yield opened
    opened.close()


@pytest.fixture
def keystore(storage: SQLiteStorage) -> Keystore:
    return unsealed_keystore(storage)


@pytest.fixture
def transit(keystore: Keystore, backend: str) -> Transit:
    return Transit(keystore, backend=backend)


Unchanged = Callable[[], Callable[[], None]]


@pytest.fixture
def unchanged(storage: SQLiteStorage) -> Unchanged:
    """``check = unchanged(); <failing call>; check()`` asserts every raw record is byte-identical."""

    def take() -> Callable[[], None]:
        before = snapshot(storage)
        return lambda: _assert_same(before, snapshot(storage))

    return take


def _assert_same(before: dict[str, tuple[bytes, int]], after: dict[str, tuple[bytes, int]]) -> None:
    assert after == before, "a failed call changed stored state"
