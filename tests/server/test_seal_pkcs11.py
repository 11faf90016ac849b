"""Auto-unseal with a PKCS#11 seal against SoftHSM2 (issue 25): a server restarts unsealed after
kill -9; nothing from the HSM is mocked. .ci/softhsm.sh makes the token (.ci/run runs it)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import requests

from tests.server.conftest import start_server, write_config
from tests.server.test_seal_transit import _status, _wait_for

pytest.importorskip("pkcs11", reason="python-pkcs11 is not installed (the pkcs11 extra)")
LIB = os.environ.get("SECRETUMVAULT_TEST_PKCS11_LIB")
pytestmark = pytest.mark.skipif(
    not LIB or not os.environ.get("SOFTHSM2_CONF"),
    reason="no SoftHSM2 token: run .ci/softhsm.sh ENV_FILE and source it (softhsm2 is not installed here)",
)


@pytest.mark.parametrize("mechanism", ["aes-gcm", "aes-kwp"])
def test_pkcs11_seal_restarts_unsealed_after_kill(tmp_path: Path, mechanism: str) -> None:
    config = write_config(tmp_path / "host.toml", tmp_path / "host.db")
    label = f"seal-{mechanism}-{os.urandom(4).hex()}"
    token = os.environ["SECRETUMVAULT_TEST_PKCS11_TOKEN"]
    config.write_text(
        config.read_text()
        + f'[seal]\ntype = "pkcs11"\nlib = "{LIB}"\ntoken_label = "{token}"\n'
        + f'key_label = "{label}"\nmechanism = "{mechanism}"\ngenerate_key = true\n'
    )
    # The PIN from the environment variable, never in the file.
    os.environ["SECRETUMVAULT_PKCS11_PIN"] = os.environ["SECRETUMVAULT_TEST_PKCS11_PIN"]
    host = start_server(["-c", str(config)], tmp_path / "host.log")
    try:
        init = requests.post(f"{host.url}/v1/sys/init", json={"recovery_shares": 1}, timeout=60)
        assert init.status_code == 400  # 1 share needs threshold 1, as Vault's rules
        init = requests.post(
            f"{host.url}/v1/sys/init", json={"recovery_shares": 1, "recovery_threshold": 1}, timeout=60
        ).json()
        host.root_token = init["root_token"]
        status = _status(host)
        assert (status["type"], status["sealed"], status["recovery_seal"]) == ("pkcs11", False, True)
        policy = '{"path": {"hsm/*": {"capabilities": ["read"]}}}'
        assert host.request("PUT", "sys/policy/hsm", json={"policy": policy}).status_code == 204
        host.stop(signal.SIGKILL)
        host = start_server(["-c", str(config)], tmp_path / "host.log")
        host.root_token = init["root_token"]
        _wait_for(host, sealed=False)
        assert host.request("GET", "sys/policy/hsm").json()["rules"] == policy
        assert os.environ["SECRETUMVAULT_TEST_PKCS11_PIN"] not in host.log_path.read_text()
    finally:
        host.stop()
        os.environ.pop("SECRETUMVAULT_PKCS11_PIN", None)
