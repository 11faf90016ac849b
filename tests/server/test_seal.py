"""init -> unseal -> kill -9 -> restart sealed -> unseal, over HTTP, with a store on disk."""

from __future__ import annotations

import base64
import signal
from pathlib import Path

import pytest
from hvac.exceptions import InvalidRequest, VaultDown

from tests.server.conftest import Server, start_server, write_config


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _start(tmp_path: Path, name: str) -> Server:
    config = write_config(tmp_path / "server.toml", tmp_path / "vault.db")
    return start_server(["-c", str(config)], tmp_path / f"{name}.log")


def test_init_unseal_kill_restart_unseal_old_ciphertexts_decrypt(tmp_path: Path) -> None:
    server = _start(tmp_path, "first")
    try:
        client = server.client(token="")
        assert client.sys.is_initialized() is False
        status = client.sys.read_seal_status()
        assert status["initialized"] is False and status["sealed"] is True
        # Before init, everything else is 503.
        assert server.request("GET", "transit/keys/x", token=None).status_code == 503
        init = client.sys.initialize(secret_shares=5, secret_threshold=3)
        keys, keys_b64, root = init["keys"], init["keys_base64"], init["root_token"]
        assert len(keys) == len(keys_b64) == 5 and root.startswith("hvs.")
        assert client.sys.read_seal_status()["t"] == 3 and client.sys.is_sealed()
        with pytest.raises(InvalidRequest):  # once only
            client.sys.initialize(secret_shares=1, secret_threshold=1)
        # Shares as hex and as base64, like Vault's; reset discards progress.
        assert client.sys.submit_unseal_key(keys[0])["progress"] == 1
        assert client.sys.submit_unseal_key(reset=True)["progress"] == 0
        client.sys.submit_unseal_key(keys[1])
        client.sys.submit_unseal_key(keys_b64[2])
        unsealed = client.sys.submit_unseal_key(keys[4])
        assert unsealed["sealed"] is False
        client.token = root
        client.sys.enable_secrets_engine("transit", path="transit")
        client.adapter.post("/v1/transit/keys/orders", json={"type": "ml-kem-768"})
        old = client.secrets.transit.encrypt_data("orders", b64(b"before the crash"))["data"]["ciphertext"]
        server.stop(signal.SIGKILL)
        assert server.process.returncode == -signal.SIGKILL
    finally:
        server.stop()

    server = _start(tmp_path, "second")
    try:
        client = server.client(token=root)
        status = client.sys.read_seal_status()
        assert status["initialized"] is True and status["sealed"] is True
        with pytest.raises(VaultDown):  # 503 while sealed
            client.secrets.transit.decrypt_data("orders", old)
        for key in keys[2:]:
            client.sys.submit_unseal_key(key)
        assert client.sys.is_sealed() is False
        plain = client.secrets.transit.decrypt_data("orders", old)["data"]["plaintext"]
        assert base64.b64decode(plain) == b"before the crash"
        # Seal through the API: 503 again, and health says so.
        client.sys.seal()
        assert server.request("GET", "transit/keys/orders").status_code == 503
        assert server.request("GET", "sys/health", token=None).status_code == 503
    finally:
        server.stop()


def test_wrong_and_foreign_shares_are_refused(tmp_path: Path) -> None:
    server = _start(tmp_path, "shares")
    try:
        client = server.client(token="")
        client.sys.initialize(secret_shares=3, secret_threshold=2)
        for bad in ("zz-not-a-key", base64.b64encode(b"\x01" * 47).decode()):
            r = server.request("PUT", "sys/unseal", token=None, json={"key": bad})
            assert r.status_code == 400 and r.json()["errors"]
        assert client.sys.read_seal_status()["progress"] == 0
        r = server.request("PUT", "sys/unseal", token=None, json={})
        assert r.status_code == 400
    finally:
        server.stop()
