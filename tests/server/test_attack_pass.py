"""Breaks found by an attack pass on the server, each pinned by the test that found it."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

from tests.server.auth_server import file_server_fixture, unchanged
from tests.server.conftest import Server

server = file_server_fixture("attack")


def _token(srv: Server, policy: dict[str, object], name: str) -> str:
    client = srv.client()
    client.sys.create_or_update_policy(name, json.dumps(policy))
    token: str = client.auth.token.create(policies=[name])["auth"]["client_token"]
    return token


@pytest.mark.parametrize(
    "path",
    ["sys/mounts//guarded", "sys/mounts///guarded", "sys/mounts/%2Fguarded", "sys//mounts/guarded"],
)
def test_doubled_slashes_do_not_dodge_an_exact_deny(server: tuple[Server, Path], path: str) -> None:
    """Vault (Go's ServeMux) cleans repeated slashes before its ACL check; here a deny on
    ``sys/mounts/guarded`` was dodged by ``sys/mounts//guarded``, which disabled the mount and
    deleted its data."""
    srv, store = server
    client = srv.client()
    if "guarded/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("kv", path="guarded", options={"version": "1"})
        client.secrets.kv.v1.create_or_update_secret("s", secret={"v": "kept"}, mount_point="guarded")
        client.sys.enable_auth_method("userpass", path="guarded-up")
    token = _token(
        srv,
        {
            "path": {
                "sys/mounts/*": {"capabilities": ["create", "read", "update", "delete", "sudo"]},
                "sys/mounts/guarded": {"capabilities": ["deny"]},
                "sys/auth/*": {"capabilities": ["create", "read", "update", "delete", "sudo"]},
                "sys/auth/guarded-up": {"capabilities": ["deny"]},
            }
        },
        "mount-ops",
    )
    unchanged(store, partial(srv.request, "DELETE", path, token=token), 403)
    unchanged(store, partial(srv.request, "DELETE", path.replace("mounts", "auth") + "-up", token=token), 403)
    assert client.secrets.kv.v1.read_secret("s", mount_point="guarded")["data"] == {"v": "kept"}
    assert "guarded-up/" in client.sys.list_auth_methods()["data"]


def test_doubled_slashes_reach_the_same_route(server: tuple[Server, Path]) -> None:
    """Cleaned as Vault cleans them, a path with repeated slashes serves what the clean one does."""
    srv, _ = server
    srv.client().sys.enable_secrets_engine("kv", path="slashes", options={"version": "1"})
    assert srv.request("POST", "slashes//k", json={"v": "1"}).status_code == 204
    assert srv.request("GET", "slashes/k").json()["data"] == {"v": "1"}
    assert srv.request("GET", "sys//mounts").status_code == 200


def _renewed(srv: Server, token: str, increment: int) -> int:
    response = srv.request("POST", "auth/token/renew-self", token=token, json={"increment": increment})
    assert response.status_code == 200, response.text
    granted: int = response.json()["auth"]["lease_duration"]
    return granted


def test_a_lowered_max_ttl_binds_renewals_of_tokens_already_issued(server: tuple[Server, Path]) -> None:
    """Vault's AppRole and userpass renew a login's token under the role's (user's) token_ttl and
    token_max_ttl as they are at renewal: lowering them cuts the sessions already open. Here
    renewals kept the limits of the login, so a token went on being renewed for the old 8 hours."""
    srv, _ = server
    client = srv.client()
    client.sys.enable_auth_method("userpass", path="up-renew")
    client.sys.enable_auth_method("approle", path="ar-renew")
    srv.request("POST", "auth/up-renew/users/ann", json={"password": "pw", "token_max_ttl": "8h"})
    srv.request("POST", "auth/ar-renew/role/job", json={"token_max_ttl": "8h"})
    role_id = srv.request("GET", "auth/ar-renew/role/job/role-id").json()["data"]["role_id"]
    secret_id = srv.request("POST", "auth/ar-renew/role/job/secret-id").json()["data"]["secret_id"]
    login = srv.request("POST", "auth/up-renew/login/ann", token=None, json={"password": "pw"})
    user_token = login.json()["auth"]["client_token"]
    login = srv.request(
        "POST", "auth/ar-renew/login", token=None, json={"role_id": role_id, "secret_id": secret_id}
    )
    role_token = login.json()["auth"]["client_token"]
    assert _renewed(srv, user_token, 7200) > 3600 and _renewed(srv, role_token, 7200) > 3600
    srv.request("POST", "auth/up-renew/users/ann", json={"token_max_ttl": "1h"})
    srv.request("POST", "auth/ar-renew/role/job/token-max-ttl", json={"token_max_ttl": "1h"})
    assert _renewed(srv, user_token, 7200) <= 3600
    assert _renewed(srv, role_token, 7200) <= 3600
    # The method's own max_lease_ttl binds them as well.
    srv.request("POST", "sys/auth/up-renew/tune", json={"max_lease_ttl": "30m"})
    assert _renewed(srv, user_token, 7200) <= 1800
    # And the role's current token_ttl is the increment when none is asked for.
    srv.request("POST", "auth/ar-renew/role/job/token-ttl", json={"token_ttl": "10m"})
    response = srv.request("POST", "auth/token/renew-self", token=role_token, json={})
    assert response.json()["auth"]["lease_duration"] == 600


def test_vault_root_paths_need_sudo(server: tuple[Server, Path]) -> None:
    """Vault's root-protected paths: the system backend's ``auth/*`` covers
    ``sys/auth/<path>/tune`` (read and write), and PKI's ``root`` covers ``DELETE <pki>/root``.
    Here a token with every capability but sudo could tune an auth method and delete a CA."""
    srv, store = server
    client = srv.client()
    client.sys.enable_auth_method("userpass", path="up-sudo")
    client.sys.enable_secrets_engine("pki", path="pki-sudo")
    generated = srv.request(
        "POST", "pki-sudo/root/generate/internal", json={"common_name": "ca", "key_type": "ec"}
    )
    assert generated.status_code == 200, generated.text
    every = ["create", "read", "update", "delete", "list"]
    token = _token(srv, {"path": {"*": {"capabilities": every}}}, "all-but-sudo")
    unchanged(store, partial(srv.request, "DELETE", "pki-sudo/root", token=token), 403)
    tune = {"max_lease_ttl": "8760h"}
    unchanged(store, partial(srv.request, "POST", "sys/auth/up-sudo/tune", token=token, json=tune), 403)
    assert srv.request("GET", "sys/auth/up-sudo/tune", token=token).status_code == 403
    # With sudo, as with the root token, both are served.
    sudo = _token(srv, {"path": {"*": {"capabilities": [*every, "sudo"]}}}, "all-with-sudo")
    assert srv.request("GET", "sys/auth/up-sudo/tune", token=sudo).status_code == 200
    assert srv.request("POST", "sys/auth/up-sudo/tune", token=sudo, json=tune).status_code == 204
    assert srv.request("DELETE", "pki-sudo/root", token=sudo).status_code == 204
    assert srv.request("GET", "pki-sudo/ca/pem", token=None).status_code != 200


@pytest.mark.parametrize("path", ["audit", "audit/kv", "audit/a/b"])
def test_no_secrets_engine_under_audit(server: tuple[Server, Path], path: str) -> None:
    """Vault refuses a mount under any of its protected prefixes, ``audit/`` among them (as
    ``sys/remount`` here already did); enabling one there was accepted."""
    srv, store = server
    response = unchanged(store, partial(srv.request, "POST", f"sys/mounts/{path}", json={"type": "kv"}), 400)
    assert "reserved" in response.json()["errors"][0]


@pytest.mark.parametrize("nonce", ["é", "\u202e", "nonce-\U0001f511"])
def test_a_non_ascii_rekey_nonce_is_a_400(server: tuple[Server, Path], nonce: str) -> None:
    """``sys/rekey/update`` needs no token; a nonce with a non-ASCII character made
    ``secrets.compare_digest`` raise TypeError: a 500 for anyone who asked."""
    srv, store = server
    started = srv.request(
        "PUT", "sys/rekey/init", token=None, json={"secret_shares": 1, "secret_threshold": 1}
    )
    assert started.status_code == 200, started.text
    try:
        body = {"key": "AAAA", "nonce": nonce}
        response = unchanged(
            store, partial(srv.request, "PUT", "sys/rekey/update", token=None, json=body), 400
        )
        assert response.json()["errors"] == ["the nonce does not match the rekey in progress"]
        assert srv.request("GET", "sys/rekey/init", token=None).json()["progress"] == 0
    finally:
        srv.request("DELETE", "sys/rekey/init", token=None)


_LONE_SURROGATE = '"\\ud800"'  # valid JSON text for a string no UTF-8 can hold


@pytest.mark.parametrize(
    ("path", "template", "token"),
    [
        ("sys/wrapping/unwrap", '{"token": @}', None),
        ("sys/wrapping/lookup", '{"token": @}', None),
        ("sys/wrapping/rewrap", '{"token": @}', None),
        ("auth/token/lookup", '{"token": @}', "root"),
        ("sys/capabilities", '{"token": @, "paths": ["x"]}', "root"),
        ("auth/token/lookup-accessor", '{"accessor": @}', "root"),
        ("sys/unseal", '{"key": @}', None),
        ("secret-surrogate/k", '{"v": @}', "root"),
        ("secret-surrogate/k", '{@: "v"}', "root"),
    ],
)
def test_a_lone_surrogate_in_a_body_is_a_400(
    server: tuple[Server, Path], path: str, template: str, token: str | None
) -> None:
    """JSON may spell an unpaired UTF-16 surrogate (``"\\ud800"``); Python's parser keeps it in
    a str that cannot be encoded, and the unauthenticated wrapping routes, token lookup and
    capabilities answered 500 when they hashed it. Go's decoder (Vault's) never yields one: here
    the body is refused as a whole, before any handler."""
    srv, store = server
    if "secret-surrogate/" not in srv.client().sys.list_mounted_secrets_engines()["data"]:
        srv.client().sys.enable_secrets_engine("kv", path="secret-surrogate", options={"version": "1"})
    body = template.replace("@", _LONE_SURROGATE)
    send = partial(
        srv.request, "POST", path, token=token, data=body, headers={"Content-Type": "application/json"}
    )
    response = unchanged(store, send, 400)
    assert "surrogate" in response.json()["errors"][0]


@pytest.mark.parametrize(
    ("path", "token"),
    [("sys/wrapping/lookup", None), ("sys/capabilities", "root"), ("secret-surrogate/k", "root")],
)
def test_the_raw_bytes_of_a_surrogate_are_a_400(
    server: tuple[Server, Path], path: str, token: str | None
) -> None:
    """The same character as raw bytes (``ED A0 80``, not UTF-8): ``json.loads`` of bytes
    decodes with ``surrogatepass`` and let it through, and ``sys/wrapping/lookup`` answered 500."""
    srv, store = server
    if "secret-surrogate/" not in srv.client().sys.list_mounted_secrets_engines()["data"]:
        srv.client().sys.enable_secrets_engine("kv", path="secret-surrogate", options={"version": "1"})
    body = b'{"token": "\xed\xa0\x80", "paths": ["x"], "v": "\xed\xa0\x80"}'
    send = partial(
        srv.request, "POST", path, token=token, data=body, headers={"Content-Type": "application/json"}
    )
    response = unchanged(store, send, 400)
    assert response.json()["errors"] == ["failed to parse JSON input: the body is not valid JSON"]


def test_a_surrogate_pair_is_one_character(server: tuple[Server, Path]) -> None:
    srv, _ = server
    srv.client().sys.enable_secrets_engine("kv", path="secret-pair", options={"version": "1"})
    body = '{"v": "\\ud83d\\udd11"}'
    written = srv.request("POST", "secret-pair/k", data=body, headers={"Content-Type": "application/json"})
    assert written.status_code == 204, written.text
    assert srv.request("GET", "secret-pair/k").json()["data"] == {"v": "\U0001f511"}


def test_generate_root_nonce_with_a_lone_surrogate(server: tuple[Server, Path]) -> None:
    """The same through ``sys/generate-root/update`` (no token), with an attempt under way."""
    srv, store = server
    started = srv.request("PUT", "sys/generate-root/attempt", token=None, json={})
    assert started.status_code == 200, started.text
    try:
        body = '{"key": "AAAA", "nonce": @}'.replace("@", _LONE_SURROGATE)
        send = partial(
            srv.request,
            "PUT",
            "sys/generate-root/update",
            token=None,
            data=body,
            headers={"Content-Type": "application/json"},
        )
        unchanged(store, send, 400)
        assert srv.request("GET", "sys/generate-root/attempt", token=None).json()["started"] is True
    finally:
        srv.request("DELETE", "sys/generate-root/attempt", token=None)
