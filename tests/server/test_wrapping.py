"""Response wrapping (issue 23): X-Vault-Wrap-TTL on any request, sys/wrapping/wrap|unwrap|lookup|rewrap."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import hvac.exceptions
import pytest

from tests.server.conftest import Server, start_file_server, unchanged

READER = json.dumps({"path": {"secret/*": {"capabilities": ["read"]}}})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(tmp_path_factory.mktemp("wrapping"))
    client = started.client()
    client.sys.create_or_update_policy("reader", READER)
    client.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    client.secrets.kv.v2.create_or_update_secret("app", secret={"password": "s3cret"})
    yield started, store
    started.stop()


def _wrap(server: Server, payload: dict[str, object], ttl: str = "60") -> dict[str, object]:
    response = server.request("POST", "sys/wrapping/wrap", json=payload, headers={"X-Vault-Wrap-TTL": ttl})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None and body["auth"] is None
    info: dict[str, object] = body["wrap_info"]
    return info


def test_wrap_and_unwrap_with_hvac(server: tuple[Server, Path]) -> None:
    started, _ = server
    client = started.client()
    wrapped = client.sys.wrap(payload={"test": "value"}, ttl=120)
    info = wrapped["wrap_info"]
    assert info["ttl"] == 120 and info["creation_path"] == "sys/wrapping/wrap"
    assert info["token"] and info["accessor"] and info["creation_time"].endswith("Z")
    unwrapped = client.sys.unwrap(info["token"])
    assert unwrapped["data"] == {"test": "value"}
    # Single use: the second unwrap is refused.
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.sys.unwrap(info["token"])


def test_wrap_with_no_payload_as_hvac_sends_it(server: tuple[Server, Path]) -> None:
    started, _ = server
    wrapped = started.client().sys.wrap(ttl=60)
    assert wrapped["wrap_info"]["ttl"] == 60
    assert started.client().sys.unwrap(wrapped["wrap_info"]["token"])["data"] == {}


def test_unwrap_with_the_wrapping_token_as_the_request_token(server: tuple[Server, Path]) -> None:
    started, _ = server
    info = _wrap(started, {"k": "v"})
    unwrapped = started.request("POST", "sys/wrapping/unwrap", token=str(info["token"]))
    assert unwrapped.status_code == 200 and unwrapped.json()["data"] == {"k": "v"}


def test_any_response_can_be_wrapped(server: tuple[Server, Path]) -> None:
    started, _ = server
    read = started.request("GET", "secret/data/app", headers={"X-Vault-Wrap-TTL": "5m"})
    assert read.status_code == 200
    body = read.json()
    assert body["data"] is None and "s3cret" not in read.text
    assert body["wrap_info"]["ttl"] == 300 and body["wrap_info"]["creation_path"] == "secret/data/app"
    unwrapped = started.client().sys.unwrap(body["wrap_info"]["token"])
    assert unwrapped["data"]["data"] == {"password": "s3cret"}


def test_wrapped_token_creation_as_hvac_does_it(server: tuple[Server, Path]) -> None:
    started, _ = server
    client = started.client()
    response = client.auth.token.create(period="30m", wrap_ttl="15m", policies=["reader"])
    assert response["auth"] is None and response["wrap_info"]["ttl"] == 900
    token = client.sys.unwrap(token=response["wrap_info"]["token"])
    assert response["wrap_info"]["wrapped_accessor"] == token["auth"]["accessor"]
    assert token["auth"]["lease_duration"] == 1800
    assert client.auth.token.lookup(token["auth"]["client_token"])["data"]["period"] == 1800


def test_lookup_needs_no_other_token_and_does_not_consume(server: tuple[Server, Path]) -> None:
    started, _ = server
    info = _wrap(started, {"k": "v"}, ttl="10m")
    looked = started.request("POST", "sys/wrapping/lookup", token=None, json={"token": info["token"]})
    assert looked.status_code == 200
    data = looked.json()["data"]
    assert data["creation_path"] == "sys/wrapping/wrap" and data["creation_ttl"] == 600
    assert data["creation_time"] == info["creation_time"]
    assert started.client().sys.unwrap(info["token"])["data"] == {"k": "v"}


def test_rewrap_moves_the_response_to_a_new_token(server: tuple[Server, Path]) -> None:
    started, _ = server
    info = _wrap(started, {"k": "v"}, ttl="10m")
    rewrapped = started.request("POST", "sys/wrapping/rewrap", json={"token": info["token"]})
    assert rewrapped.status_code == 200, rewrapped.text
    new = rewrapped.json()["wrap_info"]
    assert new["token"] != info["token"] and new["ttl"] == 600 and new["creation_path"] == "sys/wrapping/wrap"
    assert started.request("POST", "sys/wrapping/unwrap", json={"token": info["token"]}).status_code == 400
    assert started.client().sys.unwrap(new["token"])["data"] == {"k": "v"}


def test_concurrent_unwraps_give_the_response_once(server: tuple[Server, Path]) -> None:
    started, _ = server
    info = _wrap(started, {"k": "v"})
    statuses: list[int] = []
    lock = threading.Lock()

    def unwrap() -> None:
        response = started.request("POST", "sys/wrapping/unwrap", json={"token": info["token"]})
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=unwrap) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [400] * 5


def test_wrapping_tokens_expire(server: tuple[Server, Path]) -> None:
    started, _ = server
    info = _wrap(started, {"k": "v"}, ttl="1s")
    time.sleep(2.1)  # past the TTL (the server counts whole seconds)
    expired = started.request("POST", "sys/wrapping/unwrap", json={"token": info["token"]})
    assert expired.status_code == 400
    assert expired.json()["errors"] == ["wrapping token is not valid or does not exist"]


def test_a_wrapping_token_grants_nothing_else(server: tuple[Server, Path]) -> None:
    started, store = server
    info = _wrap(started, {"k": "v"})
    token = str(info["token"])
    for method, path in (("GET", "secret/data/app"), ("POST", "auth/token/create"), ("GET", "sys/mounts")):
        refused = unchanged(store, lambda m=method, p=path: started.request(m, p, token=token))
        assert refused.status_code == 403


@pytest.mark.parametrize(
    ("path", "body", "headers", "message"),
    [
        ("sys/wrapping/unwrap", {"token": "hvs.unknown"}, {}, "wrapping token is not valid"),
        ("sys/wrapping/lookup", {"token": "hvs.unknown"}, {}, "wrapping token is not valid"),
        ("sys/wrapping/rewrap", {"token": "hvs.unknown"}, {}, "wrapping token is not valid"),
        ("sys/wrapping/wrap", {"k": "v"}, {}, "X-Vault-Wrap-TTL"),
        (
            "sys/wrapping/wrap",
            {"k": "v"},
            {"X-Vault-Wrap-TTL": "soon"},
            "X-Vault-Wrap-TTL must be a duration",
        ),
        ("sys/wrapping/wrap", {"k": "v"}, {"X-Vault-Wrap-TTL": "0"}, "X-Vault-Wrap-TTL must be from 1"),
        ("sys/wrapping/wrap", {"k": "v"}, {"X-Vault-Wrap-TTL": "40d"}, "X-Vault-Wrap-TTL must be from 1"),
    ],
)
def test_refusals_are_400_and_store_nothing(
    server: tuple[Server, Path], path: str, body: dict[str, object], headers: dict[str, str], message: str
) -> None:
    started, store = server
    refused = unchanged(store, lambda: started.request("POST", path, json=body, headers=headers))
    assert refused.status_code == 400, refused.text
    assert message in refused.json()["errors"][0]


def test_a_normal_token_is_not_a_wrapping_token(server: tuple[Server, Path]) -> None:
    started, store = server
    normal = started.client().auth.token.create(policies=["reader"])["auth"]["client_token"]
    refused = unchanged(store, lambda: started.request("POST", "sys/wrapping/unwrap", json={"token": normal}))
    assert refused.status_code == 400
    assert started.request("GET", "auth/token/lookup-self", token=normal).status_code == 200  # still usable


def test_the_response_wrapping_policy_name_is_reserved(server: tuple[Server, Path]) -> None:
    started, store = server
    policy = '{"path": {"secret/*": {"capabilities": ["read"]}}}'
    refused = unchanged(
        store, lambda: started.request("PUT", "sys/policies/acl/response-wrapping", json={"policy": policy})
    )
    assert refused.status_code == 400
    assert "reserved" in refused.json()["errors"][0]
