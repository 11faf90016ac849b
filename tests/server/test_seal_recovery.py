"""Recovery keys of an auto-sealed store (issue 25): returned by sys/init, they authorise
sys/generate-root and their own rekey (Vault's sys/rekey-recovery-key), never unsealing. A
transit seal against a second real server (dev mode); driven by hvac."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import hvac
import pytest
import requests

from secretumvault.keystore import shamir
from secretumvault.keystore.seal import ShamirSeal
from secretumvault.server.state.generate_root import decode_token
from secretumvault.server.state.shares import share_to_vault_key
from tests.conftest import store_rows
from tests.server.conftest import Server, start_dev_server, start_server, write_config


def _generate_root(client: hvac.Client, keys: list[str]) -> dict[str, object]:
    """A whole sys/generate-root attempt with ``keys``; the last answer, with the token decoded."""
    started = client.sys.start_root_token_generation()
    otp, nonce = started["otp"], started["nonce"]
    answer: dict[str, object] = {}
    for key in keys:
        answer = dict(client.sys.generate_root(key=key, nonce=nonce))
    if answer.get("complete"):
        answer["token"] = decode_token(str(answer["encoded_token"]), otp)
    return answer


def _foreign_key() -> str:
    """A well-formed share of another set: refused as such, never a wrong key rebuilt."""
    share = shamir.split(os.urandom(32), ShamirSeal.new(3, 2))[0]
    return share_to_vault_key(share).hex()


def test_recovery_keys_authorise_root_generation_and_their_rekey_not_unsealing(tmp_path: Path) -> None:
    kms = start_dev_server(tmp_path)
    host: Server | None = None
    try:
        assert kms.request("POST", "transit/keys/rec", json={"type": "ml-kem-768"}).status_code == 200
        config = write_config(tmp_path / "host.toml", tmp_path / "host.db")
        token_file = tmp_path / "kms-token"
        token_file.write_text(kms.root_token)
        config.write_text(
            config.read_text()
            + f'[seal]\ntype = "transit"\naddress = "{kms.url}"\ntoken_file = "{token_file}"\n'
            'key_name = "rec"\ntimeout = 5\n'
        )
        host = start_server(["-c", str(config)], tmp_path / "host.log")
        anonymous = hvac.Client(url=host.url)
        init = anonymous.sys.initialize(recovery_shares=3, recovery_threshold=2)
        recovery, host.root_token = init["recovery_keys"], init["root_token"]
        assert init["keys"] == [] and len(recovery) == 3
        db = tmp_path / "host.db"

        # sys/generate-root: the recovery keys are the authority (no token needed).
        assert anonymous.sys.read_root_generation_progress()["required"] == 2
        generated = _generate_root(anonymous, recovery[1:])
        assert generated["complete"] is True
        new_root = host.client(token=str(generated["token"]))
        assert new_root.auth.token.lookup_self()["data"]["policies"] == ["root"]
        before = store_rows(db)
        with pytest.raises(hvac.exceptions.InvalidRequest, match="root generation failed"):
            _generate_root(anonymous, [recovery[0], _foreign_key()])
        assert store_rows(db) == before

        # sys/rekey is for unseal keys, which this store has none of; it says where to go.
        with pytest.raises(hvac.exceptions.InvalidRequest, match="sys/rekey-recovery-key"):
            anonymous.sys.start_rekey(secret_shares=3, secret_threshold=2)

        # sys/rekey-recovery-key: new recovery keys (5 of 3) for 2 of the current ones. A wrong set
        # first: refused at the threshold, nothing stored changed.
        anonymous.sys.start_rekey(secret_shares=5, secret_threshold=3, recovery_key=True)
        nonce = anonymous.sys.read_rekey_progress(recovery_key=True)["nonce"]
        assert anonymous.sys.rekey(recovery[0], nonce, recovery_key=True)["progress"] == 1
        with pytest.raises(hvac.exceptions.InvalidRequest, match="rekey failed, nothing changed"):
            anonymous.sys.rekey(_foreign_key(), nonce, recovery_key=True)
        assert store_rows(db) == before
        anonymous.sys.start_rekey(secret_shares=5, secret_threshold=3, recovery_key=True)
        nonce = anonymous.sys.read_rekey_progress(recovery_key=True)["nonce"]
        anonymous.sys.rekey(recovery[0], nonce, recovery_key=True)
        rekeyed = anonymous.sys.rekey(recovery[2], nonce, recovery_key=True)
        assert rekeyed["complete"] is True and len(rekeyed["keys"]) == 5
        new_recovery = rekeyed["keys"]
        status = requests.get(f"{host.url}/v1/sys/seal-status", timeout=30).json()
        assert (status["type"], status["t"], status["n"], status["sealed"]) == ("transit", 3, 5, False)

        # The old recovery keys no longer authorise; three new ones do.
        with pytest.raises(hvac.exceptions.InvalidRequest, match="root generation failed"):
            _generate_root(anonymous, recovery)
        assert _generate_root(anonymous, new_recovery[2:])["complete"] is True

        # Restarted after kill -9: the rekey holds, the store unseals through its seal alone.
        host.stop(signal.SIGKILL)
        host = start_server(["-c", str(config)], tmp_path / "host.log", root_token=init["root_token"])
        anonymous = hvac.Client(url=host.url)
        for _ in range(300):  # bounded: the first attempt is at start, retries every <= 10 s
            if not anonymous.sys.read_seal_status()["sealed"]:
                break
            time.sleep(0.1)
        assert anonymous.sys.read_seal_status()["sealed"] is False

        # Recovery keys never unseal: with the seal's server gone, the store stays sealed.
        hvac.Client(url=host.url, token=host.root_token).sys.seal()
        kms.stop(signal.SIGKILL)
        for key in new_recovery:
            answer = requests.put(f"{host.url}/v1/sys/unseal", json={"key": key}, timeout=60).json()
            assert answer["sealed"] is True and "cannot be reached" in answer["auto_unseal_error"]
        assert kms.root_token not in host.log_path.read_text()
    finally:
        if host is not None:
            host.stop()
        kms.stop()
