"""Fixtures for the keystore tests: storages on SQLite and (when a server is given) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secretumvault.keystore import Keystore, PostgresStorage, ScryptParams, SQLiteStorage, Storage

PG_DSN_VARIABLE = "SECRETUMVAULT_TEST_PG_DSN"
PASSPHRASE = "correct horse battery staple"
# The lowest cost the keystore accepts, so that each unseal takes milliseconds.
FAST_SCRYPT = ScryptParams(n=2**14, r=8, p=1)


def pg_dsn() -> str:
    dsn = os.environ.get(PG_DSN_VARIABLE)
    if not dsn:
        pytest.skip(f"{PG_DSN_VARIABLE} is not set: start a server with .ci/postgres.sh and export it")
    return dsn


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Keyword arguments for open_storage(), naming a fresh, empty store."""
    if request.param == "sqlite":
        yield {"backend": "sqlite", "path": str(tmp_path / "vault.db")}
        return
    spec = {"backend": "postgresql", "dsn": pg_dsn(), "table": f"t_{uuid.uuid4().hex}"}
    yield spec
    cleanup = PostgresStorage(spec["dsn"], table=spec["table"])
    cleanup.drop()
    cleanup.close()


@pytest.fixture
def storage(storage_spec: dict[str, Any]) -> Iterator[Storage]:
    from secretumvault.keystore import open_storage

    opened = open_storage(**storage_spec)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_storage(tmp_path: Path) -> Iterator[SQLiteStorage]:
    opened = SQLiteStorage(tmp_path / "vault.db")
    yield opened
    opened.close()


def unsealed_keystore(storage: Storage) -> Keystore:
    """An initialised, unsealed keystore over ``storage`` (passphrase seal, fast scrypt)."""
    ks = Keystore(storage)
    ks.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    ks.unseal(PASSPHRASE)
    return ks


@pytest.fixture
def keystore(storage: Storage) -> Keystore:
    """An initialised, unsealed keystore (passphrase seal)."""
    return unsealed_keystore(storage)


def snapshot(storage: Storage) -> dict[str, tuple[bytes, int]]:
    """Every raw record (core and data), to show that a failed call changed nothing."""
    result = {}
    for path in storage.list(""):
        stored = storage.get(path)
        assert stored is not None
        result[path] = (stored.value, stored.revision)
    return result
