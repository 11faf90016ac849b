"""``sys/`` as Vault clients expect it (issue 23): top-level data, weakly typed mount options,
the tune endpoint, ``sys/auth``, the legacy policy shorthand, no-data bodies and Vault's
403/404 for paths nothing serves. Every refused request leaves the raw store unchanged."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import hvac
import pytest
import requests
from hvac.exceptions import Forbidden, InvalidRequest

from tests.server.conftest import Server, start_file_server, unchanged

SYSTEM_TTL = 32 * 86400  # Vault's system default and maximum lease TTL


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(tmp_path_factory.mktemp("vault-sys"))
    started.client().sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    yield started, store
    started.stop()


def refused(store: Path, send: Callable[[], requests.Response], status: int, fragment: str) -> None:
    response = unchanged(store, send)
    assert response.status_code == status, response.text
    assert fragment in response.json()["errors"][0], response.text


def token_with(srv: Server, policy: str, name: str) -> str:
    assert srv.request("PUT", f"sys/policies/acl/{name}", json={"policy": policy}).status_code == 204
    created = srv.request("POST", "auth/token/create", json={"policies": [name]})
    assert created.status_code == 200, created.text
    token: str = created.json()["auth"]["client_token"]
    return token


# -- item 4: data at the top level where Vault puts it ---------------------------------------------


def test_sys_mounts_has_each_mount_at_the_top_level_and_under_data(server: tuple[Server, Path]) -> None:
    srv, _ = server
    body = srv.request("GET", "sys/mounts").json()
    assert body["secret/"]["type"] == "kv" and body["secret/"]["options"] == {"version": "2"}
    assert body["secret/"] == body["data"]["secret/"]
    assert body["sys/"]["type"] == "system"
    assert body["request_id"] and body["data"]["secret/"]["config"]["max_lease_ttl"] == 0
    mounts = srv.client().sys.list_mounted_secrets_engines()
    assert mounts["secret/"]["type"] == "kv" and mounts["data"]["secret/"]["type"] == "kv"


def test_one_mount_reads_at_the_top_level_too(server: tuple[Server, Path]) -> None:
    srv, store = server
    body = srv.request("GET", "sys/mounts/secret").json()
    assert body["type"] == "kv" and body["data"]["type"] == "kv"
    assert body["accessor"] == body["data"]["accessor"] and body["data"]["options"] == {"version": "2"}
    refused(store, lambda: srv.request("GET", "sys/mounts/nothing-here"), 400, "No secret engine mount at")


def test_policies_answer_where_vault_does(server: tuple[Server, Path]) -> None:
    srv, _ = server
    text = json.dumps({"path": {"secret/data/x": {"capabilities": ["read"]}}})
    assert srv.request("PUT", "sys/policy/top-level", json={"policy": text}).status_code == 204
    listed = srv.request("GET", "sys/policy").json()
    assert "top-level" in listed["policies"] and listed["policies"] == listed["data"]["policies"]
    assert "root" in listed["keys"]
    read = srv.request("GET", "sys/policy/top-level").json()
    assert read["rules"] == text and read["name"] == "top-level" and read["data"]["rules"] == text
    assert srv.client().sys.list_policies()["policies"] == listed["policies"]
    # sys/policies/acl is the newer API: its data is under "data" only.
    acl = srv.request("GET", "sys/policies/acl/top-level").json()
    assert acl["data"] == {"name": "top-level", "policy": text}
    assert "policy" not in acl and "name" not in acl
    keys = srv.request("LIST", "sys/policies/acl").json()
    assert "top-level" in keys["data"]["keys"] and "keys" not in keys


def test_capabilities_and_key_status_at_the_top_level(server: tuple[Server, Path]) -> None:
    srv, _ = server
    token = token_with(srv, json.dumps({"path": {"secret/data/caps": {"capabilities": ["read"]}}}), "caps")
    mine = srv.request("POST", "sys/capabilities-self", token=token, json={"paths": ["secret/data/caps"]})
    body = mine.json()
    assert body["capabilities"] == ["read"] and body["secret/data/caps"] == ["read"]
    assert body["data"]["capabilities"] == ["read"]
    theirs = srv.request("POST", "sys/capabilities", json={"token": token, "paths": ["secret/data/other"]})
    assert theirs.json()["capabilities"] == ["deny"]
    assert srv.client().sys.get_capabilities(paths=["secret/data/caps"])["capabilities"] == ["root"]
    status = srv.request("GET", "sys/key-status").json()
    assert status["term"] == status["data"]["term"] >= 1


def test_audit_list_at_the_top_level(server: tuple[Server, Path], tmp_path: Path) -> None:
    srv, _ = server
    log = tmp_path / "audit.log"
    enabled = srv.request(
        "PUT", "sys/audit/topfile", json={"type": "file", "options": {"file_path": str(log)}}
    )
    assert enabled.status_code == 204, enabled.text
    try:
        body = srv.request("GET", "sys/audit").json()
        assert body["topfile/"]["type"] == "file" and body["data"]["topfile/"]["options"]["file_path"] == str(
            log
        )
        assert srv.client().sys.list_enabled_audit_devices()["topfile/"]["type"] == "file"
        hashed = srv.request("POST", "sys/audit-hash/topfile", json={"input": "x"}).json()
        assert hashed["hash"] == hashed["data"]["hash"] and hashed["hash"].startswith("hmac-sha256:")
    finally:
        assert srv.request("DELETE", "sys/audit/topfile").status_code == 204


@pytest.mark.parametrize("path", ["sys/seal-status", "sys/health", "sys/leader", "sys/init"])
def test_status_paths_stay_bare_json(server: tuple[Server, Path], path: str) -> None:
    srv, _ = server
    body = srv.request("GET", path, token=None).json()
    assert "data" not in body and "request_id" not in body
    assert body.get("initialized", True) is True


# -- item 2 and 11: mount options with weak typing, plugin_name ------------------------------------


def test_mount_options_are_weakly_typed(server: tuple[Server, Path]) -> None:
    srv, _ = server
    made = srv.request("POST", "sys/mounts/kvv2", json={"type": "kv", "options": {"version": 2}})
    assert made.status_code == 204, made.text
    assert srv.request("GET", "sys/mounts/kvv2").json()["options"] == {"version": "2"}
    client = srv.client()
    client.sys.enable_secrets_engine("kv", path="kvh", options={"version": 2, "flag": True, "off": False})
    assert client.sys.read_mount_configuration("kvh")["options"] == {"version": "2", "flag": "1", "off": "0"}
    client.secrets.kv.v2.create_or_update_secret("a", secret={"k": "v"}, mount_point="kvh")
    assert client.secrets.kv.v2.read_secret_version("a", mount_point="kvh", raise_on_deleted_version=True)[
        "data"
    ]["data"] == {"k": "v"}


@pytest.mark.parametrize(
    "body",
    [
        {"type": "kv", "options": {"version": ["2"]}},
        {"type": "kv", "options": {"version": {"n": 2}}},
        {"type": "kv", "options": "version=2"},
        {"type": "transit", "plugin_name": "vault-plugin-secrets-other"},
        {"type": "transit", "config": {"plugin_version": "v1.0.0"}},
        {"type": "transit", "config": {"passthrough_request_headers": ["X-Tenant"]}},
        {"type": "transit", "config": {"no_such_setting": 1}},
        {"type": "transit", "config": {"default_lease_ttl": "2h", "max_lease_ttl": "1h"}},
        {"type": "transit", "external_entropy_access": True},
    ],
)
def test_unusable_mount_settings_are_refused(server: tuple[Server, Path], body: dict[str, object]) -> None:
    srv, store = server
    response = unchanged(store, lambda: srv.request("POST", "sys/mounts/refused", json=body))
    assert response.status_code == 400, response.text
    assert srv.request("GET", "sys/mounts/refused").status_code == 400


def test_plugin_name_naming_the_builtin_engine_is_accepted_without_warning(
    server: tuple[Server, Path],
) -> None:
    srv, _ = server
    made = srv.request(
        "POST",
        "sys/mounts/plugin-transit",
        json={
            "type": "transit",
            "plugin_name": "transit",
            "config": {"default_lease_ttl": "1h", "audit_non_hmac_request_keys": [], "force_no_cache": False},
            "local": False,
            "seal_wrap": False,
        },
    )
    assert made.status_code == 204, made.text  # a warning would have made it a 200 with a body
    mount = srv.request("GET", "sys/mounts").json()["plugin-transit/"]
    assert mount["type"] == "transit" and mount["config"]["default_lease_ttl"] == 3600


# -- item 10: sys/mounts/<path>/tune -------------------------------------------------------------


def test_tune_reads_and_sets_the_mount(server: tuple[Server, Path]) -> None:
    srv, _ = server
    assert srv.request("POST", "sys/mounts/tuned", json={"type": "transit"}).status_code == 204
    first = srv.request("GET", "sys/mounts/tuned/tune").json()
    assert first["default_lease_ttl"] == SYSTEM_TTL and first["max_lease_ttl"] == SYSTEM_TTL
    assert first["data"]["force_no_cache"] is False and first["description"] == ""
    client = srv.client()
    client.sys.tune_mount_configuration(
        "tuned", default_lease_ttl="3600s", max_lease_ttl="8600s", description="t"
    )
    tuned = client.sys.read_mount_configuration("tuned")["data"]
    assert (tuned["default_lease_ttl"], tuned["max_lease_ttl"], tuned["description"]) == (3600, 8600, "t")
    listed = srv.request("GET", "sys/mounts").json()
    assert "tuned/tune/" not in listed["data"]  # the tune endpoint, never a mount of that name
    assert listed["tuned/"]["config"]["max_lease_ttl"] == 8600 and listed["tuned/"]["description"] == "t"
    # "system" goes back to the default; a key left out keeps its value.
    assert srv.request("POST", "sys/mounts/tuned/tune", json={"max_lease_ttl": "system"}).status_code == 204
    again = srv.request("GET", "sys/mounts/tuned/tune").json()
    assert (again["max_lease_ttl"], again["default_lease_ttl"], again["description"]) == (
        SYSTEM_TTL,
        3600,
        "t",
    )


def test_tune_keeps_kv_version_2_and_refuses_what_it_cannot_do(server: tuple[Server, Path]) -> None:
    srv, store = server
    kept = srv.request("POST", "sys/mounts/secret/tune", json={"options": {"version": 2}})
    assert kept.status_code == 204, kept.text
    assert srv.request("GET", "sys/mounts/secret/tune").json()["options"] == {"version": "2"}
    for body, fragment in [
        ({"options": {"version": "1"}}, "cannot downgrade"),
        ({"options": {"version": "3"}}, "invalid kv version"),
        ({"default_lease_ttl": "48h", "max_lease_ttl": "24h"}, "cannot be greater"),
        ({"default_lease_ttl": "soon"}, "default_lease_ttl must be a duration"),
        ({"listing_visibility": "unauth"}, "not supported"),
        ({"description": 7}, "description must be a string"),
    ]:
        refused(
            store, functools.partial(srv.request, "POST", "sys/mounts/secret/tune", json=body), 400, fragment
        )
    refused(
        store,
        lambda: srv.request("POST", "sys/mounts/absent/tune", json={"description": "x"}),
        400,
        "absent/",
    )
    refused(store, lambda: srv.request("GET", "sys/mounts/absent/tune"), 400, "absent/")


# -- sys/auth ---------------------------------------------------------------------------------------


def test_sys_auth_lists_the_token_method(server: tuple[Server, Path]) -> None:
    srv, store = server
    body = srv.request("GET", "sys/auth").json()
    assert body["token/"]["type"] == "token" and body["data"]["token/"] == body["token/"]
    methods = srv.client().sys.list_auth_methods()
    assert methods["token/"]["accessor"] == body["token/"]["accessor"]
    assert srv.request("GET", "sys/auth/token").json()["type"] == "token"
    assert srv.request("GET", "sys/auth/token/tune").json()["max_lease_ttl"] == SYSTEM_TTL
    # AppRole and userpass are served (tests/server/test_sys_auth.py); other types are refused.
    refused(
        store, lambda: srv.request("POST", "sys/auth/ldap", json={"type": "ldap"}), 400, "unknown auth method"
    )
    refused(store, lambda: srv.request("POST", "sys/auth/token", json={"type": "token"}), 400, "in use")
    refused(store, lambda: srv.request("DELETE", "sys/auth/token"), 400, "cannot be disabled")
    with pytest.raises(InvalidRequest):
        srv.client().sys.enable_auth_method("kubernetes")
    assert set(srv.request("GET", "sys/auth").json()["data"]) == {"token/"}


# -- item 3: a null or empty body is "no data" -----------------------------------------------------


@pytest.mark.parametrize("body", [b"null", b"", b"  null\n"])
def test_a_null_or_empty_body_is_no_data(server: tuple[Server, Path], body: bytes) -> None:
    srv, store = server

    def post(path: str, method: str = "POST") -> requests.Response:
        return srv.request(method, path, data=body, headers={"Content-Type": "application/json"})

    # No data where none is needed: the call is served.
    assert post("sys/rotate").status_code == 204
    created = post("auth/token/create", "PUT")
    assert created.status_code == 200 and created.json()["auth"]["client_token"]
    assert srv.request("DELETE", "sys/policies/acl/nulled").status_code == 204
    assert post("sys/mounts/nulled-transit/tune").status_code == 400  # not mounted: nothing to tune
    # Where data is required, "no data" is a 400 that names it, and nothing is stored.
    refused(store, lambda: post("sys/mounts/nulled"), 400, "missing type")
    refused(store, lambda: post("sys/policies/acl/nulled"), 400, "missing policy")
    refused(store, lambda: post("sys/capabilities-self"), 400, "missing paths")
    assert srv.request("POST", "sys/mounts/nulled-transit", json={"type": "transit"}).status_code == 204
    try:
        made = post("nulled-transit/keys/from-null")
        assert made.status_code in (200, 204), made.text
        assert srv.request("GET", "nulled-transit/keys/from-null").status_code == 200
    finally:
        assert srv.request("DELETE", "sys/mounts/nulled-transit").status_code == 204


# -- item 11: 403 unless the token may use the path, then 404 --------------------------------------


def test_an_unmounted_path_is_403_without_a_grant_and_404_with_one(server: tuple[Server, Path]) -> None:
    srv, store = server
    granted = token_with(srv, json.dumps({"path": {"nowhere/*": {"capabilities": ["read"]}}}), "nowhere")
    plain = token_with(srv, json.dumps({"path": {"secret/data/x": {"capabilities": ["read"]}}}), "plain")
    refused(store, lambda: srv.request("GET", "nowhere/thing", token=plain), 403, "permission denied")
    refused(store, lambda: srv.request("GET", "nowhere/thing", token="not-a-token"), 403, "permission denied")
    refused(store, lambda: srv.request("GET", "nowhere/thing", token=None), 403, "permission denied")
    assert unchanged(store, lambda: srv.request("GET", "nowhere/thing", token=granted)).status_code == 404
    assert srv.request("GET", "nowhere/thing").status_code == 404  # root: "no handler for route"
    # Inside a mount, a path no route serves is the same: 403 first, 404 only with a grant.
    refused(store, lambda: srv.request("GET", "secret/nonsense/x", token=plain), 403, "permission denied")
    assert srv.request("GET", "secret/nonsense/x").status_code == 404
    with pytest.raises(Forbidden):
        srv.client(token=plain).read("nowhere/thing")


# -- item 5: the legacy policy shorthand -----------------------------------------------------------

LEGACY_HCL = """
path "secret/data/read" { policy = "read" }
path "secret/data/write" { policy = "write" }
path "secret/data/sudo" { policy = "sudo" }
path "secret/data/deny" { policy = "deny" }
path "secret/data/mixed" {
  policy = "read"
  capabilities = ["update"]
}
"""


def _caps(srv: Server, token: str, path: str) -> list[str]:
    response = srv.request("POST", "sys/capabilities-self", token=token, json={"paths": [path]})
    caps: list[str] = response.json()["capabilities"]
    return caps


@pytest.mark.parametrize("form", ["hcl", "json"])
def test_legacy_policy_shorthand_maps_to_vaults_capabilities(server: tuple[Server, Path], form: str) -> None:
    srv, _ = server
    if form == "hcl":
        text = LEGACY_HCL
    else:
        text = json.dumps(
            {
                "path": {
                    "secret/data/read": {"policy": "read"},
                    "secret/data/write": {"policy": "write"},
                    "secret/data/sudo": {"policy": "sudo"},
                    "secret/data/deny": {"policy": "deny"},
                    "secret/data/mixed": {"policy": "read", "capabilities": ["update"]},
                }
            }
        )
    token = token_with(srv, text, f"legacy-{form}")
    assert _caps(srv, token, "secret/data/read") == ["list", "read"]
    assert _caps(srv, token, "secret/data/write") == ["create", "delete", "list", "read", "update"]
    assert _caps(srv, token, "secret/data/sudo") == ["create", "delete", "list", "read", "sudo", "update"]
    assert _caps(srv, token, "secret/data/deny") == ["deny"]
    assert _caps(srv, token, "secret/data/mixed") == ["list", "read", "update"]
    client = srv.client(token=token)
    srv.client().secrets.kv.v2.create_or_update_secret("read", secret={"v": "1"})
    assert client.secrets.kv.v2.read_secret_version("read", raise_on_deleted_version=True)["data"][
        "data"
    ] == {"v": "1"}
    with pytest.raises(Forbidden):
        client.secrets.kv.v2.create_or_update_secret("read", secret={"v": "2"})
    client.secrets.kv.v2.create_or_update_secret("write", secret={"v": "w"})


def test_a_legacy_deny_still_wins_over_a_repeated_block(server: tuple[Server, Path]) -> None:
    srv, _ = server
    text = 'path "secret/data/both" { policy = "sudo" }\npath "secret/data/both" { policy = "deny" }\n'
    token = token_with(srv, text, "legacy-both")
    assert _caps(srv, token, "secret/data/both") == ["deny"]


@pytest.mark.parametrize(
    "text",
    [
        'path "secret/data/a" { policy = "list" }',
        'path "secret/data/a" { policy = "admin" }',
        json.dumps({"path": {"secret/data/a": {"policy": ["read"]}}}),
        json.dumps({"path": {"secret/data/a": {"policy": "read", "capabilities": ["fly"]}}}),
    ],
)
def test_an_unknown_legacy_policy_is_refused(server: tuple[Server, Path], text: str) -> None:
    srv, store = server
    refused(
        store, lambda: srv.request("PUT", "sys/policies/acl/bad-legacy", json={"policy": text}), 400, "policy"
    )
    assert srv.request("GET", "sys/policies/acl/bad-legacy").status_code == 404


def test_hvac_reads_a_legacy_policy_back(server: tuple[Server, Path]) -> None:
    srv, _ = server
    client: hvac.Client = srv.client()
    client.sys.create_or_update_policy("legacy-read-back", LEGACY_HCL)
    assert client.sys.read_policy("legacy-read-back")["rules"] == LEGACY_HCL


def test_what_sys_does_not_serve_is_a_400_that_says_so(server: tuple[Server, Path]) -> None:
    srv, store = server
    # Vault's message, which clients match on. (sys/remount is served: test_remount.py.)
    refused(
        store,
        lambda: srv.request("POST", "sys/audit-hash/none", json={"input": "x"}),
        400,
        "unknown audit backend",
    )


def test_deleting_a_policy_name_that_cannot_exist_succeeds(server: tuple[Server, Path]) -> None:
    srv, store = server
    for route in ("sys/policy/%5B%27testpolicy%27%5D", "sys/policies/acl/has%20space"):
        assert unchanged(store, functools.partial(srv.request, "DELETE", route)).status_code == 204
    refused(
        store, lambda: srv.request("PUT", "sys/policy/has%20space", json={"policy": "{}"}), 400, "policy name"
    )
