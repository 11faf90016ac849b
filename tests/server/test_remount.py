"""``sys/remount`` (hvac's ``sys.move_backend``, ``vault secrets move``, ``vault auth move``) and
``sys/remount/status/<id>``: a moved mount keeps its data under the new path."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import hvac
import pytest

from tests.server.auth_server import start_file_server, unchanged
from tests.server.conftest import Server
from tests.server.test_postgres import schema_dsn  # noqa: F401 (fixture)
from tests.server.test_shared_store_tokens import config, pair  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(tmp_path_factory.mktemp("remount"))
    yield started, store
    started.stop()


def _status(srv: Server, migration_id: str) -> dict[str, object]:
    response = srv.request("GET", f"sys/remount/status/{migration_id}")
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


def test_move_kv_v2_keeps_versions_and_metadata(server: tuple[Server, Path]) -> None:
    srv, _ = server
    client = srv.client()
    client.sys.enable_secrets_engine("kv", path="kv-a", options={"version": "2"}, description="mine")
    kv = client.secrets.kv.v2
    kv.create_or_update_secret("app/db", secret={"password": "one"}, mount_point="kv-a")
    kv.create_or_update_secret("app/db", secret={"password": "two"}, mount_point="kv-a")
    before = client.sys.list_mounted_secrets_engines()["data"]["kv-a/"]
    moved = client.sys.move_backend("kv-a", "kv-b")
    migration_id = moved["data"]["migration_id"]
    assert _status(srv, migration_id) == {
        "migration_id": migration_id,
        "migration_info": {"source_mount": "kv-a/", "target_mount": "kv-b/", "status": "success"},
    }
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    assert "kv-a/" not in mounts and mounts["kv-b/"] == before  # same accessor, uuid, options
    assert kv.read_secret_version("app/db", mount_point="kv-b", raise_on_deleted_version=True)["data"][
        "data"
    ] == {"password": "two"}
    first = kv.read_secret_version("app/db", version=1, mount_point="kv-b", raise_on_deleted_version=True)
    assert first["data"]["data"] == {"password": "one"}
    assert kv.read_secret_metadata("app/db", mount_point="kv-b")["data"]["current_version"] == 2
    assert srv.request("GET", "kv-a/data/app/db").status_code == 404


def test_a_new_mount_at_the_old_path_starts_empty(server: tuple[Server, Path]) -> None:
    srv, _ = server
    client = srv.client()
    client.sys.enable_secrets_engine("kv", path="kv-old", options={"version": "1"})
    client.secrets.kv.v1.create_or_update_secret("k", secret={"v": "moved"}, mount_point="kv-old")
    client.sys.move_backend("kv-old", "kv-new")
    client.sys.enable_secrets_engine("kv", path="kv-old", options={"version": "1"})
    assert srv.request("GET", "kv-old/k").status_code == 404
    client.secrets.kv.v1.create_or_update_secret("k", secret={"v": "fresh"}, mount_point="kv-old")
    assert client.secrets.kv.v1.read_secret("k", mount_point="kv-new")["data"] == {"v": "moved"}
    assert client.secrets.kv.v1.read_secret("k", mount_point="kv-old")["data"] == {"v": "fresh"}
    # Disabling the moved mount deletes its data, not the new one's.
    client.sys.disable_secrets_engine("kv-new")
    assert client.secrets.kv.v1.read_secret("k", mount_point="kv-old")["data"] == {"v": "fresh"}


def test_move_transit_keeps_its_keys(server: tuple[Server, Path]) -> None:
    srv, _ = server
    client = srv.client()
    client.sys.enable_secrets_engine("transit", path="tr-a")
    client.adapter.post("/v1/tr-a/keys/orders", json={"type": "ml-kem-768"})  # hvac checks key_type
    plaintext = base64.b64encode(b"card 4111").decode()
    ciphertext = client.secrets.transit.encrypt_data("orders", plaintext, mount_point="tr-a")["data"][
        "ciphertext"
    ]
    client.sys.move_backend("tr-a", "team/tr-b")  # into a deeper path
    decrypted = client.secrets.transit.decrypt_data("orders", ciphertext, mount_point="team/tr-b")
    assert decrypted["data"]["plaintext"] == plaintext


def test_move_an_auth_method(server: tuple[Server, Path]) -> None:
    """Users stay; as in Vault (which revokes the leases under the old path), the tokens its
    logins issued are revoked."""
    srv, _ = server
    client = srv.client()
    client.sys.enable_auth_method("userpass", path="up-a")
    client.auth.userpass.create_or_update_user("alice", "correct horse", mount_point="up-a")
    token = srv.client(token="").auth.userpass.login("alice", "correct horse", mount_point="up-a")
    before = client.sys.list_auth_methods()["data"]["up-a/"]
    moved = client.sys.move_backend("auth/up-a", "auth/up-b")
    assert _status(srv, moved["data"]["migration_id"])["migration_info"] == {
        "source_mount": "auth/up-a/",
        "target_mount": "auth/up-b/",
        "status": "success",
    }
    methods = client.sys.list_auth_methods()["data"]
    assert "up-a/" not in methods and methods["up-b/"] == before
    assert (
        srv.request("GET", "auth/token/lookup-self", token=token["auth"]["client_token"]).status_code == 403
    )
    again = srv.client(token="").auth.userpass.login("alice", "correct horse", mount_point="up-b")
    assert again["auth"]["metadata"] == {"username": "alice"}
    assert srv.request("POST", "auth/up-a/login/alice", token=None, json={"password": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"from": "secret-x"}, "both 'from' and 'to' path must be specified as a string"),
        ({"from": "nothing-here", "to": "x"}, "no matching mount at 'nothing-here/'"),
        ({"from": "kv-src", "to": "kv-src"}, "path already in use at 'kv-src/'"),
        ({"from": "kv-src", "to": "kv-dst/inner"}, "path already in use at 'kv-dst/'"),
        ({"from": "kv-src", "to": "sys/x"}, "cannot remount to destination 'sys/x/'"),
        ({"from": "kv-src", "to": "auth/x"}, "cannot remount to destination 'auth/x/'"),
        ({"from": "sys", "to": "y"}, "cannot remount 'sys/'"),
        ({"from": "cubbyhole", "to": "y"}, "cannot remount 'cubbyhole/'"),
        ({"from": "auth/token", "to": "auth/t2"}, "cannot remount 'auth/token/'"),
        ({"from": "auth/up-src", "to": "auth/token/x"}, "cannot remount to destination 'auth/token/x/'"),
        (
            {"from": "auth/up-src", "to": "elsewhere"},
            "cannot remount auth mount to non-auth mount 'elsewhere/'",
        ),
        ({"from": " kv-src", "to": "y"}, "'from' path cannot contain trailing whitespace"),
        ({"from": "kv-src", "to": "bad path"}, None),
    ],
)
def test_refused_moves_change_nothing(
    server: tuple[Server, Path], body: dict[str, str], message: str | None
) -> None:
    srv, store = server
    client = srv.client()
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    if "kv-src/" not in mounts:
        client.sys.enable_secrets_engine("kv", path="kv-src")
        client.sys.enable_secrets_engine("kv", path="kv-dst")
        client.sys.enable_auth_method("userpass", path="up-src")
    response = unchanged(store, partial(srv.request, "POST", "sys/remount", json=body), 400)
    if message is not None:
        assert response.json()["errors"] == [message]


def test_remount_needs_sudo_and_status_needs_read(server: tuple[Server, Path]) -> None:
    srv, store = server
    client = srv.client()
    client.sys.enable_secrets_engine("kv", path="kv-sudo")
    no_sudo = {
        "path": {
            "sys/remount": {"capabilities": ["update"]},
            "sys/remount/status/*": {"capabilities": ["read"]},
        }
    }
    client.sys.create_or_update_policy("remount-no-sudo", json.dumps(no_sudo))
    token = client.auth.token.create(policies=["remount-no-sudo"])["auth"]["client_token"]
    move = {"from": "kv-sudo", "to": "kv-sudo2"}
    unchanged(store, partial(srv.request, "POST", "sys/remount", token=token, json=move), 403)
    migration_id = client.sys.move_backend("kv-sudo", "kv-sudo2")["data"]["migration_id"]
    assert srv.request("GET", f"sys/remount/status/{migration_id}", token=token).status_code == 200
    other = client.auth.token.create(policies=["default"])["auth"]["client_token"]
    assert srv.request("GET", f"sys/remount/status/{migration_id}", token=other).status_code == 403


def test_unknown_migration_id_is_404(server: tuple[Server, Path]) -> None:
    srv, _ = server
    assert srv.request("GET", "sys/remount/status/00000000-0000-4000-8000-000000000000").status_code == 404
    assert srv.request("GET", "sys/remount/status/not-an-id").status_code == 404


def test_hvac_generic_client(server: tuple[Server, Path]) -> None:
    """What Terraform's provider and the Go client do: POST sys/remount, then poll the status."""
    srv, _ = server
    client: hvac.Client = srv.client()
    client.sys.enable_secrets_engine("kv", path="kv-go", options={"version": "2"})
    started = client.write_data("sys/remount", data={"from": "kv-go/", "to": "kv-go-2/"})
    status = client.read(f"sys/remount/status/{started['data']['migration_id']}")
    assert status["data"]["migration_info"]["status"] == "success"


def test_the_other_process_serves_the_new_path_at_once(pair: tuple[Server, Server, str]) -> None:  # noqa: F811
    """Two servers on one store (SQLite, PostgreSQL): a move on one is in force for the other's
    very next request, and either answers the status."""
    first, second, root = pair
    moved = first.request("POST", "sys/remount", token=root, json={"from": "transit", "to": "moved-transit"})
    assert moved.status_code == 200, moved.text
    assert second.request("GET", "moved-transit/keys/shared", token=root).status_code == 200
    assert second.request("GET", "transit/keys/shared", token=root).status_code == 404
    status = second.request("GET", f"sys/remount/status/{moved.json()['data']['migration_id']}", token=root)
    assert status.json()["data"]["migration_info"]["status"] == "success"
