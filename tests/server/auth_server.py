"""A file-backed server for the auth method tests, so a test can compare the raw store around a refusal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from secretumvault.keystore import SQLiteStorage
from tests.keystore.conftest import snapshot
from tests.server.conftest import Server, start_server, write_config


def start_file_server(tmp: Path) -> tuple[Server, Path]:
    store = tmp / "vault.db"
    config = write_config(tmp / "server.toml", store)
    server = start_server(["-c", str(config)], tmp / "server.log")
    init = server.client(token="").sys.initialize(secret_shares=1, secret_threshold=1)
    server.client(token="").sys.submit_unseal_key(init["keys"][0])
    server.root_token = init["root_token"]
    return server, store


def file_server_fixture(name: str) -> Callable[[pytest.TempPathFactory], Iterator[tuple[Server, Path]]]:
    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
        server, store = start_file_server(tmp_path_factory.mktemp(name))
        yield server, store
        server.stop()

    return fixture


def unchanged(store: Path, send: Callable[[], requests.Response], status: int) -> requests.Response:
    """Send a request that must be refused with ``status``; the raw store must not change."""
    storage = SQLiteStorage(store)
    try:
        before = snapshot(storage)
        response = send()
        assert response.status_code == status, response.text
        assert set(response.json()) == {"errors"}
        assert snapshot(storage) == before
    finally:
        storage.close()
    return response
