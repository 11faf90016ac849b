"""Two workers of a production (-c) server with a transit seal against a second real server (dev
mode), issue 25: both come up unsealed, after sys/init and after a kill -9 of the whole server or
of one worker, and every one of 200 requests over new connections is answered 2xx."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import requests

from tests.server.conftest import Server, start_dev_server, start_server, write_config
from tests.server.test_workers import _children, _listening

ROUNDS = 200


def _statuses(server: Server, count: int = ROUNDS) -> list[int]:
    # requests.request opens a new connection each time: the kernel spreads them over the workers.
    return [server.request("GET", "sys/mounts").status_code for _ in range(count)]


def _both_listening(server: Server) -> set[int]:
    for _ in range(600):  # bounded: a worker listens once its first unseal attempt is done
        workers = _children(server.process.pid)
        if len(workers) == 2 and all(_listening(pid) for pid in workers):
            return workers
        time.sleep(0.05)
    raise AssertionError(f"the workers are not both listening: {_children(server.process.pid)}")


def test_two_workers_unseal_themselves_with_a_transit_seal(tmp_path: Path) -> None:
    kms = start_dev_server(tmp_path)
    host: Server | None = None
    try:
        assert kms.request("POST", "transit/keys/workers", json={"type": "ml-kem-768"}).status_code == 200
        token_file = tmp_path / "kms-token"
        token_file.write_text(kms.root_token)
        config = write_config(tmp_path / "host.toml", tmp_path / "host.db", extra="workers = 2")
        config.write_text(
            config.read_text()
            + f'[seal]\ntype = "transit"\naddress = "{kms.url}"\ntoken_file = "{token_file}"\n'
            'key_name = "workers"\ntimeout = 5\n'
        )
        host = start_server(["-c", str(config)], tmp_path / "host.log")
        assert "2 workers" in "".join(host.banner)
        init = host.request(
            "PUT", "sys/init", token=None, json={"recovery_shares": 1, "recovery_threshold": 1}
        )
        assert init.status_code == 200, init.text
        root = host.root_token = init.json()["root_token"]
        # The worker that initialised hands the root key to the other at once (no retry to wait for).
        assert _statuses(host) == [200] * ROUNDS

        # kill -9 of the whole server (parent and workers): both workers of the new one unseal
        # themselves before they listen.
        for pid in _children(host.process.pid):
            os.kill(pid, signal.SIGKILL)
        host.stop(signal.SIGKILL)
        host = start_server(["-c", str(config)], tmp_path / "host.log", root_token=root)
        workers = _both_listening(host)
        assert _statuses(host) == [200] * ROUNDS
        sealed = [
            requests.get(f"{host.url}/v1/sys/seal-status", timeout=30).json()["sealed"] for _ in range(50)
        ]
        assert sealed == [False] * 50

        # kill -9 of one worker: restarted, unsealed, listening again.
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        for _ in range(600):
            now = _children(host.process.pid)
            if len(now) == 2 and victim not in now and all(_listening(pid) for pid in now):
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the worker was not restarted: {_children(host.process.pid)}")
        assert _statuses(host) == [200] * ROUNDS
        assert kms.root_token not in host.log_path.read_text()
    finally:
        if host is not None:
            host.stop()
        kms.stop()
