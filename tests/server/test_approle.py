"""AppRole with hvac and raw HTTP: roles, role IDs, secret IDs, login, CIDR binding, use counts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest
import requests

from secretumvault.keystore import SQLiteStorage
from tests.server.auth_server import start_file_server, unchanged
from tests.server.conftest import Server

MOUNT = "approle-test"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    srv, store = start_file_server(tmp_path_factory.mktemp("approle"))
    srv.client().sys.enable_auth_method("approle", path=MOUNT)
    yield srv, store
    srv.stop()


def _approle(srv: Server) -> hvac.api.auth_methods.AppRole:
    return srv.client().auth.approle


def _login(srv: Server, role_id: str, secret_id: str | None = None) -> requests.Response:
    body = {"role_id": role_id} if secret_id is None else {"role_id": role_id, "secret_id": secret_id}
    return srv.request("POST", f"auth/{MOUNT}/login", token=None, json=body)


def _generate(srv: Server, role: str, **body: object) -> dict[str, object]:
    response = srv.request("POST", f"auth/{MOUNT}/role/{role}/secret-id", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


def test_role_crud(server: tuple[Server, Path]) -> None:
    srv, _ = server
    ar = _approle(srv)
    ar.create_or_update_approle(
        "crud",
        token_policies=["dev"],
        token_ttl="20m",
        token_max_ttl="30m",
        secret_id_ttl="10m",
        mount_point=MOUNT,
    )
    read = ar.read_role("crud", mount_point=MOUNT)["data"]
    assert read["token_policies"] == ["dev"] and read["token_ttl"] == 1200 and read["token_max_ttl"] == 1800
    assert read["secret_id_ttl"] == 600 and read["bind_secret_id"] is True and read["token_type"] == "default"
    assert "crud" in ar.list_roles(mount_point=MOUNT)["data"]["keys"]
    role_id = ar.read_role_id("crud", mount_point=MOUNT)["data"]["role_id"]
    assert len(role_id) == 36
    ar.update_role_id("crud", "my-custom-role-id", mount_point=MOUNT)
    assert ar.read_role_id("crud", mount_point=MOUNT)["data"]["role_id"] == "my-custom-role-id"
    ar.create_or_update_approle("crud", token_ttl="5m", mount_point=MOUNT)  # an update keeps the rest
    read = ar.read_role("crud", mount_point=MOUNT)["data"]
    assert read["token_ttl"] == 300 and read["token_policies"] == ["dev"]
    assert ar.delete_role("crud", mount_point=MOUNT).status_code == 204
    assert srv.request("GET", f"auth/{MOUNT}/role/crud").status_code == 404
    assert _login(srv, "my-custom-role-id", "anything").status_code == 400


def test_secret_ids_and_login(server: tuple[Server, Path]) -> None:
    srv, _ = server
    ar = _approle(srv)
    ar.create_or_update_approle("app", token_policies=["app-read"], token_ttl="1h", mount_point=MOUNT)
    role_id = ar.read_role_id("app", mount_point=MOUNT)["data"]["role_id"]
    made = ar.generate_secret_id(
        "app", metadata={"team": "blue"}, cidr_list=["127.0.0.1/32"], mount_point=MOUNT
    )
    data = made["data"]
    assert set(data) >= {"secret_id", "secret_id_accessor", "secret_id_ttl", "secret_id_num_uses"}
    looked = ar.read_secret_id("app", data["secret_id"], mount_point=MOUNT)["data"]
    assert looked["metadata"] == {"team": "blue"} and looked["cidr_list"] == ["127.0.0.1/32"]
    assert looked["secret_id_num_uses"] == 0 and looked["secret_id_accessor"] == data["secret_id_accessor"]
    by_accessor = ar.read_secret_id_accessor("app", data["secret_id_accessor"], mount_point=MOUNT)["data"]
    assert by_accessor["cidr_list"] == ["127.0.0.1/32"]
    assert data["secret_id_accessor"] in ar.list_secret_id_accessors("app", mount_point=MOUNT)["data"]["keys"]

    auth = ar.login(role_id, data["secret_id"], use_token=False, mount_point=MOUNT)["auth"]
    assert auth["policies"] == ["app-read", "default"] and auth["lease_duration"] == 3600
    assert auth["metadata"] == {"team": "blue", "role_name": "app"} and auth["orphan"] is True
    token_data = srv.request("GET", "auth/token/lookup-self", token=auth["client_token"]).json()["data"]
    assert token_data["path"] == f"auth/{MOUNT}/login" and token_data["display_name"] == "approle"
    assert token_data["orphan"] is True and token_data["meta"]["role_name"] == "app"

    custom = ar.create_custom_secret_id("app", "a-custom-secret", mount_point=MOUNT)["data"]
    assert custom["secret_id"] == "a-custom-secret"
    assert ar.login(role_id, "a-custom-secret", use_token=False, mount_point=MOUNT)["auth"]["client_token"]
    assert ar.destroy_secret_id("app", "a-custom-secret", mount_point=MOUNT).status_code == 204
    assert _login(srv, role_id, "a-custom-secret").json()["errors"] == ["invalid role or secret ID"]
    assert (
        srv.request("POST", f"auth/{MOUNT}/role/app/secret-id/lookup", json={"secret_id": "gone"}).status_code
        == 204
    )
    assert (
        ar.destroy_secret_id_accessor("app", data["secret_id_accessor"], mount_point=MOUNT).status_code == 204
    )
    assert _login(srv, role_id, data["secret_id"]).status_code == 400


def test_secret_id_stored_only_as_hmac(server: tuple[Server, Path]) -> None:
    srv, store = server
    ar = _approle(srv)
    ar.create_or_update_approle("hidden", mount_point=MOUNT)
    ar.create_custom_secret_id("hidden", "needle-secret-id-0123456789", mount_point=MOUNT)
    storage = SQLiteStorage(store)
    try:
        raw = b"".join(storage.get(path).value for path in storage.list(""))  # type: ignore[union-attr]
        names = " ".join(storage.list(""))
    finally:
        storage.close()
    assert b"needle-secret-id-0123456789" not in raw and "needle" not in names


def test_num_uses_consumed_once_under_concurrency(server: tuple[Server, Path]) -> None:
    srv, _ = server
    ar = _approle(srv)
    ar.create_or_update_approle("once", secret_id_num_uses=1, mount_point=MOUNT)
    role_id = ar.read_role_id("once", mount_point=MOUNT)["data"]["role_id"]
    secret_id = ar.generate_secret_id("once", mount_point=MOUNT)["data"]["secret_id"]
    results: list[int] = []
    start = threading.Barrier(8)

    def attempt() -> None:
        start.wait()
        results.append(_login(srv, role_id, secret_id).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200] + [400] * 7
    # Three uses: exactly three logins, then it is gone.
    assert _generate(srv, "once", num_uses=1)["secret_id_num_uses"] == 1
    ar.create_or_update_approle("thrice", secret_id_num_uses=3, mount_point=MOUNT)
    role_id = ar.read_role_id("thrice", mount_point=MOUNT)["data"]["role_id"]
    secret_id = ar.generate_secret_id("thrice", mount_point=MOUNT)["data"]["secret_id"]
    assert ar.read_secret_id("thrice", secret_id, mount_point=MOUNT)["data"]["secret_id_num_uses"] == 3
    assert [_login(srv, role_id, secret_id).status_code for _ in range(4)] == [200, 200, 200, 400]


def test_cidr_binding(server: tuple[Server, Path]) -> None:
    srv, store = server
    ar = _approle(srv)
    # On the secret ID: the test client is 127.0.0.1.
    ar.create_or_update_approle("cidr", mount_point=MOUNT)
    role_id = ar.read_role_id("cidr", mount_point=MOUNT)["data"]["role_id"]
    far = _generate(srv, "cidr", cidr_list=["10.0.0.0/8"], num_uses=2)
    near = ar.generate_secret_id("cidr", cidr_list=["127.0.0.0/8"], mount_point=MOUNT)["data"]
    refused = unchanged(store, lambda: _login(srv, role_id, str(far["secret_id"])), 400)
    assert "CIDR" in refused.json()["errors"][0]
    assert _login(srv, role_id, near["secret_id"]).status_code == 200
    # On the role, with and without a secret ID.
    ar.create_or_update_approle("cidr-role", secret_id_bound_cidrs=["10.0.0.0/8"], mount_point=MOUNT)
    role_id = ar.read_role_id("cidr-role", mount_point=MOUNT)["data"]["role_id"]
    secret = ar.generate_secret_id("cidr-role", mount_point=MOUNT)["data"]["secret_id"]
    unchanged(store, lambda: _login(srv, role_id, secret), 400)
    ar.create_or_update_approle(
        "cidr-only", bind_secret_id=False, secret_id_bound_cidrs=["127.0.0.0/8"], mount_point=MOUNT
    )
    role_id = ar.read_role_id("cidr-only", mount_point=MOUNT)["data"]["role_id"]
    assert _login(srv, role_id).status_code == 200
    ar.create_or_update_approle("cidr-only", secret_id_bound_cidrs=["10.0.0.0/8"], mount_point=MOUNT)
    unchanged(store, lambda: _login(srv, role_id), 400)


def test_secret_id_ttl_bounded_by_role(server: tuple[Server, Path]) -> None:
    srv, _ = server
    ar = _approle(srv)
    ar.create_or_update_approle("ttl", secret_id_ttl="10m", mount_point=MOUNT)
    data = ar.generate_secret_id("ttl", mount_point=MOUNT)["data"]
    assert data["secret_id_ttl"] == 600
    looked = ar.read_secret_id("ttl", data["secret_id"], mount_point=MOUNT)["data"]
    assert looked["expiration_time"] != "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"num_uses": 0}, "num_uses cannot be higher than the role's secret_id_num_uses"),  # 0: unlimited
        ({"num_uses": 4}, "num_uses cannot be higher than the role's secret_id_num_uses"),
        ({"ttl": 0}, "ttl cannot be longer than the role's secret_id_ttl"),  # 0: no expiry
        ({"ttl": "11m"}, "ttl cannot be longer than the role's secret_id_ttl"),
    ],
)
def test_a_secret_id_may_not_loosen_its_roles_limits(
    server: tuple[Server, Path], body: dict[str, object], message: str
) -> None:
    # As Vault: an explicit value is checked against the role (0 is unlimited, so above any limit);
    # only an absent one takes the role's.
    srv, store = server
    _approle(srv).create_or_update_approle(
        "bounded", secret_id_num_uses=3, secret_id_ttl="10m", mount_point=MOUNT
    )
    refused = unchanged(
        store, lambda: srv.request("POST", f"auth/{MOUNT}/role/bounded/secret-id", json=body), 400
    )
    assert refused.json()["errors"] == [message]
    within = srv.request("POST", f"auth/{MOUNT}/role/bounded/secret-id", json={"num_uses": 2, "ttl": "5m"})
    assert within.status_code == 200, within.text
    assert (within.json()["data"]["secret_id_num_uses"], within.json()["data"]["secret_id_ttl"]) == (2, 300)
    default = srv.request("POST", f"auth/{MOUNT}/role/bounded/secret-id", json={"num_uses": None})
    assert (default.json()["data"]["secret_id_num_uses"], default.json()["data"]["secret_id_ttl"]) == (3, 600)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("role/bad", {"token_num_uses": 5}, 400),
        ("role/bad", {"token_period": "1h"}, 400),
        ("role/bad", {"period": 60}, 400),
        ("role/bad", {"token_type": "batch"}, 400),
        ("role/bad", {"token_bound_cidrs": "10.0.0.0/8"}, 400),
        ("role/bad", {"bind_secret_id": False}, 400),  # no constraint left
        ("role/bad", {"secret_id_bound_cidrs": ["not-a-cidr"]}, 400),
        ("role/bad", {"secret_id_num_uses": -1}, 400),
        ("role/bad", {"local_secret_ids": True}, 400),
        ("role/bad", {"role_id": "taken-role-id"}, 400),  # already in use
        ("role/bad%20name", {}, 400),
        ("role/base/role-id", {"role_id": ""}, 400),
        ("role/missing/role-id", {"role_id": "x"}, 400),
        ("role/missing/secret-id", {}, 400),
        ("role/base/secret-id", {"metadata": "not json"}, 400),
        ("role/base/secret-id", {"metadata": '{"a": 1}'}, 400),
        ("role/base/secret-id", {"cidr_list": ["nope"]}, 400),
        ("role/base/secret-id", {"token_bound_cidrs": ["10.0.0.0/8"]}, 400),
        ("role/base/secret-id", {"num_uses": -1}, 400),
        ("role/limited/secret-id", {"num_uses": 9}, 400),  # more than the role's
        ("role/limited/secret-id", {"ttl": "2h"}, 400),  # longer than the role's
        ("role/limited/secret-id", {"cidr_list": ["192.168.0.0/16"]}, 400),  # outside the role's
        ("role/base/custom-secret-id", {"secret_id": "already-there"}, 400),
        ("role/base/custom-secret-id", {}, 400),
        ("role/base/secret-id-accessor/lookup", {"secret_id_accessor": "unknown"}, 404),
        ("role/base/secret-id-accessor/destroy", {"secret_id_accessor": "unknown"}, 404),
        ("login", {"role_id": "taken-role-id"}, 400),  # secret ID missing
        ("login", {"role_id": "taken-role-id", "secret_id": "wrong"}, 400),
        ("login", {"role_id": "no-such-role-id", "secret_id": "already-there"}, 400),
        ("login", {}, 400),
    ],
)
def test_refusals_leave_store_unchanged(
    server: tuple[Server, Path], path: str, body: dict[str, object], status: int
) -> None:
    srv, store = server
    ar = _approle(srv)
    if "base" not in (ar.list_roles(mount_point=MOUNT)["data"]["keys"] if _has_roles(srv) else []):
        created = srv.request("POST", f"auth/{MOUNT}/role/base", json={"role_id": "taken-role-id"})
        assert created.status_code == 204
        ar.create_custom_secret_id("base", "already-there", mount_point=MOUNT)
        ar.create_or_update_approle(
            "limited",
            secret_id_num_uses=2,
            secret_id_ttl="1h",
            secret_id_bound_cidrs=["10.0.0.0/8"],
            mount_point=MOUNT,
        )
    token = None if path == "login" else "root"
    unchanged(store, lambda: srv.request("POST", f"auth/{MOUNT}/{path}", token=token, json=body), status)


def _has_roles(srv: Server) -> bool:
    return srv.request("LIST", f"auth/{MOUNT}/role").status_code == 200


def test_role_writes_need_a_grant(server: tuple[Server, Path]) -> None:
    srv, store = server
    token = srv.client().auth.token.create(policies=["default"])["auth"]["client_token"]
    unchanged(store, lambda: srv.request("POST", f"auth/{MOUNT}/role/x", token=token, json={}), 403)
