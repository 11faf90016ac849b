"""sys/generate-root (issue 23): a new root token from unseal shares, OTP-encoded as Vault does it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import hvac.exceptions
import pytest
import requests

from secretumvault.server.state.generate_root import OTP_LENGTH, decode_token
from tests.server.conftest import Server, start_server, unchanged, write_config


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, list[str]]]:
    tmp = tmp_path_factory.mktemp("generate-root")
    store = tmp / "vault.db"
    started = start_server(["-c", str(write_config(tmp / "server.toml", store))], tmp / "server.log")
    init = started.client(token="").sys.initialize(secret_shares=3, secret_threshold=2)
    for key in init["keys"][:2]:
        started.client(token="").sys.submit_unseal_key(key)
    started.root_token = init["root_token"]
    yield started, store, init["keys"]
    started.stop()


@pytest.fixture(autouse=True)
def _no_attempt_left(server: tuple[Server, Path, list[str]]) -> Iterator[None]:
    yield
    server[0].request("DELETE", "sys/generate-root/attempt", token=None)


def test_generate_root_with_hvac_and_decode(server: tuple[Server, Path, list[str]]) -> None:
    started, _, keys = server
    client = started.client(token="")  # the shares are the authority: no token needed
    status = client.sys.read_root_generation_progress()
    assert status["started"] is False and status["required"] == 2 and status["otp_length"] == OTP_LENGTH
    started_attempt = client.sys.start_root_token_generation()
    otp = started_attempt["otp"]
    assert len(otp) == OTP_LENGTH and otp.isalnum() and started_attempt["started"] is True
    nonce = started_attempt["nonce"]
    # The OTP is returned once only.
    assert client.sys.read_root_generation_progress()["otp"] == ""
    first = client.sys.generate_root(keys[0], nonce)
    assert first["progress"] == 1 and first["complete"] is False and first["encoded_token"] == ""
    final = client.sys.generate_root(keys[2], nonce)
    assert final["complete"] is True and final["encoded_token"] == final["encoded_root_token"]
    # Vault's encoding: base64 of token XOR otp, byte by byte.
    raw = base64.b64decode(final["encoded_token"] + "=" * (-len(final["encoded_token"]) % 4))
    token = bytes(a ^ b for a, b in zip(raw, otp.encode(), strict=True)).decode()
    assert token == decode_token(final["encoded_token"], otp)
    lookup = started.client(token).auth.token.lookup_self()["data"]
    assert lookup["policies"] == ["root"] and lookup["expire_time"] is None
    assert client.sys.read_root_generation_progress()["started"] is False


def test_a_chosen_otp_of_the_right_length(server: tuple[Server, Path, list[str]]) -> None:
    started, _, keys = server
    otp = "A1b2C3d4" * (OTP_LENGTH // 8) + "Z" * (OTP_LENGTH % 8)
    begun = started.request("PUT", "sys/generate-root/attempt", token=None, json={"otp": otp}).json()
    assert begun["otp"] == ""  # the client knows it already
    for key in keys[1:]:
        answer = started.request(
            "PUT", "sys/generate-root/update", token=None, json={"key": key, "nonce": begun["nonce"]}
        ).json()
    token = decode_token(answer["encoded_token"], otp)
    assert started.request("GET", "auth/token/lookup-self", token=token).status_code == 200


def test_wrong_shares_make_no_token_and_store_nothing(server: tuple[Server, Path, list[str]]) -> None:
    started, store, keys = server
    nonce = started.client(token="").sys.start_root_token_generation()["nonce"]
    foreign = "00" * len(bytes.fromhex(keys[0]))  # well-formed, but no share of this store

    def give(key: str) -> requests.Response:
        return started.request(
            "PUT", "sys/generate-root/update", token=None, json={"key": key, "nonce": nonce}
        )

    assert unchanged(store, lambda: give(keys[0])).status_code == 200
    failed = unchanged(store, lambda: give(foreign))
    assert failed.status_code == 400 and "root generation failed" in failed.json()["errors"][0]
    # The attempt is over, as in Vault.
    assert started.client(token="").sys.read_root_generation_progress()["started"] is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"pgp_key": "mQENBF..."}, "pgp_key is not supported"),
        ({"otp": base64.b64encode(b"0123456789abcdef").decode()}, "not supported"),
        ({"otp": "short"}, "otp must be"),
    ],
)
def test_unsupported_attempts_are_refused(
    server: tuple[Server, Path, list[str]], body: dict[str, str], message: str
) -> None:
    started, store, _ = server
    refused = unchanged(
        store, lambda: started.request("PUT", "sys/generate-root/attempt", token=None, json=body)
    )
    assert refused.status_code == 400 and message in refused.json()["errors"][0]
    assert started.client(token="").sys.read_root_generation_progress()["started"] is False


def test_one_attempt_at_a_time_nonce_and_cancel(server: tuple[Server, Path, list[str]]) -> None:
    started, store, keys = server
    client = started.client(token="")
    nonce = client.sys.start_root_token_generation()["nonce"]
    with pytest.raises(hvac.exceptions.InvalidRequest, match="already in progress"):
        client.sys.start_root_token_generation()
    wrong = unchanged(
        store,
        lambda: started.request(
            "PUT", "sys/generate-root/update", token=None, json={"key": keys[0], "nonce": "not-" + nonce}
        ),
    )
    assert wrong.status_code == 400 and wrong.json()["errors"] == ["incorrect nonce"]
    assert client.sys.read_root_generation_progress()["progress"] == 0
    assert started.request("DELETE", "sys/generate-root/attempt", token=None).status_code == 204
    assert client.sys.read_root_generation_progress()["started"] is False
    none = started.request(
        "PUT", "sys/generate-root/update", token=None, json={"key": keys[0], "nonce": nonce}
    )
    assert none.status_code == 400 and "no root generation in progress" in none.json()["errors"][0]


def test_a_chosen_otp_of_vaults_length(server: tuple[Server, Path, list[str]]) -> None:
    """hvac's own test OTP (and any client following Vault 1.10+'s 28): the root token is that long."""
    started, _, keys = server
    client = started.client(token="")
    otp = "BMjzW3wAsEzINXCM05Wbas3u9zSl"
    attempt = client.sys.start_root_token_generation(otp=otp)
    assert attempt["otp"] == "" and attempt["started"] is True
    client.sys.generate_root(keys[0], attempt["nonce"])
    done = client.sys.generate_root(keys[1], attempt["nonce"])
    token = decode_token(done["encoded_token"], otp)
    assert len(token) == 28 and token.startswith("hvs.") and token[4:].isalnum()
    assert started.client(token).auth.token.lookup_self()["data"]["policies"] == ["root"]
    started.client().auth.token.revoke(token)
