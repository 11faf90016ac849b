"""SQLite store files are private and never reached through a symlink (issue 13 item 4, issue 11 item 5)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from secretumvault.errors import KeystoreError
from secretumvault.keystore import Keystore, SQLiteStorage

from .conftest import FAST_SCRYPT, PASSPHRASE

SIDE_FILES = ("-wal", "-shm", "-journal")


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common umask 022, under which files are world-readable unless made otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_new_store_files_are_0600(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "vault.db"
    storage = SQLiteStorage(path)
    ks = Keystore(storage)
    ks.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    ks.unseal(PASSPHRASE)
    ks.put("k", b"v")
    # While a connection is open, the WAL and shared-memory files exist beside the store.
    present = [tmp_path / f"vault.db{suffix}" for suffix in ("", "-wal", "-shm")]
    assert all(p.exists() for p in present)
    assert {str(p.name): _mode(p) for p in present} == {str(p.name): 0o600 for p in present}
    storage.close()
    assert _mode(path) == 0o600


def test_existing_store_mode_is_left_alone(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "vault.db"
    SQLiteStorage(path).close()
    path.chmod(0o640)  # an operator's choice, e.g. a group that backs it up
    storage = SQLiteStorage(path)
    storage.put("k", b"v")
    assert _mode(path) == 0o640
    storage.close()


def test_store_path_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"someone else's file\n")
    victim.chmod(0o644)
    link = tmp_path / "vault.db"
    link.symlink_to(victim)
    with pytest.raises(KeystoreError, match="symbolic link"):
        SQLiteStorage(link)
    assert victim.read_bytes() == b"someone else's file\n"
    assert _mode(victim) == 0o644
    assert not any((tmp_path / f"victim.txt{s}").exists() for s in SIDE_FILES)


def test_dangling_symlink_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "planted.db"
    target.parent.mkdir()
    link = tmp_path / "vault.db"
    link.symlink_to(target)
    with pytest.raises(KeystoreError, match="symbolic link"):
        SQLiteStorage(link)
    assert list(target.parent.iterdir()) == []


@pytest.mark.parametrize("suffix", SIDE_FILES)
def test_side_file_that_is_a_symlink_is_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / "vault.db"
    SQLiteStorage(path).close()
    before = path.read_bytes()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me\n")
    (tmp_path / f"vault.db{suffix}").symlink_to(victim)
    with pytest.raises(KeystoreError, match="symbolic link"):
        SQLiteStorage(path)
    assert victim.read_bytes() == b"keep me\n"
    assert path.read_bytes() == before


def test_store_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "vault.db").mkdir()
    with pytest.raises(KeystoreError, match="not a regular file"):
        SQLiteStorage(tmp_path / "vault.db")
