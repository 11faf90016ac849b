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
