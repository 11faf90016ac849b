"""The userpass auth method with hvac and raw HTTP: users, passwords, policies, login."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest

from secretumvault.keystore import SQLiteStorage
from tests.server.auth_server import start_file_server, unchanged
from tests.server.conftest import Server

MOUNT = "up"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    srv, store = start_file_server(tmp_path_factory.mktemp("userpass"))
    srv.client().sys.enable_auth_method("userpass", path=MOUNT)
    yield srv, store
    srv.stop()


def _client(srv: Server) -> hvac.Client:
    return srv.client()


def test_user_crud_and_login(server: tuple[Server, Path]) -> None:
    srv, _ = server
    up = _client(srv).auth.userpass
    up.create_or_update_user("Bob", "s3cret-bob", mount_point=MOUNT, token_policies="dev,ops", token_ttl="1h")
    read = up.read_user("bob", mount_point=MOUNT)["data"]
    assert read["token_policies"] == ["dev", "ops"] and read["token_ttl"] == 3600
    assert "password" not in read
    assert "bob" in up.list_user(mount_point=MOUNT)["data"]["keys"]
    login = up.login("bob", "s3cret-bob", use_token=False, mount_point=MOUNT)["auth"]
    assert login["policies"] == ["default", "dev", "ops"] and login["lease_duration"] == 3600
    assert login["metadata"] == {"username": "bob"} and login["orphan"] is True
    looked = srv.request("GET", "auth/token/lookup-self", token=login["client_token"]).json()["data"]
    assert looked["path"] == f"auth/{MOUNT}/login/bob" and looked["display_name"] == "userpass-bob"
    assert looked["meta"] == {"username": "bob"}
    up.update_password_on_user("bob", "new-pass-bob", mount_point=MOUNT)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid username or password"):
        up.login("bob", "s3cret-bob", use_token=False, mount_point=MOUNT)
    assert up.login("bob", "new-pass-bob", use_token=False, mount_point=MOUNT)["auth"]["client_token"]
    response = srv.request("POST", f"auth/{MOUNT}/users/bob/policies", json={"token_policies": ["reader"]})
    assert response.status_code == 204
    assert up.read_user("bob", mount_point=MOUNT)["data"]["token_policies"] == ["reader"]
    assert up.delete_user("bob", mount_point=MOUNT).status_code == 204
    assert srv.request("GET", f"auth/{MOUNT}/users/bob").status_code == 404
    with pytest.raises(hvac.exceptions.InvalidRequest):
        up.login("bob", "new-pass-bob", use_token=False, mount_point=MOUNT)


def test_password_stored_only_as_scrypt_hash(server: tuple[Server, Path]) -> None:
    srv, store = server
    _client(srv).auth.userpass.create_or_update_user("carol", "carols-unique-password", mount_point=MOUNT)
    storage = SQLiteStorage(store)
    try:
        raw = b"".join(storage.get(path).value for path in storage.list(""))  # type: ignore[union-attr]
    finally:
        storage.close()
    assert b"carols-unique-password" not in raw


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", f"auth/{MOUNT}/users/newuser", {}, 400),  # a new user needs a password
        ("POST", f"auth/{MOUNT}/users/newuser", {"password": ""}, 400),
        ("POST", f"auth/{MOUNT}/users/newuser", {"password": "x", "token_num_uses": 3}, 400),
        ("POST", f"auth/{MOUNT}/users/newuser", {"password": "x", "token_period": "1h"}, 400),
        ("POST", f"auth/{MOUNT}/users/newuser", {"password": "x", "token_type": "batch"}, 400),
        ("POST", f"auth/{MOUNT}/users/newuser", {"password": "x", "token_bound_cidrs": ["10.0.0.0/8"]}, 400),
        (
            "POST",
            f"auth/{MOUNT}/users/newuser",
            {"password": "x", "token_ttl": "2h", "token_max_ttl": "1h"},
            400,
        ),
        ("POST", f"auth/{MOUNT}/users/newuser", {"password": "x", "token_policies": ["bad name!"]}, 400),
        ("POST", f"auth/{MOUNT}/users/bad%20name", {"password": "x"}, 400),
        ("POST", f"auth/{MOUNT}/users/nobody/password", {"password": "x"}, 400),
        ("POST", f"auth/{MOUNT}/users/dave/password", {}, 400),
        ("POST", f"auth/{MOUNT}/login/dave", {"password": "wrong"}, 400),
        ("POST", f"auth/{MOUNT}/login/nobody", {"password": "wrong"}, 400),
        ("POST", f"auth/{MOUNT}/login/dave", {}, 400),
    ],
)
def test_refusals_leave_store_unchanged(
    server: tuple[Server, Path], method: str, path: str, body: dict[str, object], status: int
) -> None:
    srv, store = server
    _client(srv).auth.userpass.create_or_update_user("dave", "daves-password", mount_point=MOUNT)
    token = None if "/login/" in path else "root"
    response = unchanged(store, lambda: srv.request(method, path, token=token, json=body), status)
    if "/login/" in path and body:
        assert response.json()["errors"] == ["invalid username or password"]  # unknown user: same answer


def test_user_writes_need_a_grant(server: tuple[Server, Path]) -> None:
    srv, store = server
    token = _client(srv).auth.token.create(policies=["default"])["auth"]["client_token"]
    unchanged(
        store,
        lambda: srv.request("POST", f"auth/{MOUNT}/users/eve", token=token, json={"password": "x"}),
        403,
    )


def test_method_ttls_apply(server: tuple[Server, Path]) -> None:
    srv, _ = server
    client = _client(srv)
    client.sys.enable_auth_method(
        "userpass", path="up-ttl", config={"default_lease_ttl": 600, "max_lease_ttl": 900}
    )
    client.auth.userpass.create_or_update_user("fay", "fays-password", mount_point="up-ttl")
    auth = client.auth.userpass.login("fay", "fays-password", use_token=False, mount_point="up-ttl")["auth"]
    assert auth["lease_duration"] == 600
    looked = srv.request("GET", "auth/token/lookup-self", token=auth["client_token"]).json()["data"]
    assert looked["explicit_max_ttl"] == 900
