"""Auto-unseal with a transit seal against a second real server (issue 25): restart unsealed after
kill -9, stay sealed and say why while the seal's server is gone, unseal by itself once it is
back; two hosts on one PostgreSQL store with one transit seal."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.server.conftest import Server, start_server, write_config

WAIT = 60.0  # bound of every wait loop (seconds); the retry cap is 10 s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(server: Server) -> dict[str, Any]:
    return dict(requests.get(f"{server.url}/v1/sys/seal-status", timeout=30).json())


def _wait_for(server: Server, sealed: bool) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        status = _status(server)
        if status["sealed"] is sealed:
            return status
        time.sleep(0.2)
    raise AssertionError(f"server still sealed={not sealed} after {WAIT} s: {_status(server)}")


class Kms:
    """The seal's server: a SecretumVault server on a fixed port, Shamir-sealed, with a transit key."""

    def __init__(self, tmp: Path) -> None:
        self.port = _free_port()
        self.config = write_config(tmp / "kms.toml", tmp / "kms.db")
        text = self.config.read_text().replace("127.0.0.1:0", f"127.0.0.1:{self.port}")
        self.config.write_text(text)
        self.tmp = tmp
        self.server = self.start()
        init = requests.post(
            f"{self.server.url}/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1}, timeout=60
        ).json()
        self.key, self.server.root_token = init["keys_base64"][0], init["root_token"]
        self.unseal()
        assert self.server.request("POST", "sys/mounts/transit", json={"type": "transit"}).status_code == 204
        created = self.server.request("POST", "transit/keys/autounseal", json={"type": "ml-kem-768"})
        assert created.status_code == 200, created.text

    def start(self) -> Server:
        return start_server(["-c", str(self.config)], self.tmp / "kms.log")

    def unseal(self) -> None:
        reply = requests.post(f"{self.server.url}/v1/sys/unseal", json={"key": self.key}, timeout=60)
        assert reply.json()["sealed"] is False

    def seal_table(self, tmp: Path) -> str:
        token_file = tmp / "kms-token"
        token_file.write_text(self.server.root_token + "\n")
        token_file.chmod(0o600)
        return (
            f'[seal]\ntype = "transit"\naddress = "{self.server.url}"\ntoken_file = "{token_file}"\n'
            'mount_path = "transit/"\nkey_name = "autounseal"\ntimeout = 5\n'
        )


def _start_sealed_host(tmp: Path, name: str, kms: Kms, store: str, *, postgres: bool = False) -> Server:
    config = write_config(tmp / f"{name}.toml", store, postgres=postgres)
    config.write_text(config.read_text() + kms.seal_table(tmp))
    return start_server(["-c", str(config)], tmp / f"{name}.log")


def test_transit_seal_restarts_unsealed_and_waits_for_its_server(tmp_path: Path) -> None:
    kms = Kms(tmp_path)
    host = _start_sealed_host(tmp_path, "host", kms, str(tmp_path / "host.db"))
    try:
        status = _status(host)
        assert status["type"] == "transit" and status["initialized"] is False
        init = requests.post(
            f"{host.url}/v1/sys/init", json={"recovery_shares": 3, "recovery_threshold": 2}, timeout=60
        ).json()
        assert init["keys"] == [] and len(init["recovery_keys_base64"]) == 3
        host.root_token = init["root_token"]
        status = _status(host)
        assert status["sealed"] is False and status["recovery_seal"] is True
        assert (status["type"], status["t"], status["n"]) == ("transit", 2, 3)
        policy = '{"path": {"secret/*": {"capabilities": ["read"]}}}'
        assert host.request("PUT", "sys/policy/p1", json={"policy": policy}).status_code == 204

        # Sealed by hand, then killed: the restart below unseals it all the same.
        assert requests.post(
            f"{host.url}/v1/sys/seal", headers={"X-Vault-Token": host.root_token}, timeout=30
        )
        assert _status(host)["sealed"] is True
        host.stop(signal.SIGKILL)

        # kill -9, restart: unsealed by itself, the record whole.
        host = _start_sealed_host(tmp_path, "host", kms, str(tmp_path / "host.db"))
        host.root_token = init["root_token"]
        _wait_for(host, sealed=False)
        assert host.request("GET", "sys/policy/p1").json()["rules"] == policy
        host.stop(signal.SIGKILL)

        # The seal's server gone: the host starts sealed and says why, in seal-status and its log.
        kms.server.stop(signal.SIGKILL)
        host = _start_sealed_host(tmp_path, "host", kms, str(tmp_path / "host.db"))
        host.root_token = init["root_token"]
        deadline = time.monotonic() + WAIT
        while not _status(host)["auto_unseal_error"] and time.monotonic() < deadline:
            time.sleep(0.2)
        status = _status(host)
        assert status["sealed"] is True and "cannot be reached" in status["auto_unseal_error"]
        assert host.request("GET", "sys/policy/p1").status_code == 503
        # An unseal by hand goes through the seal too, and says why it is still sealed.
        retried = requests.post(f"{host.url}/v1/sys/unseal", json={"key": "ignored"}, timeout=60)
        assert retried.status_code == 200 and retried.json()["sealed"] is True
        assert "cannot be reached" in retried.json()["auto_unseal_error"]
        assert "still sealed, auto-unseal retry" in host.log_path.read_text()
        assert kms.server.root_token not in host.log_path.read_text()

        # Back (and unsealed by its own operator): the host unseals by itself.
        kms.server = kms.start()
        kms.unseal()
        status = _wait_for(host, sealed=False)
        assert status["auto_unseal_error"] is None
        assert host.request("GET", "sys/policy/p1").json()["rules"] == policy
    finally:
        host.stop()
        kms.server.stop()


@pytest.mark.skipif(
    not os.environ.get("SECRETUMVAULT_TEST_PG_DSN"),
    reason="SECRETUMVAULT_TEST_PG_DSN is not set: start a server with .ci/postgres.sh and export it",
)
def test_two_hosts_on_one_postgres_store_with_one_transit_seal(tmp_path: Path) -> None:
    import psycopg

    dsn = os.environ["SECRETUMVAULT_TEST_PG_DSN"]
    schema = "seal_hosts"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    store = dsn + ("&" if "?" in dsn else "?") + f"options=-csearch_path%3D{schema}"
    kms = Kms(tmp_path)
    first = _start_sealed_host(tmp_path, "first", kms, store, postgres=True)
    second: Server | None = None
    try:
        init = requests.post(f"{first.url}/v1/sys/init", json={}, timeout=60).json()
        first.root_token = init["root_token"]
        assert len(init["recovery_keys"]) == 5
        second = _start_sealed_host(tmp_path, "second", kms, store, postgres=True)
        second.root_token = init["root_token"]
        _wait_for(second, sealed=False)
        policy = '{"path": {"kv/*": {"capabilities": ["list"]}}}'
        assert first.request("PUT", "sys/policy/shared", json={"policy": policy}).status_code == 204
        assert second.request("GET", "sys/policy/shared").json()["rules"] == policy
        second.stop(signal.SIGKILL)
        second = _start_sealed_host(tmp_path, "second", kms, store, postgres=True)
        second.root_token = init["root_token"]
        _wait_for(second, sealed=False)
        assert second.request("GET", "sys/policy/shared").json()["rules"] == policy
    finally:
        first.stop()
        if second is not None:
            second.stop()
        kms.server.stop()


def test_callers_of_sys_unseal_do_not_each_reach_the_seal(tmp_path: Path) -> None:
    # sys/unseal needs no token; on an auto-sealed store each call is an attempt through the
    # seal. At most one a second (AUTO_UNSEAL_MIN_INTERVAL), so nobody can turn the server into
    # a flood of requests to its KMS or HSM.
    kms = Kms(tmp_path)
    host = _start_sealed_host(tmp_path, "host", kms, str(tmp_path / "host.db"))
    try:
        init = requests.post(
            f"{host.url}/v1/sys/init", json={"recovery_shares": 1, "recovery_threshold": 1}, timeout=60
        )
        assert init.status_code == 200, init.text
        host.stop(signal.SIGKILL)
        kms.server.stop(signal.SIGKILL)
        # In the KMS's place: a listener that counts the connections the host makes to it.
        listener = socket.create_server(("127.0.0.1", kms.port))
        listener.settimeout(0.05)
        host = _start_sealed_host(tmp_path, "host", kms, str(tmp_path / "host.db"))
        calls, reached = 0, 0
        started = time.monotonic()
        while calls < 40:
            reply = requests.post(f"{host.url}/v1/sys/unseal", json={"key": "x"}, timeout=60)
            assert reply.status_code == 200 and reply.json()["sealed"] is True
            calls += 1
            while True:  # close what reached the listener meanwhile
                try:
                    listener.accept()[0].close()
                except TimeoutError:
                    break
                reached += 1
        elapsed = time.monotonic() - started
        # The background retries (0.5 s, doubling) and at most one a second from the callers.
        assert reached <= 2 * (elapsed + 2), (reached, elapsed)
        assert reached < calls
    finally:
        host.stop()
        listener.close()
