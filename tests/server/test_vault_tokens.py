"""``auth/token/create`` as Vault clients send it (issue 23): empty and zero values mean the
default, as HashiCorp's Go client (``TokenCreateRequest``) always sends them; what this server
cannot do is a 400 that says so, and leaves the raw store unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hvac.exceptions import InvalidRequest

from tests.server.conftest import Server, start_file_server, unchanged

#: What the Go client sends for `vault token create -policy=reader` (its omitempty rules).
GO_CLIENT_BODY: dict[str, Any] = {
    "policies": ["reader"],
    "display_name": "",
    "num_uses": 0,
    "type": "",
    "entity_alias": "",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(tmp_path_factory.mktemp("vault-tokens"))
    reader = json.dumps(
        {
            "path": {
                "auth/token/lookup-self": {"capabilities": ["read"]},
                "auth/token/create": {"capabilities": ["update"]},
            }
        }
    )
    assert started.request("PUT", "sys/policies/acl/reader", json={"policy": reader}).status_code == 204
    yield started, store
    started.stop()


def test_the_go_clients_body_makes_a_default_service_token(server: tuple[Server, Path]) -> None:
    srv, _ = server
    created = srv.request("POST", "auth/token/create", json=GO_CLIENT_BODY)
    assert created.status_code == 200, created.text
    body = created.json()
    auth = body["auth"]
    assert auth["policies"] == ["reader", "default"] and auth["token_type"] == "service"
    assert auth["renewable"] is True and auth["lease_duration"] > 0 and auth["num_uses"] == 0
    assert body["warnings"] is None  # every field the client sent was understood
    looked = srv.request("GET", "auth/token/lookup-self", token=auth["client_token"]).json()["data"]
    assert looked["display_name"] == "token" and looked["num_uses"] == 0 and looked["type"] == "service"


@pytest.mark.parametrize(
    "extra",
    [
        {"type": "service"},
        {"period": ""},
        {"period": 0},
        {"period": "0s"},
        {"ttl": "", "explicit_max_ttl": ""},
        {"meta": None, "id": "", "no_parent": False, "no_default_policy": False},
    ],
)
def test_other_empty_values_are_defaults_too(server: tuple[Server, Path], extra: dict[str, Any]) -> None:
    srv, _ = server
    created = srv.request("POST", "auth/token/create", json={**GO_CLIENT_BODY, **extra})
    assert created.status_code == 200, created.text
    assert created.json()["auth"]["token_type"] == "service"


def test_lease_is_the_old_name_of_ttl(server: tuple[Server, Path]) -> None:
    srv, _ = server
    created = srv.request("POST", "auth/token/create", json={**GO_CLIENT_BODY, "lease": "1h"})
    assert created.json()["auth"]["lease_duration"] == 3600
    both = srv.request("POST", "auth/token/create", json={**GO_CLIENT_BODY, "lease": "1h", "ttl": "2h"})
    assert both.json()["auth"]["lease_duration"] == 7200


def test_hvac_creates_with_its_defaults(server: tuple[Server, Path]) -> None:
    srv, _ = server
    client = srv.client()
    created = client.auth.token.create(policies=["reader"], display_name="", num_uses=0, type="")
    token = created["auth"]["client_token"]
    assert sorted(srv.client(token=token).auth.token.lookup_self()["data"]["policies"]) == [
        "default",
        "reader",
    ]


@pytest.mark.parametrize("body", [b"null", b""])
def test_a_null_or_empty_body_makes_a_child_with_the_parents_policies(
    server: tuple[Server, Path], body: bytes
) -> None:
    srv, _ = server
    parent = srv.request("POST", "auth/token/create", json={"policies": ["reader"]}).json()["auth"][
        "client_token"
    ]
    for method in ("POST", "PUT"):
        child = srv.request(
            method, "auth/token/create", token=parent, data=body, headers={"Content-Type": "application/json"}
        )
        assert child.status_code == 200, child.text
        assert child.json()["auth"]["policies"] == ["reader", "default"]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"type": "batch"}, "batch tokens are not supported"),
        ({"type": "bogus"}, "invalid 'token_type' value"),
        ({"entity_alias": "alice"}, "only allowed in combination with token role"),
        ({"num_uses": -1}, "cannot be negative"),
        ({"num_uses": 3}, "not supported"),
        ({"period": "soon"}, "period must be a duration"),
        ({"lease": "soon"}, "lease must be a duration"),
        ({"type": 7}, "invalid 'token_type' value"),
        ({"type": ["service"]}, "type must be a string"),
    ],
)
def test_what_cannot_be_served_is_a_400_and_stores_nothing(
    server: tuple[Server, Path], extra: dict[str, Any], fragment: str
) -> None:
    srv, store = server
    response = unchanged(
        store, lambda: srv.request("POST", "auth/token/create", json={**GO_CLIENT_BODY, **extra})
    )
    assert response.status_code == 400, response.text
    assert fragment in response.json()["errors"][0]
    if "lease" not in extra:  # hvac has no "lease" parameter
        with pytest.raises(InvalidRequest):
            srv.client().auth.token.create(policies=["reader"], **extra)
