"""sys/auth: enabling, listing, reading and disabling AppRole and userpass, with hvac and raw HTTP."""

from __future__ import annotations

from pathlib import Path

import hvac
import pytest
import requests

from tests.server.auth_server import file_server_fixture, unchanged
from tests.server.conftest import Server

server = file_server_fixture("sys-auth")


def test_enable_list_read_disable(server: tuple[Server, Path]) -> None:
    srv, _ = server
    client = srv.client()
    client.sys.enable_auth_method(
        "approle", path="ar-list", description="apps", config={"default_lease_ttl": "1h"}
    )
    client.sys.enable_auth_method("userpass")
    listed = client.sys.list_auth_methods()
    assert {"token/", "ar-list/", "userpass/"} <= set(listed["data"])
    assert listed["ar-list/"] == listed["data"]["ar-list/"]  # Vault copies the data to the top level
    entry = listed["data"]["ar-list/"]
    assert entry["type"] == "approle" and entry["description"] == "apps"
    assert entry["accessor"].startswith("auth_approle_")
    assert entry["config"]["default_lease_ttl"] == 3600
    assert entry["local"] is False and entry["seal_wrap"] is False
    assert set(entry) >= {"uuid", "options", "external_entropy_access"}
    read = srv.request("GET", "sys/auth/ar-list")
    assert read.status_code == 200 and read.json()["data"]["accessor"] == entry["accessor"]
    tune = client.sys.read_auth_method_tuning("ar-list")
    assert tune["data"]["default_lease_ttl"] == 3600 and tune["data"]["description"] == "apps"
    assert client.sys.disable_auth_method("ar-list").status_code == 204
    assert client.sys.disable_auth_method("userpass").status_code == 204
    assert "ar-list/" not in client.sys.list_auth_methods()["data"]
    # Disabling what is not enabled succeeds, as in Vault.
    assert srv.request("DELETE", "sys/auth/never-enabled").status_code == 204


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("sys/auth/x1", {"type": "ldap"}),
        ("sys/auth/x1", {}),
        ("sys/auth/token", {"type": "approle"}),
        ("sys/auth/x1", {"type": "token"}),
        ("sys/auth/x1", {"type": "approle", "local": True}),
        ("sys/auth/x1", {"type": "approle", "seal_wrap": True}),
        ("sys/auth/x1", {"type": "approle", "plugin_name": "vault-plugin-auth-jwt"}),
        ("sys/auth/x1", {"type": "approle", "config": {"listing_visibility": "unauth"}}),
        ("sys/auth/x1", {"type": "approle", "config": {"token_type": "batch"}}),
        ("sys/auth/x1", {"type": "approle", "config": {"default_lease_ttl": "2h", "max_lease_ttl": "1h"}}),
        ("sys/auth/bad%20path", {"type": "approle"}),
        ("sys/auth/taken/sub", {"type": "approle"}),
    ],
)
def test_enable_refused(server: tuple[Server, Path], path: str, body: dict[str, object]) -> None:
    srv, store = server
    if "taken/" not in srv.client().sys.list_auth_methods()["data"]:
        srv.client().sys.enable_auth_method("userpass", path="taken")
    unchanged(store, lambda: srv.request("POST", path, json=body), 400)


def test_token_method_stays(server: tuple[Server, Path]) -> None:
    srv, store = server
    unchanged(store, lambda: srv.request("DELETE", "sys/auth/token"), 400)


def test_enable_needs_sudo(server: tuple[Server, Path]) -> None:
    srv, store = server
    client = srv.client()
    client.sys.create_or_update_policy(
        "auth-no-sudo", 'path "sys/auth/*" { capabilities = ["create", "update"] }'
    )
    token = client.auth.token.create(policies=["auth-no-sudo"])["auth"]["client_token"]
    unchanged(
        store, lambda: srv.request("POST", "sys/auth/nosudo", token=token, json={"type": "approle"}), 403
    )


def test_disable_revokes_issued_tokens_and_deletes_data(server: tuple[Server, Path]) -> None:
    srv, _ = server
    client = srv.client()
    client.sys.enable_auth_method("userpass", path="up-revoke")
    client.auth.userpass.create_or_update_user("alice", "pw-alice-1", mount_point="up-revoke")
    login = client.auth.userpass.login("alice", "pw-alice-1", use_token=False, mount_point="up-revoke")
    token = login["auth"]["client_token"]
    looked = srv.request("GET", "auth/token/lookup-self", token=token).json()["data"]
    assert looked["path"] == "auth/up-revoke/login/alice"
    assert looked["orphan"] is True
    client.sys.disable_auth_method("up-revoke")
    assert srv.request("GET", "auth/token/lookup-self", token=token).status_code == 403
    # Enabled again, it starts empty.
    client.sys.enable_auth_method("userpass", path="up-revoke")
    assert srv.request("GET", "auth/up-revoke/users/alice").status_code == 404
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.auth.userpass.login("alice", "pw-alice-1", use_token=False, mount_point="up-revoke")
    client.sys.disable_auth_method("up-revoke")


def test_unmounted_auth_path(server: tuple[Server, Path]) -> None:
    srv, _ = server
    assert srv.request("POST", "auth/nothing-here/login", token=None, json={}).status_code == 403
    assert srv.request("GET", "auth/nothing-here/role").status_code == 404


def test_tune(server: tuple[Server, Path]) -> None:
    srv, store = server
    client = srv.client()
    client.sys.enable_auth_method("approle", path="ar-tune")
    response = client.sys.tune_auth_method("ar-tune", description="tuned", max_lease_ttl=12345678)
    assert response.status_code == 204
    tuning = client.sys.read_auth_method_tuning("ar-tune")["data"]
    assert tuning["max_lease_ttl"] == 12345678 and tuning["description"] == "tuned"
    assert client.sys.list_auth_methods()["data"]["ar-tune/"]["description"] == "tuned"
    bodies: list[dict[str, object]] = [
        {"default_lease_ttl": "1h", "max_lease_ttl": "30m"},
        {"listing_visibility": "unauth"},
        {"default_lease_ttl": "soon"},
    ]
    for body in bodies:

        def send(body: dict[str, object] = body) -> requests.Response:
            return srv.request("POST", "sys/auth/ar-tune/tune", json=body)

        unchanged(store, send, 400)
    unchanged(store, lambda: srv.request("POST", "sys/auth/absent/tune", json={"description": "x"}), 400)
    unchanged(store, lambda: srv.request("POST", "sys/auth/token/tune", json={"description": "x"}), 400)
    client.sys.disable_auth_method("ar-tune")
