"""Seal migration Vault's way (issue 25): the configuration names the new seal, the store's old one
marked ``disabled = true``, and ``sys/unseal`` with ``migrate=true`` (``vault operator unseal
-migrate``) moves the store. Shamir -> transit -> Shamir against a second real server (dev mode),
every record readable throughout; a failed migration changes no stored byte."""

from __future__ import annotations

import signal
from pathlib import Path

import hvac
import pytest
import requests

from tests.conftest import store_rows
from tests.server.conftest import Server, start_dev_server, start_server, write_config
from tests.server.test_seal_transit import _status, _wait_for

SECRETS = {f"app/{i}": {"value": f"secret {i}"} for i in range(12)}


def _transit_table(kms: Server, tmp: Path, *, disabled: bool = False) -> str:
    token_file = tmp / "kms-token"
    token_file.write_text(kms.root_token + "\n")
    return (
        f'[[seal]]\ntype = "transit"\naddress = "{kms.url}"\ntoken_file = "{token_file}"\n'
        f'key_name = "migrate"\ntimeout = 5\n{"disabled = true" if disabled else ""}\n'
    )


def _start(tmp: Path, seals: str = "") -> Server:
    config = write_config(tmp / "host.toml", tmp / "host.db")
    config.write_text(config.read_text() + seals)
    return start_server(["-c", str(config)], tmp / "host.log")


def _unseal(server: Server, key: str, *, migrate: bool = False) -> requests.Response:
    return requests.put(f"{server.url}/v1/sys/unseal", json={"key": key, "migrate": migrate}, timeout=60)


def _check_records(client: hvac.Client) -> None:
    for path, data in SECRETS.items():
        assert (
            client.secrets.kv.v2.read_secret_version(path, raise_on_deleted_version=True)["data"]["data"]
            == data
        )


def test_shamir_to_transit_to_shamir_by_configuration(tmp_path: Path) -> None:
    kms = start_dev_server(tmp_path)
    host: Server | None = None
    try:
        assert kms.request("POST", "transit/keys/migrate", json={"type": "ml-kem-768"}).status_code == 200

        # A Shamir store with records in a kv v2 mount.
        host = _start(tmp_path)
        init = host.client().sys.initialize(secret_shares=3, secret_threshold=2)
        keys, host.root_token = init["keys"], init["root_token"]
        host.client().sys.submit_unseal_keys(keys[:2])
        client = host.client()
        client.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
        for path, data in SECRETS.items():
            client.secrets.kv.v2.create_or_update_secret(path, secret=data)
        host.stop()

        # Shamir -> transit: the new [[seal]], no old one (Shamir has no stanza). Pending until the
        # unseal keys are given with migrate=true; without it they are refused, as Vault does.
        host = _start(tmp_path, _transit_table(kms, tmp_path))
        host.root_token = init["root_token"]
        status = _status(host)
        assert (status["sealed"], status["migration"], status["type"]) == (True, True, "shamir")
        before = store_rows(tmp_path / "host.db")
        plain = _unseal(host, keys[0])
        assert plain.status_code == 400 and "migrate=true" in plain.json()["errors"][0]
        # Two wrong keys (one repeated) fail the migration; nothing stored changes.
        assert _unseal(host, keys[0], migrate=True).json()["progress"] == 1
        assert _unseal(host, keys[0], migrate=True).status_code == 400  # already given
        foreign = "00" * 33
        failed = _unseal(host, foreign, migrate=True)
        assert failed.status_code == 400, failed.text
        assert store_rows(tmp_path / "host.db") == before
        assert _status(host)["progress"] == 0  # a failed attempt starts again from none
        assert _unseal(host, keys[2], migrate=True).json()["progress"] == 1
        done = _unseal(host, keys[1], migrate=True).json()
        assert (done["sealed"], done["migration"], done["type"]) == (False, False, "transit")
        assert (done["t"], done["n"], done["recovery_seal"]) == (2, 3, True)
        _check_records(host.client())
        assert "seal migrated (shamir -> transit)" in host.log_path.read_text()
        host.stop(signal.SIGKILL)

        # kill -9, restart: unsealed by the transit seal alone; the old unseal keys do not unseal.
        host = _start(tmp_path, _transit_table(kms, tmp_path))
        host.root_token = init["root_token"]
        _wait_for(host, sealed=False)
        _check_records(host.client())
        host.stop(signal.SIGKILL)

        # Transit -> Shamir: the transit seal marked disabled, no seal in use. The recovery keys
        # (the old unseal keys) authorise it and become the unseal keys again.
        host = _start(tmp_path, _transit_table(kms, tmp_path, disabled=True))
        host.root_token = init["root_token"]
        status = _status(host)
        assert (status["sealed"], status["migration"], status["type"]) == (True, True, "transit")
        assert _unseal(host, keys[0]).status_code == 400
        assert _unseal(host, keys[0], migrate=True).json()["progress"] == 1
        done = _unseal(host, keys[2], migrate=True).json()
        assert (done["sealed"], done["migration"], done["type"]) == (False, False, "shamir")
        _check_records(host.client())
        assert "seal migrated (transit -> shamir)" in host.log_path.read_text()
        host.stop(signal.SIGKILL)

        # Shamir again: the leftover disabled stanza changes nothing; the keys unseal by hand.
        host = _start(tmp_path, _transit_table(kms, tmp_path, disabled=True))
        host.root_token = init["root_token"]
        status = _status(host)
        assert (status["sealed"], status["migration"], status["type"]) == (True, False, "shamir")
        assert _unseal(host, keys[1], migrate=True).status_code == 400  # nothing to migrate
        host.client().sys.submit_unseal_keys(keys[1:])
        _check_records(host.client())
        assert kms.root_token not in host.log_path.read_text()
    finally:
        if host is not None:
            host.stop()
        kms.stop()


@pytest.mark.parametrize(
    "seals",
    [
        '[[seal]]\ntype = "transit"\naddress = "http://127.0.0.1:1"\ntoken = "t"\nkey_name = "a"\n'
        '[[seal]]\ntype = "transit"\naddress = "http://127.0.0.1:1"\ntoken = "t"\nkey_name = "b"\n',
        '[[seal]]\ntype = "transit"\naddress = "http://127.0.0.1:1"\ntoken = "t"\nkey_name = "a"\n'
        "disabled = true\n"
        '[[seal]]\ntype = "transit"\naddress = "http://127.0.0.1:1"\ntoken = "t"\nkey_name = "b"\n'
        "disabled = true\n",
    ],
    ids=["two-in-use", "two-disabled"],
)
def test_two_seals_in_use_or_two_disabled_are_refused(tmp_path: Path, seals: str) -> None:
    from secretumvault.config import Settings
    from secretumvault.errors import ConfigError

    with pytest.raises(ConfigError, match="at most two seals"):
        Settings.loads(seals)


def test_settings_keep_both_seals_and_the_one_in_use(tmp_path: Path) -> None:
    from secretumvault.config import Settings
    from secretumvault.keystore.seals import configured_seals

    settings = Settings.loads(
        '[[seal]]\ntype = "transit"\naddress = "http://127.0.0.1:1"\ntoken = "secret-token"\n'
        'key_name = "old"\ndisabled = true\n'
        '[[seal]]\ntype = "transit"\naddress = "http://127.0.0.1:1"\ntoken = "secret-token"\n'
        'key_name = "new"\n'
    )
    assert settings.seal["key_name"] == "new" and len(settings.seals) == 2
    assert "secret-token" not in repr(settings)
    new, old = configured_seals(settings.seals, "<test>")
    assert new is not None and old is not None
    assert (new.key_id, old.key_id) == ("transit/new", "transit/old")


def test_a_passphrase_store_is_sent_to_the_command_line(tmp_path: Path) -> None:
    from secretumvault.cli import main

    passphrase = tmp_path / "pass.txt"
    passphrase.write_text("a passphrase of this store\n")
    assert main(["init", "--store", str(tmp_path / "host.db"), "--passphrase-file", str(passphrase)]) == 0
    # The seal's server need not exist: the refusal comes before any call to it.
    host = _start(
        tmp_path, '[seal]\ntype = "transit"\naddress = "http://127.0.0.1:1"\ntoken = "t"\nkey_name = "k"\n'
    )
    try:
        before = store_rows(tmp_path / "host.db")
        assert _status(host)["migration"] is True
        refused = _unseal(host, "a passphrase of this store", migrate=True)
        assert refused.status_code == 400 and "operator migrate-seal" in refused.json()["errors"][0]
        assert store_rows(tmp_path / "host.db") == before
    finally:
        host.stop()
