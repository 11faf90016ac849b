"""AppRole's per-field role paths (``role/<name>/policies`` ...) and ``tidy/secret-id``, with hvac's
generic read/write/delete as Vault clients use them, and raw HTTP for status codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions
import pytest

from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.server.state import records
from secretumvault.server.state.shares import vault_key_to_share
from tests.server.auth_server import unchanged
from tests.server.conftest import Server, start_server, write_config

MOUNT = "approle-fields"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    tmp = tmp_path_factory.mktemp("approle-fields")
    store = tmp / "vault.db"
    srv = start_server(["-c", str(write_config(tmp / "server.toml", store))], tmp / "server.log")
    init = srv.client(token="").sys.initialize(secret_shares=1, secret_threshold=1)
    srv.client(token="").sys.submit_unseal_key(init["keys"][0])
    srv.root_token = init["root_token"]
    srv.client().sys.enable_auth_method("approle", path=MOUNT)
    _KEYS[store] = init["keys"][0]
    yield srv, store
    srv.stop()


_KEYS: dict[Path, str] = {}


def _role(srv: Server, name: str, **settings: object) -> hvac.Client:
    client = srv.client()
    client.auth.approle.create_or_update_approle(name, mount_point=MOUNT, **settings)
    return client


def _path(role: str, field: str) -> str:
    return f"auth/{MOUNT}/role/{role}/{field}"


@pytest.mark.parametrize(
    ("field", "key", "value", "expected", "default"),
    [
        ("secret-id-num-uses", "secret_id_num_uses", 7, 7, 0),
        ("secret-id-ttl", "secret_id_ttl", "10m", 600, 0),
        ("token-ttl", "token_ttl", "20m", 1200, 0),
        ("token-max-ttl", "token_max_ttl", 3600, 3600, 0),
        ("bind-secret-id", "bind_secret_id", False, False, True),
        ("secret-id-bound-cidrs", "secret_id_bound_cidrs", ["10.0.0.0/8"], ["10.0.0.0/8"], []),
    ],
)
def test_read_write_delete_one_field(
    server: tuple[Server, Path], field: str, key: str, value: object, expected: object, default: object
) -> None:
    srv, _ = server
    role = f"f-{field}"
    # bind_secret_id false needs another constraint, as in Vault
    client = _role(srv, role, secret_id_bound_cidrs=["127.0.0.1/32"] if key == "bind_secret_id" else None)
    client.write_data(_path(role, field), data={key: value})
    assert client.read(_path(role, field))["data"] == {key: expected}
    assert client.auth.approle.read_role(role, mount_point=MOUNT)["data"][key] == expected
    if key != "bind_secret_id":  # reset needs bind_secret_id back on first: covered below
        client.delete(_path(role, field))
        assert client.read(_path(role, field))["data"] == {key: default}
    client.auth.approle.delete_role(role, mount_point=MOUNT)


def test_policies_field(server: tuple[Server, Path]) -> None:
    srv, _ = server
    client = _role(srv, "pol", token_policies=["a"])
    assert client.read(_path("pol", "policies"))["data"] == {"token_policies": ["a"], "policies": ["a"]}
    client.write_data(_path("pol", "policies"), data={"token_policies": "b,c"})
    assert client.read(_path("pol", "policies"))["data"]["token_policies"] == ["b", "c"]
    client.write_data(_path("pol", "policies"), data={"policies": ["d"]})  # Vault's older name
    assert client.auth.approle.read_role("pol", mount_point=MOUNT)["data"]["token_policies"] == ["d"]
    # A login now gets the new policies.
    role_id = client.auth.approle.read_role_id("pol", mount_point=MOUNT)["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id("pol", mount_point=MOUNT)["data"]["secret_id"]
    login = srv.client(token="").auth.approle.login(role_id, secret_id, mount_point=MOUNT)
    assert login["auth"]["policies"] == ["d", "default"]
    client.delete(_path("pol", "policies"))
    assert client.read(_path("pol", "policies"))["data"]["token_policies"] == []


def test_bind_secret_id_reset_and_constraint(server: tuple[Server, Path]) -> None:
    srv, store = server
    client = _role(srv, "bind", secret_id_bound_cidrs=["127.0.0.1/32"])
    client.write_data(_path("bind", "bind-secret-id"), data={"bind_secret_id": False})
    # No secret ID bound and no CIDRs: Vault refuses a role with no constraint.
    refused = unchanged(store, lambda: srv.request("DELETE", _path("bind", "secret-id-bound-cidrs")), 400)
    assert "constraint" in refused.json()["errors"][0]
    # A role that binds no secret ID makes none (Vault's message).
    refused = unchanged(store, lambda: srv.request("POST", _path("bind", "secret-id")), 400)
    assert refused.json()["errors"] == ["bind_secret_id is not set on the role"]
    client.delete(_path("bind", "bind-secret-id"))  # back to Vault's default: true
    assert client.read(_path("bind", "bind-secret-id"))["data"] == {"bind_secret_id": True}


def test_fields_this_server_does_not_serve(server: tuple[Server, Path]) -> None:
    srv, store = server
    client = _role(srv, "unserved")
    assert client.read(_path("unserved", "period"))["data"] == {"token_period": 0}
    assert client.read(_path("unserved", "token-num-uses"))["data"] == {"token_num_uses": 0}
    assert client.read(_path("unserved", "token-bound-cidrs"))["data"] == {"token_bound_cidrs": []}
    assert client.read(_path("unserved", "local-secret-ids"))["data"] == {"local_secret_ids": False}
    # The "off" value is accepted (Terraform's provider writes every field), anything else refused.
    client.write_data(_path("unserved", "period"), data={"period": 0})
    client.write_data(_path("unserved", "token-num-uses"), data={"token_num_uses": 0})
    for field, body in (
        ("period", {"token_period": "1h"}),
        ("token-num-uses", {"token_num_uses": 3}),
        ("token-bound-cidrs", {"token_bound_cidrs": ["10.0.0.0/8"]}),
    ):
        refused = unchanged(store, partial(srv.request, "POST", _path("unserved", field), json=body), 400)
        assert "not supported" in refused.json()["errors"][0]
    # local-secret-ids is read-only in Vault too.
    unchanged(store, lambda: srv.request("POST", _path("unserved", "local-secret-ids"), json={}), 405)


def test_bad_field_writes_change_nothing(server: tuple[Server, Path]) -> None:
    srv, store = server
    _role(srv, "bad", token_ttl=600, token_max_ttl=1200)
    cases: list[tuple[str, dict[str, object], str | None]] = [
        ("token-ttl", {"token_ttl": 3600}, "token_ttl should not be greater than token_max_ttl"),
        (
            "token-max-ttl",
            {"token_max_ttl": 60},
            "token_max_ttl should be greater than or equal to token_ttl",
        ),
        ("secret-id-num-uses", {"secret_id_num_uses": -1}, "secret_id_num_uses cannot be negative"),
        ("secret-id-ttl", {}, "missing secret_id_ttl"),
        ("policies", {}, "missing token_policies"),
        ("secret-id-bound-cidrs", {"secret_id_bound_cidrs": ["not-a-cidr"]}, None),
        ("bind-secret-id", {"bind_secret_id": "maybe"}, None),
    ]
    for field, body, message in cases:
        response = unchanged(store, partial(srv.request, "POST", _path("bad", field), json=body), 400)
        if message is not None:
            assert response.json()["errors"] == [message], field


def test_missing_role_statuses(server: tuple[Server, Path]) -> None:
    """As Vault: read 404, write 404 (unsupported path), delete 204; nothing stored."""
    srv, store = server
    unchanged(store, lambda: srv.request("GET", _path("nobody", "token-ttl")), 404)
    unchanged(store, lambda: srv.request("POST", _path("nobody", "token-ttl"), json={"token_ttl": 60}), 404)
    response = srv.request("DELETE", _path("nobody", "token-ttl"))
    assert response.status_code == 204
    assert srv.client().read(_path("nobody", "policies")) is None  # hvac's read: None on a 404
    assert srv.request("POST", _path("nobody", "no-such-field"), json={}).status_code == 404


def test_tokens_outlive_their_secret_id_and_role(server: tuple[Server, Path]) -> None:
    """Vault does not revoke a login's token when its secret ID or role goes (only disabling the
    auth method does): the same here."""
    srv, _ = server
    client = _role(srv, "outlive", token_policies=["p"])
    role_id = client.auth.approle.read_role_id("outlive", mount_point=MOUNT)["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id("outlive", mount_point=MOUNT)["data"]["secret_id"]
    token = srv.client(token="").auth.approle.login(role_id, secret_id, mount_point=MOUNT)["auth"][
        "client_token"
    ]
    client.auth.approle.destroy_secret_id("outlive", secret_id, mount_point=MOUNT)
    assert srv.client(token).auth.token.lookup_self()["data"]["meta"] == {"role_name": "outlive"}
    client.auth.approle.delete_role("outlive", mount_point=MOUNT)
    assert srv.client(token).auth.token.lookup_self()["data"]["policies"] == ["default", "p"]


def _plant(store: Path, change: Callable[[Keystore, dict[str, str]], None]) -> None:
    """Change the server's store from beside it (what a crash or a clock would leave behind)."""
    keystore = Keystore(SQLiteStorage(store))
    try:
        keystore.unseal_share(vault_key_to_share(_KEYS[store]))
        paths = {}
        for path in keystore.list(""):
            if "/secret-id/tidy/" in path or "/accessor/tidy/" in path:
                kind = "secret" if "/secret-id/" in path else "accessor"
                paths[f"{kind}:{path.rsplit('/', 1)[1]}"] = path
        change(keystore, paths)
    finally:
        keystore.seal()


def _secret_record(keystore: Keystore, paths: dict[str, str], accessor: str) -> tuple[str, dict[str, Any]]:
    hashed = keystore.get(paths[f"accessor:{accessor}"]).decode()
    path = paths[f"secret:{hashed}"]
    return path, records.load(keystore.get(path), "approle.secret_id", "approle secret ID")


def test_tidy_secret_ids(server: tuple[Server, Path]) -> None:
    srv, store = server
    client = _role(srv, "tidy")
    made = [client.auth.approle.generate_secret_id("tidy", mount_point=MOUNT)["data"] for _ in range(4)]
    kept, expired, old_unindexed, young_unindexed = made
    unindexed_paths: dict[str, str] = {}

    def leftovers(keystore: Keystore, paths: dict[str, str]) -> None:
        path, record = _secret_record(keystore, paths, expired["secret_id_accessor"])
        keystore.put(path, records.dump("approle.secret_id", {**record, "expiration_time": 1}))
        for which, created in ((old_unindexed, 1), (young_unindexed, record["creation_time"])):
            path, record = _secret_record(keystore, paths, which["secret_id_accessor"])
            keystore.put(path, records.dump("approle.secret_id", {**record, "creation_time": created}))
            keystore.delete(paths[f"accessor:{which['secret_id_accessor']}"])
            unindexed_paths[which["secret_id"]] = path
        accessor_dir = paths[f"accessor:{kept['secret_id_accessor']}"].rsplit("/", 1)[0]
        keystore.put(accessor_dir + "/dangling", b"0" * 64)

    _plant(store, leftovers)
    response = srv.request("POST", f"auth/{MOUNT}/tidy/secret-id")
    assert response.status_code == 202, response.text
    assert response.json()["warnings"] == ["Tidy operation successfully completed."]
    assert response.json()["data"] == {"secret_ids_removed": 2, "accessors_removed": 1}
    listed = client.list(f"auth/{MOUNT}/role/tidy/secret-id")["data"]["keys"]
    assert listed == [kept["secret_id_accessor"]]

    def check(keystore: Keystore, paths: dict[str, str]) -> None:
        # A young secret ID without its index may be one being registered: tidy leaves it.
        assert keystore.record_version(unindexed_paths[young_unindexed["secret_id"]]) is not None
        assert keystore.record_version(unindexed_paths[old_unindexed["secret_id"]]) is None

    _plant(store, check)
    role_id = client.auth.approle.read_role_id("tidy", mount_point=MOUNT)["data"]["role_id"]
    login = srv.client(token="").auth.approle.login(role_id, kept["secret_id"], mount_point=MOUNT)
    assert login["auth"]["metadata"] == {"role_name": "tidy"}
    refused = srv.request(
        "POST",
        f"auth/{MOUNT}/login",
        token=None,
        json={"role_id": role_id, "secret_id": expired["secret_id"]},
    )
    assert refused.status_code == 400


def test_a_deleted_roles_tokens_are_not_renewed(server: tuple[Server, Path]) -> None:
    """Vault's AppRole renews a login's token only while its role exists; the token stays valid."""
    srv, store = server
    client = _role(srv, "renewal", token_ttl="10m")
    role_id = client.auth.approle.read_role_id("renewal", mount_point=MOUNT)["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id("renewal", mount_point=MOUNT)["data"]["secret_id"]
    login = srv.client(token="").auth.approle.login(role_id, secret_id, mount_point=MOUNT)["auth"]
    token, accessor = login["client_token"], login["accessor"]
    assert srv.client(token).auth.token.renew_self()["auth"]["lease_duration"] == 600
    client.auth.approle.delete_role("renewal", mount_point=MOUNT)
    for send in (
        partial(srv.request, "POST", "auth/token/renew-self", token=token),
        partial(srv.request, "POST", "auth/token/renew", json={"token": token}),
        partial(srv.request, "POST", "auth/token/renew-accessor", json={"accessor": accessor}),
    ):
        refused = unchanged(store, send, 400)
        assert refused.json()["errors"] == ["role 'renewal' does not exist during renewal"]
    assert srv.client(token).auth.token.lookup_self()["data"]["meta"] == {"role_name": "renewal"}
