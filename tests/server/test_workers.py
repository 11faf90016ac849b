"""Worker processes: a dev server's two workers serve one store; a production (-c) server's
workers are unsealed and sealed together, and a killed one comes back unsealed."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
import requests

from secretumvault.errors import ConfigError, KeystoreError
from secretumvault.server.config import ServerSettings
from tests.server.conftest import Server, start_dev_server, start_server, write_config


def test_two_workers_serve_the_same_store(tmp_path: Path) -> None:
    server = start_dev_server(tmp_path, "--workers", "2")
    try:
        headers = {"X-Vault-Token": server.root_token}
        created = requests.post(
            f"{server.url}/v1/transit/keys/shared", json={"type": "ml-kem-768"}, headers=headers, timeout=30
        )
        assert created.status_code == 200
        sessions = [requests.Session() for _ in range(16)]  # separate connections, spread by the kernel
        ciphertexts = []
        for index, session in enumerate(sessions):
            plaintext = base64.b64encode(f"message {index}".encode()).decode()
            r = session.post(
                f"{server.url}/v1/transit/encrypt/shared",
                json={"plaintext": plaintext},
                headers=headers,
                timeout=30,
            )
            assert r.status_code == 200
            ciphertexts.append(r.json()["data"]["ciphertext"])
        for index, (session, ciphertext) in enumerate(zip(reversed(sessions), ciphertexts, strict=True)):
            r = session.post(
                f"{server.url}/v1/transit/decrypt/shared",
                json={"ciphertext": ciphertext},
                headers=headers,
                timeout=30,
            )
            assert base64.b64decode(r.json()["data"]["plaintext"]) == f"message {index}".encode()
        for session in sessions:
            session.close()
    finally:
        server.stop()
    assert server.process.returncode == 0


# -- production (-c) workers: one unseal sequence, any worker, unseals them all ----------------------

ROUNDS = 200  # requests over new connections after each change


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()}


def _start_production(tmp_path: Path, *extra: str, config_extra: str = "") -> Server:
    config = write_config(tmp_path / "server.toml", tmp_path / "store.db", extra=config_extra)
    return start_server(["-c", str(config), *extra], tmp_path / "server.log")


def _statuses(server: Server, path: str, token: str | None, count: int = ROUNDS) -> list[int]:
    # requests.request opens a new connection each time: the kernel spreads them over the workers.
    return [server.request("GET", path, token=token).status_code for _ in range(count)]


def _init(server: Server, shares: int, threshold: int) -> tuple[list[str], str]:
    r = server.request(
        "PUT", "sys/init", token=None, json={"secret_shares": shares, "secret_threshold": threshold}
    )
    assert r.status_code == 200, r.text
    return r.json()["keys"], r.json()["root_token"]


def test_one_unseal_sequence_unseals_and_seal_seals_every_worker(tmp_path: Path) -> None:
    server = _start_production(tmp_path, config_extra="workers = 2")
    try:
        assert "2 workers" in "".join(server.banner)
        assert len(_children(server.process.pid)) == 2
        keys, root = _init(server, 5, 3)

        def unseal(key: str) -> dict[str, object]:
            r = server.request("PUT", "sys/unseal", token=None, json={"key": key})
            assert r.status_code == 200, r.text
            return dict(r.json())

        # Progress is the same wherever the next share lands (each request is a new connection).
        for _ in range(5):
            assert unseal(keys[0])["progress"] == 1
            assert unseal(keys[1])["progress"] == 2
            repeated = server.request("PUT", "sys/unseal", token=None, json={"key": keys[1]})
            assert repeated.status_code == 400  # already given, in whichever worker got it
            reset = server.request("PUT", "sys/unseal", token=None, json={"reset": True})
            assert reset.json()["progress"] == 0
        assert _statuses(server, "sys/mounts", root, 50) == [503] * 50  # still sealed everywhere

        assert unseal(keys[2])["progress"] == 1
        assert unseal(keys[4])["progress"] == 2
        assert unseal(keys[0])["sealed"] is False
        assert _statuses(server, "sys/mounts", root) == [200] * ROUNDS

        assert server.request("PUT", "sys/seal", token=root).status_code == 204
        assert _statuses(server, "sys/mounts", root, 50) == [503] * 50
        sealed = [server.request("GET", "sys/seal-status", token=None).json()["sealed"] for _ in range(50)]
        assert sealed == [True] * 50
    finally:
        server.stop()
    assert server.process.returncode == 0


def test_a_killed_worker_comes_back_unsealed_and_sigterm_stops_all(tmp_path: Path) -> None:
    server = _start_production(tmp_path, "--workers", "2")
    try:
        keys, root = _init(server, 1, 1)
        assert (
            server.request("PUT", "sys/unseal", token=None, json={"key": keys[0]}).json()["sealed"] is False
        )
        workers = _children(server.process.pid)
        assert len(workers) == 2
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        for _ in range(600):  # bounded: the parent restarts it (it listens only once unsealed)
            now = _children(server.process.pid)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the worker was not restarted: {_children(server.process.pid)}")
        restarted = (now - workers).pop()
        for _ in range(600):  # bounded: until the restarted worker listens
            if _listening(restarted):
                break
            time.sleep(0.05)
        assert _statuses(server, "sys/mounts", root) == [200] * ROUNDS
        assert "restarting it" in server.log_path.read_text()
    finally:
        server.stop()
    assert server.process.returncode == 0
    for pid in now:
        assert not Path(f"/proc/{pid}").exists()


def _listening(pid: int) -> bool:
    """Whether ``pid`` has a listening TCP socket (its inode in /proc/net/tcp, state 0A)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                return True
    return False


def test_workers_setting_is_checked() -> None:
    with pytest.raises(ConfigError, match="workers must be from 1 to 64"):
        ServerSettings.from_table({"workers": 0})
    assert ServerSettings.from_table({"workers": 3}).workers == 3


def test_a_worker_that_fails_to_start_says_why_and_the_server_stops(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Before, it exited 1 with nothing on stderr, and so did the server.
    from secretumvault.server.workers import supervise

    def run_worker(*_: object) -> None:
        raise KeystoreError("cannot open SQLite store at 'x.db': database is locked")

    assert supervise(2, run_worker, lambda: None) == 1
    err = capfd.readouterr().err
    assert "failed: KeystoreError: cannot open SQLite store at 'x.db': database is locked" in err
    assert "before every worker was ready; stopping the server" in err
