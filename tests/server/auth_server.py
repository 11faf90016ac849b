"""A file-backed server for the auth method tests, so a test can compare the raw store around a refusal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.server.conftest import Server, start_file_server
from tests.server.conftest import unchanged as store_unchanged

__all__ = ["file_server_fixture", "start_file_server", "unchanged"]


def file_server_fixture(name: str) -> Callable[[pytest.TempPathFactory], Iterator[tuple[Server, Path]]]:
    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
        server, store = start_file_server(tmp_path_factory.mktemp(name))
        yield server, store
        server.stop()

    return fixture


def unchanged(store: Path, send: Callable[[], requests.Response], status: int) -> requests.Response:
    """Send a request that must be refused with ``status``; the raw store must not change."""
    response = store_unchanged(store, send)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"errors"}
    return response
