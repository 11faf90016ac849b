"""Tokens by accessor, LIST accessors, revoke-orphan and tidy (issue 23), with hvac and raw HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import hvac.exceptions
import pytest

from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.server.state import records
from secretumvault.server.state.shares import vault_key_to_share
from tests.server.conftest import Server, start_server, unchanged, write_config

MINTER = json.dumps({"path": {"auth/token/create": {"capabilities": ["update"]}}})
# Everything on auth/token/* but sudo: LIST accessors and revoke-orphan need sudo.
NO_SUDO = json.dumps(
    {"path": {"auth/token/*": {"capabilities": ["create", "read", "update", "delete", "list"]}}}
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, str]]:
    tmp = tmp_path_factory.mktemp("token-accessors")
    store = tmp / "vault.db"
    started = start_server(["-c", str(write_config(tmp / "server.toml", store))], tmp / "server.log")
    init = started.client(token="").sys.initialize(secret_shares=1, secret_threshold=1)
    started.client(token="").sys.submit_unseal_key(init["keys"][0])
    started.root_token = init["root_token"]
    started.client().sys.create_or_update_policy("minter", MINTER)
    started.client().sys.create_or_update_policy("no-sudo", NO_SUDO)
    yield started, store, init["keys"][0]
    started.stop()


def _create(server: Server, parent: str = "root", **body: object) -> dict[str, str]:
    created = server.request("POST", "auth/token/create", token=parent, json={"policies": ["minter"], **body})
    assert created.status_code == 200, created.text
    auth = created.json()["auth"]
    return {"token": auth["client_token"], "accessor": auth["accessor"]}


def _alive(server: Server, token: str) -> bool:
    status = server.request("GET", "auth/token/lookup-self", token=token).status_code
    assert status in (200, 403)
    return status == 200


def test_lookup_and_revoke_by_accessor_with_hvac(server: tuple[Server, Path, str]) -> None:
    started, _, _ = server
    client = started.client()
    made = client.auth.token.create(policies=["minter"], ttl="1h")
    accessor = made["auth"]["accessor"]
    lookup = client.auth.token.lookup_accessor(accessor)["data"]
    assert lookup["accessor"] == accessor and lookup["id"] == ""  # never the token itself
    assert lookup["policies"] == ["minter", "default"]
    client.auth.token.revoke_accessor(accessor)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        client.auth.token.lookup_accessor(accessor)
    with pytest.raises(hvac.exceptions.Forbidden):
        started.client(made["auth"]["client_token"]).auth.token.lookup_self()


def test_renew_by_accessor(server: tuple[Server, Path, str]) -> None:
    started, _, _ = server
    made = _create(started, ttl="1h", explicit_max_ttl="3h")
    renewed = started.client().auth.token.renew_accessor(made["accessor"], increment="2h")
    assert renewed["auth"]["client_token"] == "" and renewed["auth"]["accessor"] == made["accessor"]
    assert renewed["auth"]["lease_duration"] == 7200
    data = started.client().auth.token.lookup_accessor(made["accessor"])["data"]
    assert "last_renewal_time" in data


def test_unknown_accessor_is_400_and_stores_nothing(server: tuple[Server, Path, str]) -> None:
    started, store, _ = server
    for path in ("lookup-accessor", "renew-accessor", "revoke-accessor"):
        for accessor in ("nope", "a/b", "x" * 300):
            response = unchanged(
                store,
                lambda p=path, a=accessor: started.request("POST", f"auth/token/{p}", json={"accessor": a}),
            )
            assert response.status_code == 400 and response.json()["errors"] == ["invalid accessor"]
        missing = unchanged(store, lambda p=path: started.request("POST", f"auth/token/{p}", json={}))
        assert missing.status_code == 400 and missing.json()["errors"] == ["missing accessor"]


def test_revoking_by_accessor_revokes_the_tree(server: tuple[Server, Path, str]) -> None:
    started, _, _ = server
    parent = _create(started)
    child = _create(started, parent["token"])
    assert (
        started.request(
            "POST", "auth/token/revoke-accessor", json={"accessor": parent["accessor"]}
        ).status_code
        == 204
    )
    assert not _alive(started, child["token"])
    assert (
        started.request(
            "POST", "auth/token/lookup-accessor", json={"accessor": child["accessor"]}
        ).status_code
        == 400
    )


def test_list_accessors_needs_sudo(server: tuple[Server, Path, str]) -> None:
    started, store, _ = server
    made = _create(started)
    keys = started.client().auth.token.list_accessors()["data"]["keys"]
    assert made["accessor"] in keys
    holder = _create(started, policies=["no-sudo"])["token"]
    refused = unchanged(store, lambda: started.request("LIST", "auth/token/accessors", token=holder))
    assert refused.status_code == 403
    started.client().auth.token.revoke_accessor(made["accessor"])
    assert made["accessor"] not in started.client().auth.token.list_accessors()["data"]["keys"]


def test_revoke_orphan_keeps_the_children_as_orphans(server: tuple[Server, Path, str]) -> None:
    started, store, _ = server
    parent = _create(started)
    child = _create(started, parent["token"])
    grandchild = _create(started, child["token"])
    holder = _create(started, policies=["no-sudo"])["token"]
    body = {"token": parent["token"]}
    refused = unchanged(
        store, lambda: started.request("POST", "auth/token/revoke-orphan", token=holder, json=body)
    )
    assert refused.status_code == 403
    started.client().auth.token.revoke_and_orphan_children(parent["token"])
    assert not _alive(started, parent["token"])
    assert _alive(started, child["token"]) and _alive(started, grandchild["token"])
    assert started.client().auth.token.lookup(child["token"])["data"]["orphan"] is True
    assert started.client().auth.token.lookup(grandchild["token"])["data"]["orphan"] is False
    # The orphan is a tree root now: revoking it still takes its own children.
    started.client().auth.token.revoke(child["token"])
    assert not _alive(started, grandchild["token"])


def test_revoked_tokens_accessors_never_resolve_under_concurrent_creation(
    server: tuple[Server, Path, str],
) -> None:
    started, _, _ = server
    parent = _create(started)
    made: list[dict[str, str]] = []
    lock = threading.Lock()

    def mint() -> None:
        for _ in range(10):
            response = started.request(
                "POST", "auth/token/create", token=parent["token"], json={"policies": ["minter"]}
            )
            if response.status_code == 200:
                auth = response.json()["auth"]
                with lock:
                    made.append({"token": auth["client_token"], "accessor": auth["accessor"]})

    threads = [threading.Thread(target=mint) for _ in range(4)]
    for thread in threads:
        thread.start()
    revoked = started.request("POST", "auth/token/revoke-accessor", json={"accessor": parent["accessor"]})
    for thread in threads:
        thread.join()
    assert revoked.status_code == 204
    listed = set(started.client().auth.token.list_accessors()["data"]["keys"])
    for child in made:
        assert not _alive(started, child["token"])
        assert child["accessor"] not in listed
        lookup = started.request("POST", "auth/token/lookup-accessor", json={"accessor": child["accessor"]})
        assert lookup.status_code == 400


def test_tidy_indexes_old_tokens_and_removes_what_a_crash_left(server: tuple[Server, Path, str]) -> None:
    started, store, key = server
    made = _create(started)
    keystore = Keystore(SQLiteStorage(store))
    try:
        keystore.unseal_share(vault_key_to_share(key))
        # A token made before the index existed has no entry; a crash may leave an entry
        # for a token that is gone (written long ago: tidy leaves young ones to creations).
        keystore.delete("sys/token/accessor/" + made["accessor"])
        keystore.put(
            "sys/token/accessor/dangling", records.dump("token-link", {"hash": "0" * 64, "created": 1})
        )
        keystore.put("sys/token/parent/" + "1" * 64 + "/" + "2" * 64, b"")
    finally:
        keystore.seal()
    lookup = started.request("POST", "auth/token/lookup-accessor", json={"accessor": made["accessor"]})
    assert lookup.status_code == 400
    tidied = started.request("POST", "auth/token/tidy")
    assert tidied.status_code == 202, tidied.text
    done = tidied.json()["data"]["tidied"]
    assert done["indexed"] >= 1 and done["accessors_removed"] == 1 and done["links_removed"] == 1
    assert (
        started.client().auth.token.lookup_accessor(made["accessor"])["data"]["accessor"] == made["accessor"]
    )
    assert "dangling" not in started.client().auth.token.list_accessors()["data"]["keys"]
    # Nothing left to do the second time.
    again = started.request("POST", "auth/token/tidy").json()["data"]["tidied"]
    assert set(again.values()) == {0}
