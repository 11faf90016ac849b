"""Server tests: real `secretumvault server` processes on free loopback ports, driven by hvac and requests.

A dev server is shared per test module where tests do not interfere (each
module makes its own keys, roles and mounts); tests that seal, kill or
restart a server start their own.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hvac
import pytest
import requests

STARTUP_TIMEOUT = 60.0


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    root_token: str = field(repr=False)
    log_path: Path
    #: What the server printed up to the line with its address.
    banner: list[str] = field(default_factory=list)

    def client(self, token: str | None = None, **kwargs: Any) -> hvac.Client:
        return hvac.Client(url=self.url, token=self.root_token if token is None else token, **kwargs)

    def request(self, method: str, path: str, token: str | None = "root", **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is not None:
            headers["X-Vault-Token"] = self.root_token if token == "root" else token
        return requests.request(method, f"{self.url}/v1/{path}", headers=headers, timeout=60, **kwargs)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def start_server(
    args: list[str],
    log_path: Path,
    *,
    root_token: str = "",
    verify: str | None = None,
    python: Sequence[str] = (),
) -> Server:
    """Start `python -m secretumvault server ARGS` and wait until it says where it listens.

    ``python``: the command that runs this Python, when not ``sys.executable`` alone (e.g. under
    another dynamic loader)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = log_path.open("w")
    process = subprocess.Popen(
        [*(python or [sys.executable]), "-m", "secretumvault", "server", *args],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    url = ""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Listening on: ") or "listening on " in line:
            url = line.split("Listening on: ")[-1].split("listening on ")[-1].split(";")[0].strip()
            break
    if not url:
        process.kill()
        raise RuntimeError(f"server did not start: {''.join(lines)} {log_path.read_text()}")
    server = Server(process, url, root_token, log_path, lines)
    try:
        _wait_until_answering(server, verify)
    except BaseException:
        server.stop(signal.SIGKILL)  # never leave a server behind
        raise
    return server


def _wait_until_answering(server: Server, verify: str | None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            requests.get(f"{server.url}/v1/sys/seal-status", timeout=5, verify=verify or True)
            return
        except requests.exceptions.SSLError:
            return  # it answers; the name in its certificate is not the address (checked by the test)
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("server never answered")


def start_dev_server(tmp_path: Path, *extra: str) -> Server:
    token = "hvs." + secrets.token_urlsafe(24)
    return start_server(
        ["--dev", "--address", "127.0.0.1:0", "--dev-root-token", token, *extra],
        tmp_path / "server.log",
        root_token=token,
    )


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_dev_server(tmp_path_factory.mktemp("dev"))
    yield server
    server.stop()


@pytest.fixture
def client(dev_server: Server) -> hvac.Client:
    return dev_server.client()


def write_config(path: Path, store: Path | str, *, extra: str = "", postgres: bool = False) -> Path:
    storage = f'backend = "postgresql"\ndsn = "{store}"' if postgres else f'path = "{store}"'
    path.write_text(f'[server]\naddress = "127.0.0.1:0"\n{extra}\n[storage]\n{storage}\n')
    return path


def unchanged(store: Path, send: Callable[..., requests.Response]) -> requests.Response:
    """Send a request (``send()``: a lambda may bind loop values as defaults) and assert that no raw
    record of the store (value or revision) changed."""
    from secretumvault.keystore import SQLiteStorage
    from tests.keystore.conftest import snapshot

    storage = SQLiteStorage(store)
    try:
        before = snapshot(storage)
        response = send()
        assert snapshot(storage) == before
    finally:
        storage.close()
    return response


def start_file_server(tmp: Path, extra: str = "") -> tuple[Server, Path]:
    """A server on a SQLite file in ``tmp`` (which a test can read raw), initialised with one share
    and unsealed; its root token set. ``extra``: more ``[server]`` configuration."""
    store = tmp / "vault.db"
    server = start_server(
        ["-c", str(write_config(tmp / "server.toml", store, extra=extra))], tmp / "server.log"
    )
    init = server.client(token="").sys.initialize(secret_shares=1, secret_threshold=1)
    server.client(token="").sys.submit_unseal_key(init["keys"][0])
    server.root_token = init["root_token"]
    return server, store
