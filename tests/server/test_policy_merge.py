"""Policies under attack (issue 22 items 4-5, issue 29's nested policies).

Rules given twice for one path merge, and deny wins, in HCL and in JSON with a
repeated key; a policy nested thousands deep is a 400, not a RecursionError;
``sys/internal/ui/mounts`` tells a token only of mounts it has a capability on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from secretumvault.server.errors import HttpError
from secretumvault.server.state.policy import Acl, parse_policy
from tests.server.conftest import Server, start_dev_server

HCL_DUPLICATE = """
path "secret/data/dup/*" { capabilities = ["deny"] }
path "secret/data/dup/*" { capabilities = ["read"] }
"""
JSON_DUPLICATE = (
    '{"path": {"secret/data/dup/*": {"capabilities": ["deny"]},'
    ' "secret/data/dup/*": {"capabilities": ["read"]}}}'
)
JSON_REPEATED_PATH_KEY = (
    '{"path": {"secret/data/dup/*": {"capabilities": ["deny"]}},'
    ' "path": {"secret/data/dup/*": {"capabilities": ["read"]}}}'
)


@pytest.mark.parametrize("text", [HCL_DUPLICATE, JSON_DUPLICATE, JSON_REPEATED_PATH_KEY])
def test_rules_for_one_path_merge_and_deny_wins(text: str) -> None:
    acl = Acl(parse_policy(text))
    assert acl.capabilities("secret/data/dup/x") == frozenset({"deny"})
    assert not acl.allows("secret/data/dup/x", "read")


def test_capabilities_of_one_path_add_up() -> None:
    text = '{"path": {"a/b": {"capabilities": ["read"]}, "a/b": {"capabilities": ["list"]}}}'
    assert Acl(parse_policy(text)).capabilities("a/b") == frozenset({"read", "list"})


@pytest.mark.parametrize(
    "text",
    [
        "[" * 3000,
        "{" * 3000,
        '{"path": ' * 1000 + "{}" + "}" * 1000,
        'path "a" { capabilities = ' + "[" * 3000 + "]" * 3000 + " }",
    ],
)
def test_deeply_nested_policies_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(HttpError) as refused:
        parse_policy(text)
    assert refused.value.status == 400
    assert "nested" in refused.value.messages[0]


def test_nan_in_a_json_policy_is_not_json() -> None:
    with pytest.raises(HttpError):
        parse_policy('{"path": {"a": {"capabilities": NaN}}}')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_dev_server(tmp_path_factory.mktemp("policy"))
    yield started
    started.stop()


def _token(server: Server, *policies: str) -> str:
    created = server.request("POST", "auth/token/create", json={"policies": list(policies), "ttl": "1h"})
    assert created.status_code == 200, created.text
    return str(created.json()["auth"]["client_token"])


@pytest.mark.parametrize("name,text", [("dup-hcl", HCL_DUPLICATE), ("dup-json", JSON_DUPLICATE)])
def test_a_repeated_deny_holds_over_http(server: Server, name: str, text: str) -> None:
    assert server.request("PUT", f"sys/policies/acl/{name}", json={"policy": text}).status_code == 204
    written = server.request("POST", "secret/data/dup/x", json={"data": {"k": "v"}})
    assert written.status_code == 200
    token = _token(server, name)
    assert server.request("GET", "secret/data/dup/x", token=token).status_code == 403
    caps = server.request("POST", "sys/capabilities-self", token=token, json={"paths": ["secret/data/dup/x"]})
    assert caps.json()["data"]["capabilities"] == ["deny"]


@pytest.mark.parametrize("route", ["sys/policy/deep", "sys/policies/acl/deep"])
@pytest.mark.parametrize("text", ["[" * 3000, '{"path": ' * 1000 + "{}" + "}" * 1000])
def test_a_nested_policy_is_a_400_and_not_stored(server: Server, route: str, text: str) -> None:
    refused = server.request("PUT", route, json={"policy": text})
    assert refused.status_code == 400, refused.text
    assert "nested" in refused.json()["errors"][0]
    assert server.request("GET", route).status_code == 404


def test_ui_mounts_tells_a_token_only_of_mounts_it_may_use(server: Server) -> None:
    plain = _token(server, "default")  # the default policy only
    for path in ("secret/x", "transit/x", "nowhere/x", "pki"):
        answer = server.request("GET", f"sys/internal/ui/mounts/{path}", token=plain)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json() == {"errors": ["permission denied"]}
    policy = {"path": {"secret/data/team/*": {"capabilities": ["read"]}}}
    assert server.request("PUT", "sys/policies/acl/team", json={"policy": json.dumps(policy)}).ok
    team = _token(server, "team")
    found = server.request("GET", "sys/internal/ui/mounts/secret/data/team/db", token=team)
    assert found.status_code == 200 and found.json()["data"]["path"] == "secret/"
    assert server.request("GET", "sys/internal/ui/mounts/transit/x", token=team).status_code == 403
    denied = {"path": {"transit/*": {"capabilities": ["deny"]}}}
    assert server.request("PUT", "sys/policies/acl/no-transit", json={"policy": json.dumps(denied)}).ok
    no_transit = _token(server, "no-transit")
    assert server.request("GET", "sys/internal/ui/mounts/transit", token=no_transit).status_code == 403
    # Root sees every mount, and still gets 403 for one that does not exist.
    assert server.request("GET", "sys/internal/ui/mounts/transit").status_code == 200
    assert server.request("GET", "sys/internal/ui/mounts/nowhere").status_code == 403
