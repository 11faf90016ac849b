"""Shared fixtures: the backends under test, the location of the test vectors, and the
command line's helpers (run in-process on a real SQLite store)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from secretumvault import pqc
from secretumvault.pqc.backends import BACKENDS, native_import_error
from tests._thorough import THOROUGH

REQUIRE_NATIVE = os.environ.get("SECRETUMVAULT_REQUIRE_NATIVE", "") not in ("", "0")

# Hypothesis: a fast default for the edit-test loop, thorough in CI (tests/_thorough.py).
settings.register_profile("fast", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile("thorough" if THOROUGH else "fast")


def pytest_sessionstart(session: pytest.Session) -> None:
    # With liboqs installed, CI sets SECRETUMVAULT_REQUIRE_NATIVE=1: native tests
    # must run, so a missing native core is a failure, never a quiet skip.
    if REQUIRE_NATIVE and "oqs" not in pqc.available_backends():
        raise pytest.UsageError(
            f"SECRETUMVAULT_REQUIRE_NATIVE=1 but the native core is unavailable: {native_import_error()}"
        )


@pytest.fixture(autouse=True)
def _restore_default_backend() -> Iterator[None]:
    # The command line applies a configuration to the whole process (pqc's default
    # backend), as it should; tests run it in-process, so each test gets the default back.
    before = pqc.get_default_backend()
    yield
    pqc.set_default_backend(before)


def skip_unless_available(backend: str) -> None:
    if backend not in pqc.available_backends():
        pytest.skip(f"backend {backend!r} unavailable: {native_import_error() if backend == 'oqs' else ''}")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn; skipped (with the reason) where it is not built."""
    skip_unless_available(request.param)
    return str(request.param)


@pytest.fixture
def native() -> str:
    skip_unless_available("oqs")
    return "oqs"


def kem_or_skip(name: str, backend: str) -> pqc.Kem:
    """The KEM on that backend, or a skip naming what the backend lacks."""
    if name not in pqc.kem_algorithms(backend):
        pytest.skip(f"the {backend} backend does not provide {name}")
    return pqc.Kem(name, backend=backend)


def sig_or_skip(name: str, backend: str) -> pqc.Signature:
    if name not in pqc.signature_algorithms(backend):
        pytest.skip(f"the {backend} backend does not provide {name}")
    return pqc.Signature(name, backend=backend)


def untyped(value: object) -> Any:
    """Hand an API a value its annotations rule out, as an untyped caller could."""
    return value


def one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    """The command line reported one error line (no traceback) containing every word; that line."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


# -- the command line ------------------------------------------------------------------------

#: Every stored record with its revision (see :func:`store_rows`).
StoreRows = dict[str, tuple[int, bytes]]


def sv(words: str, *more: str) -> int:
    """``sv("transit create k --type hmac", *vault)``: words split on spaces, then arguments as given."""
    from secretumvault.cli import main

    return main([*words.split(), *more])


def store_rows(db: Path) -> StoreRows:
    """Every stored record with its revision: equal snapshots mean nothing was written."""
    from secretumvault.keystore import SQLiteStorage

    storage = SQLiteStorage(db)
    try:
        found = {path: storage.get(path) for path in storage.list("")}
        return {path: (value.revision, value.value) for path, value in found.items() if value}
    finally:
        storage.close()


@pytest.fixture
def no_material_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line finds no passphrase or shares in the environment: each test gives its own.
    Used by ``pytestmark = pytest.mark.usefixtures("no_material_in_environment")``."""
    from secretumvault.cli._store import PASSPHRASE_ENV, SHARES_ENV

    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.delenv(SHARES_ENV, raising=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where a test's SQLite store goes (the command line's ``init`` makes it)."""
    return tmp_path / "vault.db"
