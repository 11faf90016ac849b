"""Two server processes on one store: a token revoked or a policy changed on one is refused or
applied by the other's very next request, although the other caches tokens and policies."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import Server, start_server, write_config
from tests.server.test_postgres import schema_dsn  # noqa: F401 (fixture)

PLAINTEXT = base64.b64encode(b"shared store").decode("ascii")
ENCRYPT = '{"path": {"transit/encrypt/shared": {"capabilities": ["update"]}}}'
KEYS = '{"path": {"transit/keys/shared": {"capabilities": ["read"]}}}'


@pytest.fixture(params=["sqlite", "postgresql"])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "sqlite":
        return write_config(tmp_path / "server.toml", tmp_path / "vault.db")
    dsn = request.getfixturevalue("schema_dsn")
    return write_config(tmp_path / "server.toml", dsn, postgres=True)


@pytest.fixture
def pair(config: Path, tmp_path: Path) -> Iterator[tuple[Server, Server, str]]:
    first = start_server(["-c", str(config)], tmp_path / "first.log")
    second: Server | None = None
    try:
        second = start_server(["-c", str(config)], tmp_path / "second.log")
        init = first.client(token="").sys.initialize(secret_shares=1, secret_threshold=1)
        first.client(token="").sys.submit_unseal_key(init["keys"][0])
        root = init["root_token"]
        # Mounted before the second process unseals, so its mount table has it from the start.
        first.client(token=root).sys.enable_secrets_engine("transit", path="transit")
        assert first.request("POST", "transit/keys/shared", token=root, json={"type": "ml-kem-768"}).ok
        second.client(token="").sys.submit_unseal_key(init["keys"][0])
        yield first, second, root
    finally:
        first.stop()
        if second is not None:
            second.stop()


def _encrypt(server: Server, token: str) -> int:
    return server.request(
        "POST", "transit/encrypt/shared", token=token, json={"plaintext": PLAINTEXT}
    ).status_code


def _child_token(server: Server, root: str, policy: str) -> str:
    created = server.request(
        "POST", "auth/token/create", token=root, json={"policies": [policy], "ttl": "1h"}
    )
    assert created.status_code == 200
    return str(created.json()["auth"]["client_token"])


def test_a_token_revoked_on_one_process_is_refused_by_the_other(pair: tuple[Server, Server, str]) -> None:
    first, second, root = pair
    assert first.request("POST", "sys/policies/acl/app", token=root, json={"policy": ENCRYPT}).ok
    token = _child_token(first, root, "app")
    for _ in range(3):  # cached by the second process after the first of these
        assert _encrypt(second, token) == 200
    revoked = first.request("POST", "auth/token/revoke", token=root, json={"token": token})
    assert revoked.status_code == 204
    assert _encrypt(second, token) == 403
    assert second.request("GET", "auth/token/lookup-self", token=token).status_code == 403


def test_revoke_self_on_one_process_is_refused_by_the_other(pair: tuple[Server, Server, str]) -> None:
    first, second, root = pair
    assert first.request("POST", "sys/policies/acl/app", token=root, json={"policy": ENCRYPT}).ok
    token = _child_token(second, root, "app")
    assert _encrypt(second, token) == 200
    assert first.request("POST", "auth/token/revoke-self", token=token).status_code == 204
    assert _encrypt(second, token) == 403


def test_a_policy_changed_on_one_process_applies_on_the_other(pair: tuple[Server, Server, str]) -> None:
    first, second, root = pair
    assert first.request("POST", "sys/policies/acl/app", token=root, json={"policy": ENCRYPT}).ok
    token = _child_token(first, root, "app")
    for _ in range(3):
        assert _encrypt(second, token) == 200
        assert second.request("GET", "transit/keys/shared", token=token).status_code == 403
    assert first.request("POST", "sys/policies/acl/app", token=root, json={"policy": KEYS}).ok
    assert _encrypt(second, token) == 403
    assert second.request("GET", "transit/keys/shared", token=token).status_code == 200
    assert first.request("DELETE", "sys/policies/acl/app", token=root).status_code == 204
    assert second.request("GET", "transit/keys/shared", token=token).status_code == 403


def test_sealing_one_process_refuses_its_cached_tokens(pair: tuple[Server, Server, str]) -> None:
    first, second, root = pair
    assert _encrypt(second, root) == 200
    assert second.request("POST", "sys/seal", token=root).status_code == 204
    assert _encrypt(second, root) == 503
    assert _encrypt(first, root) == 200  # sealed on its own
