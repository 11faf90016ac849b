"""sys/rekey over HTTP with hvac: new shares (t and n change) for the same root key; data stays readable."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hvac.exceptions import InvalidRequest

from tests.server.conftest import start_server, write_config


def test_rekey_to_new_shares_keeps_every_record(tmp_path: Path) -> None:
    config = write_config(tmp_path / "server.toml", tmp_path / "vault.db")
    server = start_server(["-c", str(config)], tmp_path / "server.log")
    try:
        anonymous = server.client(token="")
        init = anonymous.sys.initialize(secret_shares=3, secret_threshold=2)
        old = init["keys"]
        anonymous.sys.submit_unseal_keys(old[:2])
        client = server.client(token=init["root_token"])
        client.sys.enable_secrets_engine("transit", path="transit")
        client.adapter.post("/v1/transit/keys/kept", json={"type": "ml-kem-768"})
        ciphertext = client.secrets.transit.encrypt_data("kept", base64.b64encode(b"kept").decode())["data"][
            "ciphertext"
        ]

        assert anonymous.sys.read_rekey_progress()["started"] is False
        started = anonymous.sys.start_rekey(secret_shares=5, secret_threshold=3)
        nonce = started["nonce"]
        assert (
            started["started"] is True and started["required"] == 2 and (started["t"], started["n"]) == (3, 5)
        )
        with pytest.raises(InvalidRequest):  # a rekey is already running
            anonymous.sys.start_rekey(secret_shares=2, secret_threshold=2)
        with pytest.raises(InvalidRequest):  # the nonce must match
            anonymous.sys.rekey(old[0], nonce="0" * 32)
        assert anonymous.sys.rekey(old[0], nonce=nonce)["progress"] == 1
        with pytest.raises(InvalidRequest):  # the same key twice does not count
            anonymous.sys.rekey(old[0], nonce=nonce)
        done = anonymous.sys.rekey(old[2], nonce=nonce)
        assert done["complete"] is True and len(done["keys"]) == len(done["keys_base64"]) == 5
        new = done["keys"]
        assert not set(new) & set(old)
        # Still unsealed here; sealed, only the new shares open it.
        client.sys.seal()
        with pytest.raises(InvalidRequest):
            anonymous.sys.submit_unseal_key(old[0])
        anonymous.sys.submit_unseal_key(reset=True)
        anonymous.sys.submit_unseal_keys(done["keys_base64"][2:])
        assert anonymous.sys.is_sealed() is False
        assert (
            base64.b64decode(client.secrets.transit.decrypt_data("kept", ciphertext)["data"]["plaintext"])
            == b"kept"
        )
    finally:
        server.stop()


def test_rekey_with_wrong_shares_changes_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path / "server.toml", tmp_path / "vault.db")
    server = start_server(["-c", str(config)], tmp_path / "server.log")
    try:
        anonymous = server.client(token="")
        init = anonymous.sys.initialize(secret_shares=2, secret_threshold=2)
        anonymous.sys.submit_unseal_keys(init["keys"])
        other = tmp_path / "other"
        other.mkdir()
        foreign_server = start_server(
            ["-c", str(write_config(other / "server.toml", other / "vault.db"))], other / "server.log"
        )
        try:
            foreign = foreign_server.client(token="").sys.initialize(secret_shares=2, secret_threshold=2)[
                "keys"
            ]
        finally:
            foreign_server.stop()
        nonce = anonymous.sys.start_rekey(secret_shares=1, secret_threshold=1)["nonce"]
        anonymous.sys.rekey(init["keys"][0], nonce=nonce)
        with pytest.raises(InvalidRequest):  # a share of another store
            anonymous.sys.rekey(foreign[0], nonce=nonce)
        assert anonymous.sys.read_rekey_progress()["started"] is False  # the attempt is over
        nonce = anonymous.sys.start_rekey(secret_shares=1, secret_threshold=1)["nonce"]
        anonymous.sys.cancel_rekey()
        with pytest.raises(InvalidRequest):
            anonymous.sys.rekey(init["keys"][0], nonce=nonce)
        server.client(token=init["root_token"]).sys.seal()
        anonymous.sys.submit_unseal_keys(init["keys"])  # the old shares still open it
        assert anonymous.sys.is_sealed() is False
    finally:
        server.stop()
