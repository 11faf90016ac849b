"""A seal migration killed (SIGKILL) at any step leaves a store that exactly one seal opens, the old
or the new, with every record readable through it (issue 25). The seals are real: a transit key
on a second server (dev mode) and an AES key in SoftHSM2."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import secretumvault
from secretumvault.errors import UnsealError
from secretumvault.keystore import Keystore, migration, open_storage
from secretumvault.keystore.seals import seal_from_table

pytest.importorskip("uvicorn", reason="the transit seal's server needs the server extra")
from tests.server.conftest import Server, start_dev_server

WORKER = Path(__file__).with_name("_migrate_worker.py")
RECORDS = {f"secret/{i}": f"value {i}".encode() for i in range(8)}
PKCS11_LIB = os.environ.get("SECRETUMVAULT_TEST_PKCS11_LIB")
HAVE_SOFTHSM = bool(PKCS11_LIB and os.environ.get("SOFTHSM2_CONF"))
Seals = dict[str, dict[str, Any] | None]


@pytest.fixture(scope="module")
def kms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_dev_server(tmp_path_factory.mktemp("kms"))
    created = server.request("POST", "transit/keys/kill", json={"type": "ml-kem-768"})
    assert created.status_code == 200, created.text
    yield server
    server.stop()


def _table(kind: str, kms: Server) -> dict[str, Any] | None:
    if kind == "shamir":
        return None
    if kind == "transit":
        return {"type": "transit", "address": kms.url, "token": kms.root_token, "key_name": "kill"}
    if not HAVE_SOFTHSM:
        pytest.skip("no SoftHSM2 token: run .ci/softhsm.sh ENV_FILE and source it")
    return {
        "type": "pkcs11",
        "lib": PKCS11_LIB,
        "token_label": os.environ["SECRETUMVAULT_TEST_PKCS11_TOKEN"],
        "pin": os.environ["SECRETUMVAULT_TEST_PKCS11_PIN"],
        "key_label": f"kill-{secrets.token_hex(4)}",
        "generate_key": True,
    }


def _initialise(spec: dict[str, Any], first: dict[str, Any] | None) -> list[str]:
    """A Shamir store (3 shares, 2 unseal) with records, moved to ``first`` if it is a seal."""
    storage = open_storage(**spec)
    ks = Keystore(storage)
    shares = ks.initialize_with_shares(shares=3, threshold=2)
    for share in shares[:2]:
        ks.unseal_share(share)
    for path, value in RECORDS.items():
        ks.put(path, value)
    if first is not None:
        wrapper = seal_from_table(first, "<test>")
        plan = migration.plan(ks.seal_configuration, wrapper, None)
        assert plan is not None
        ks.complete_rekey(migration.prepare(ks, plan, shares[1:]))
    storage.close()
    return shares


def _opens(spec: dict[str, Any], table: dict[str, Any] | None, shares: list[str]) -> bool:
    """Whether this seal (None: the Shamir shares) opens the store; if so, every record must read."""
    storage = open_storage(**spec)
    ks = Keystore(storage)
    try:
        if table is None:
            for share in shares[:2]:
                ks.unseal_share(share)
        else:
            wrapper = seal_from_table(table, "<test>")
            assert wrapper is not None
            ks.unseal_auto(wrapper)
        if ks.sealed:
            return False
        assert {path: ks.get(path) for path in RECORDS} == RECORDS
        return True
    except UnsealError:  # another seal's store (SealUnavailable too would be a failure of the test)
        return False
    finally:
        storage.close()


def _run(spec: dict[str, Any], seals: Seals, shares: list[str], *args: str) -> subprocess.Popen[str]:
    package_root = str(Path(secretumvault.__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]),
        "SV_TEST_STORAGE": json.dumps(spec),
        "SV_TEST_SEALS": json.dumps(seals),
        "SV_TEST_MATERIAL": "\n".join(shares),
    }
    return subprocess.Popen([sys.executable, str(WORKER), *args], env=env, stdout=subprocess.PIPE, text=True)


_BEFORE = ("unwrapped-old", "wrapped-new", "prepared", "first-write", "all-writes")
_CASES = [
    (source, target, step)
    for source, target in (("shamir", "transit"), ("transit", "shamir"), ("transit", "pkcs11"))
    for step in (*_BEFORE, "committed", "none")
    # Only an auto seal unwraps (the old) or wraps (the new).
    if not (step == "unwrapped-old" and source == "shamir")
    and not (step == "wrapped-new" and target == "shamir")
]


@pytest.mark.parametrize(("source", "target", "step"), _CASES, ids=["-".join(case) for case in _CASES])
def test_migration_killed_at_each_step(
    storage_spec: dict[str, Any], kms: Server, source: str, target: str, step: str
) -> None:
    seals: Seals = {"old": _table(source, kms), "new": _table(target, kms)}
    shares = _initialise(storage_spec, seals["old"])
    worker = _run(storage_spec, seals, shares, "once", step)
    assert worker.wait(timeout=120) == (0 if step == "none" else -signal.SIGKILL)
    old, new = _opens(storage_spec, seals["old"], shares), _opens(storage_spec, seals["new"], shares)
    assert (old, new) == ((True, False) if step in _BEFORE else (False, True))


def test_migrations_killed_at_random_moments(storage_spec: dict[str, Any], kms: Server) -> None:
    # A worker migrates Shamir -> transit -> Shamir -> ... and is killed at a random moment, six
    # times over. Each time exactly one of the two opens the store, with every record.
    shares = _initialise(storage_spec, None)
    ends = [None, _table("transit", kms)]
    for _ in range(6):
        worker = _run(storage_spec, {"old": ends[0], "new": ends[1]}, shares, "loop")
        assert worker.stdout is not None
        for switches, _line in enumerate(worker.stdout, start=1):
            if switches >= 1 + secrets.randbelow(3):
                break
        time.sleep(secrets.randbelow(30) / 1000)  # somewhere within the next migration, or between two
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        opens = [_opens(storage_spec, end, shares) for end in ends]
        assert sum(opens) == 1, opens
        if opens[1]:
            ends.reverse()
