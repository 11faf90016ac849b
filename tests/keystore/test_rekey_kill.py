"""A rekey killed (SIGKILL) at any point leaves a store that the old or the new material unseals,
never neither (issue 13, item 14)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import secretumvault
from secretumvault.errors import UnsealError
from secretumvault.keystore import Keystore, open_storage

from .conftest import FAST_SCRYPT, PASSPHRASE

WORKER = Path(__file__).with_name("_rekey_worker.py")
NEW_PASSPHRASE = "a new passphrase after the rekey"
RECORDS = {f"secret/{i}": f"value {i}".encode() for i in range(5)}
BEFORE_SWITCH = ("prepared", "first-write", "all-writes")


def _initialise(spec: dict[str, Any]) -> None:
    storage = open_storage(**spec)
    ks = Keystore(storage)
    ks.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    ks.unseal(PASSPHRASE)
    for path, value in RECORDS.items():
        ks.put(path, value)
    storage.close()


def _run_worker(
    spec: dict[str, Any], args: list[str], new: str, shares_file: Path, *, old: str = PASSPHRASE
) -> subprocess.Popen[str]:
    package_root = str(Path(secretumvault.__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]),
        "SV_TEST_STORAGE": json.dumps(spec),
        "SV_TEST_OLD": old,
        "SV_TEST_NEW": new,
        "SV_TEST_SHARES": str(shares_file),
    }
    return subprocess.Popen([sys.executable, str(WORKER), *args], env=env, stdout=subprocess.PIPE, text=True)


def _opens_with(spec: dict[str, Any], material: str | list[str]) -> bool:
    """Whether ``material`` unseals the store; if it does, every record must read back whole."""
    storage = open_storage(**spec)
    ks = Keystore(storage)
    try:
        if isinstance(material, str):
            ks.unseal(material)
        else:
            for share in material:
                ks.unseal_share(share)
        if ks.sealed:
            return False
        assert {path: ks.get(path) for path in RECORDS} == RECORDS
        return True
    except UnsealError:
        return False
    finally:
        storage.close()


def _check_sqlite(spec: dict[str, Any]) -> None:
    if spec["backend"] == "sqlite":
        conn = sqlite3.connect(spec["path"])
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()


@pytest.mark.parametrize("point", [*BEFORE_SWITCH, "committed"])
def test_rekey_to_a_passphrase_killed_at_each_point(
    storage_spec: dict[str, Any], tmp_path: Path, point: str
) -> None:
    _initialise(storage_spec)
    worker = _run_worker(storage_spec, ["once", point], NEW_PASSPHRASE, tmp_path / "shares.txt")
    assert worker.wait(timeout=120) == -signal.SIGKILL
    _check_sqlite(storage_spec)
    old, new = _opens_with(storage_spec, PASSPHRASE), _opens_with(storage_spec, NEW_PASSPHRASE)
    assert (old, new) == ((True, False) if point in BEFORE_SWITCH else (False, True))


@pytest.mark.parametrize("point", [*BEFORE_SWITCH, "committed"])
def test_rekey_to_shares_killed_at_each_point(
    storage_spec: dict[str, Any], tmp_path: Path, point: str
) -> None:
    _initialise(storage_spec)
    shares_file = tmp_path / "shares.txt"
    worker = _run_worker(storage_spec, ["once", point], "shares:5:3", shares_file)
    assert worker.wait(timeout=120) == -signal.SIGKILL
    _check_sqlite(storage_spec)
    shares = shares_file.read_text(encoding="ascii").split()
    assert len(shares) == 5  # saved before the switch was attempted
    old, new = _opens_with(storage_spec, PASSPHRASE), _opens_with(storage_spec, shares[2:])
    assert (old, new) == ((True, False) if point in BEFORE_SWITCH else (False, True))


def test_rekey_without_a_kill_switches(storage_spec: dict[str, Any], tmp_path: Path) -> None:
    _initialise(storage_spec)
    worker = _run_worker(storage_spec, ["once", "none"], NEW_PASSPHRASE, tmp_path / "shares.txt")
    assert worker.wait(timeout=120) == 0
    assert (_opens_with(storage_spec, PASSPHRASE), _opens_with(storage_spec, NEW_PASSPHRASE)) == (False, True)


def test_rekeys_killed_at_random_moments(storage_spec: dict[str, Any], tmp_path: Path) -> None:
    # A worker rekeys back and forth between two passphrases and is killed at a random
    # moment, five times over. Each time exactly one of the two unseals the store.
    _initialise(storage_spec)
    current, other = PASSPHRASE, NEW_PASSPHRASE
    for _ in range(5):
        worker = _run_worker(storage_spec, ["loop"], other, tmp_path / "unused", old=current)
        assert worker.stdout is not None
        for switches, _line in enumerate(worker.stdout, start=1):
            if switches >= 1 + secrets.randbelow(4):
                break
        time.sleep(secrets.randbelow(40) / 1000)  # somewhere within the next rekey, or between two
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        _check_sqlite(storage_spec)
        opens = {p: _opens_with(storage_spec, p) for p in (current, other)}
        assert sum(opens.values()) == 1, opens
        if opens[other]:
            current, other = other, current
