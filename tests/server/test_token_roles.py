"""Token roles and periodic tokens (issue 23), driven with hvac and raw HTTP as Vault documents them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import hvac
import hvac.exceptions
import pytest

from tests.server.conftest import Server, start_file_server, unchanged

READER = json.dumps({"path": {"secret/*": {"capabilities": ["read"]}}})
MINTER = json.dumps({"path": {"auth/token/create*": {"capabilities": ["update"]}}})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(tmp_path_factory.mktemp("token-roles"))
    client = started.client()
    for name, policy in (("reader", READER), ("writer", READER), ("minter", MINTER), ("ops-a", READER)):
        client.sys.create_or_update_policy(name, policy)
    yield started, store
    started.stop()


def _token(server: Server, **body: object) -> str:
    created = server.request("POST", "auth/token/create", json=body)
    assert created.status_code == 200, created.text
    return str(created.json()["auth"]["client_token"])


def test_role_crud_and_list_with_hvac(server: tuple[Server, Path]) -> None:
    started, _ = server
    client = started.client()
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.auth.token.list_roles()
    written = client.auth.token.create_or_update_role(
        "crud", allowed_policies=["reader"], orphan=True, token_period="1h", path_suffix="v1"
    )
    assert written.status_code == 204
    assert client.auth.token.list_roles()["data"]["keys"] == ["crud"]
    data = client.auth.token.read_role("crud")["data"]
    assert data["allowed_policies"] == ["reader"]
    assert data["orphan"] is True and data["renewable"] is True
    assert data["token_period"] == 3600 and data["path_suffix"] == "v1"
    assert data["token_type"] == "default-service"
    # An update changes only what it names (hvac sends every field; a raw request does not).
    assert started.request("POST", "auth/token/roles/crud", json={"renewable": False}).status_code == 204
    data = client.auth.token.read_role("crud")["data"]
    assert data["renewable"] is False and data["allowed_policies"] == ["reader"] and data["orphan"] is True
    assert client.auth.token.delete_role("crud").status_code == 204
    assert started.request("GET", "auth/token/roles/crud").status_code == 404
    assert started.request("LIST", "auth/token/roles").status_code == 404


def test_allowed_policies_replace_the_parent_subset_rule(server: tuple[Server, Path]) -> None:
    started, _ = server
    client = started.client()
    client.auth.token.create_or_update_role("ops", allowed_policies=["reader", "writer"])
    started.request("POST", "auth/token/roles/ops-glob", json={"allowed_policies_glob": ["ops-*"]})
    minter = _token(started, policies=["minter"])  # holds neither reader nor writer
    made = started.client(minter).auth.token.create(role_name="ops", policies=["reader"])
    assert made["auth"]["policies"] == ["default", "reader"]
    lookup = client.auth.token.lookup(made["auth"]["client_token"])["data"]
    assert lookup["role"] == "ops" and lookup["path"] == "auth/token/create/ops"
    # No policies asked: the role's allowed policies, sorted with default, as Vault does.
    made = started.client(minter).auth.token.create(role_name="ops")
    assert made["auth"]["policies"] == ["default", "reader", "writer"]
    made = started.client(minter).auth.token.create(role_name="ops-glob", policies=["ops-a"])
    assert made["auth"]["policies"] == ["default", "ops-a"]
    refused = started.request("POST", "auth/token/create/ops", token=minter, json={"policies": ["minter"]})
    assert refused.status_code == 400 and "allowed policies" in refused.json()["errors"][0]


def test_without_allowed_policies_the_parent_rule_holds(server: tuple[Server, Path]) -> None:
    started, store = server
    started.client().auth.token.create_or_update_role("plain")
    minter = _token(started, policies=["minter"])
    body = {"policies": ["reader"]}
    refused = unchanged(
        store, lambda: started.request("POST", "auth/token/create/plain", token=minter, json=body)
    )
    assert refused.status_code == 400 and "parent token's policies" in refused.json()["errors"][0]
    made = started.client(minter).auth.token.create(role_name="plain")
    assert made["auth"]["policies"] == ["default", "minter"]


def test_disallowed_policies_and_default(server: tuple[Server, Path]) -> None:
    started, store = server
    client = started.client()
    client.auth.token.create_or_update_role("no-writer", disallowed_policies=["writer", "default"])
    refused = unchanged(
        store, lambda: started.request("POST", "auth/token/create/no-writer", json={"policies": ["writer"]})
    )
    assert refused.status_code == 400 and "disallowed" in refused.json()["errors"][0]
    # Naming default there keeps it off the token.
    made = client.auth.token.create(role_name="no-writer", policies=["reader"])
    assert made["auth"]["policies"] == ["reader"]


def test_orphan_role_needs_no_sudo(server: tuple[Server, Path]) -> None:
    started, _ = server
    started.client().auth.token.create_or_update_role("orphans", allowed_policies=["reader"], orphan=True)
    minter = _token(started, policies=["minter"])
    made = started.client(minter).auth.token.create(role_name="orphans")
    assert made["auth"]["orphan"] is True
    # Without the role, an orphan needs root or sudo.
    direct = started.request("POST", "auth/token/create", token=minter, json={"no_parent": True})
    assert direct.status_code == 403
    # An orphan outlives its creator.
    started.client().auth.token.revoke(minter)
    assert started.client().auth.token.lookup(made["auth"]["client_token"])["data"]["orphan"] is True


def test_role_period_and_explicit_max_ttl(server: tuple[Server, Path]) -> None:
    started, _ = server
    client = started.client()
    client.auth.token.create_or_update_role(
        "periodic", allowed_policies=["reader"], token_period="30m", token_explicit_max_ttl="1h"
    )
    minter = _token(started, policies=["minter"])
    made = started.client(minter).auth.token.create(role_name="periodic", ttl="5m")
    assert made["auth"]["lease_duration"] == 1800
    data = client.auth.token.lookup(made["auth"]["client_token"])["data"]
    assert data["period"] == 1800 and data["explicit_max_ttl"] == 3600
    client.auth.token.create_or_update_role(
        "capped", allowed_policies=["reader"], token_explicit_max_ttl="10m"
    )
    made = client.auth.token.create(role_name="capped", ttl="1h")
    assert made["auth"]["lease_duration"] == 600


def test_role_not_renewable(server: tuple[Server, Path]) -> None:
    started, _ = server
    client = started.client()
    client.auth.token.create_or_update_role("fixed", allowed_policies=["reader"], renewable=False)
    made = client.auth.token.create(role_name="fixed", ttl="1h")
    assert made["auth"]["renewable"] is False
    renewed = started.request("POST", "auth/token/renew", json={"token": made["auth"]["client_token"]})
    assert renewed.status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"token_type": "batch"}, "batch tokens are not supported"),
        ({"token_type": "default-batch"}, "batch tokens are not supported"),
        ({"token_type": "odd"}, "invalid 'token_type'"),
        ({"allowed_entity_aliases": ["alias-a"]}, "allowed_entity_aliases is not supported"),
        ({"token_bound_cidrs": ["10.0.0.0/8"]}, "token_bound_cidrs is not supported"),
        ({"token_num_uses": 3}, "token_num_uses is not supported"),
        ({"path_suffix": "a/../b"}, "path_suffix"),
        ({"allowed_policies": ["bad name"]}, "allowed_policies"),
        ({"token_period": "soon"}, "token_period"),
    ],
)
def test_unsupported_role_settings_are_refused(
    server: tuple[Server, Path], body: dict[str, object], message: str
) -> None:
    started, store = server
    refused = unchanged(store, lambda: started.request("POST", "auth/token/roles/refused", json=body))
    assert refused.status_code == 400, refused.text
    assert message in refused.json()["errors"][0]


def test_unknown_role_and_entity_alias(server: tuple[Server, Path]) -> None:
    started, store = server
    unknown = unchanged(store, lambda: started.request("POST", "auth/token/create/nope", json={}))
    assert unknown.status_code == 400 and unknown.json()["errors"] == ["unknown role"]
    started.client().auth.token.create_or_update_role("aliased", allowed_policies=["reader"])
    body = {"entity_alias": "someone"}
    alias = unchanged(store, lambda: started.request("POST", "auth/token/create/aliased", json=body))
    assert alias.status_code == 400 and "not supported" in alias.json()["errors"][0]


def test_periodic_tokens_need_sudo_without_a_role(server: tuple[Server, Path]) -> None:
    started, store = server
    minter = _token(started, policies=["minter"])
    body = {"period": "30m", "policies": ["minter"]}
    refused = unchanged(store, lambda: started.request("POST", "auth/token/create", token=minter, json=body))
    assert refused.status_code == 400 and "sudo" in refused.json()["errors"][0]
    sudo = json.dumps({"path": {"auth/token/create": {"capabilities": ["update", "sudo"]}}})
    started.client().sys.create_or_update_policy("create-sudo", sudo)
    holder = _token(started, policies=["create-sudo"])
    made = started.client(holder).auth.token.create(period="30m", policies=["create-sudo"])
    assert made["auth"]["lease_duration"] == 1800


def test_periodic_token_renews_to_its_period(server: tuple[Server, Path]) -> None:
    started, _ = server
    client = started.client()
    made = client.auth.token.create(period="30m", policies=["reader"])
    token = made["auth"]["client_token"]
    assert made["auth"]["lease_duration"] == 1800 and made["auth"]["renewable"] is True
    assert client.auth.token.lookup(token)["data"]["period"] == 1800
    # The increment asked for is ignored: a periodic token renews by its period.
    renewed = client.auth.token.renew(token, increment="10h")
    assert renewed["auth"]["lease_duration"] == 1800
    # Unlike others, it outlives the 32-day system maximum while renewed: no cap but explicit_max_ttl.
    capped = client.auth.token.create(period="30m", explicit_max_ttl="40m", policies=["reader"])
    assert capped["auth"]["lease_duration"] == 1800
    data = client.auth.token.lookup(capped["auth"]["client_token"])["data"]
    assert data["explicit_max_ttl"] == 2400
    renewed = client.auth.token.renew(capped["auth"]["client_token"])
    assert renewed["auth"]["lease_duration"] <= 2400
