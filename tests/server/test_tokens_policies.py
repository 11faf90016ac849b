"""Tokens (create, lookup, renew, revoke, the token tree) and ACL policies (JSON and HCL, deny by default)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import hvac
import pytest
from hvac.exceptions import Forbidden, InvalidRequest

from tests.server.conftest import Server

ENCRYPT_ONLY = {
    "path": {
        "transit/encrypt/app-*": {"capabilities": ["update"]},
        "transit/keys/app-key": {"capabilities": ["read"]},
        "transit/keys/app-secret": {"capabilities": ["deny"]},
        "transit/keys/+": {"capabilities": ["read"]},
    }
}
HCL_POLICY = """
# readers of the kv mount
path "secret/data/team/*" {
  capabilities = ["read", "list"]
}
path "secret/metadata/team/*" { capabilities = ["list"] }
"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_policy_crud_json_and_hcl(client: hvac.Client) -> None:
    client.sys.create_or_update_policy("encrypt-only", json.dumps(ENCRYPT_ONLY))
    client.sys.create_or_update_acl_policy("team-reader", HCL_POLICY)
    assert json.loads(client.sys.read_policy("encrypt-only")["data"]["rules"]) == ENCRYPT_ONLY
    assert client.sys.read_acl_policy("team-reader")["data"]["policy"] == HCL_POLICY
    names = client.sys.list_policies()["data"]["policies"]
    assert {"root", "default", "encrypt-only", "team-reader"} <= set(names)
    assert "team-reader" in client.sys.list_acl_policies()["data"]["keys"]
    with pytest.raises(InvalidRequest):
        client.sys.create_or_update_policy("bad", '{"path": {"x": {"capabilities": ["fly"]}}}')
    with pytest.raises(InvalidRequest):
        client.sys.create_or_update_policy("root", json.dumps(ENCRYPT_ONLY))
    with pytest.raises(InvalidRequest):
        client.sys.delete_policy("default")
    client.sys.create_or_update_policy("temporary", json.dumps(ENCRYPT_ONLY))
    client.sys.delete_policy("temporary")
    assert "temporary" not in client.sys.list_policies()["data"]["policies"]


def test_token_limited_by_its_policy(dev_server: Server, client: hvac.Client) -> None:
    client.sys.create_or_update_policy("encrypt-only", json.dumps(ENCRYPT_ONLY))
    client.adapter.post("/v1/transit/keys/app-key", json={"type": "ml-kem-768"})
    client.adapter.post("/v1/transit/keys/app-secret", json={"type": "aes256-gcm96"})
    created = client.auth.token.create(policies=["encrypt-only"], ttl="1h")["auth"]
    token = created["client_token"]
    assert created["policies"] == ["encrypt-only", "default"] and created["lease_duration"] == 3600
    app = dev_server.client(token=token)
    assert app.secrets.transit.encrypt_data("app-key", b64(b"x"))["data"]["ciphertext"]
    assert app.secrets.transit.read_key("app-key")["data"]["type"] == "ml-kem-768"
    forbidden: Callable[[], object]
    for forbidden in (
        lambda: app.secrets.transit.decrypt_data("app-key", "vault:v1:AAAA"),  # no rule: denied
        lambda: app.secrets.transit.read_key("app-secret"),  # exact deny beats the + glob
        lambda: app.secrets.transit.encrypt_data("other", b64(b"x")),  # outside the glob
        lambda: app.sys.list_mounted_secrets_engines(),
        lambda: app.auth.token.create(policies=["root"]),
    ):
        with pytest.raises(Forbidden):
            forbidden()
    # The glob grants update, not create: encrypt cannot create a key (Vault's upsert needs create).
    with pytest.raises(Forbidden):
        app.secrets.transit.encrypt_data("app-new", b64(b"x"))
    caps = app.adapter.post("/v1/sys/capabilities-self", json={"paths": ["transit/encrypt/app-key"]})
    assert caps["data"]["capabilities"] == ["update"]


def test_lookup_renew_revoke_self(dev_server: Server, client: hvac.Client) -> None:
    token = client.auth.token.create(policies=["default"], ttl="10m", renewable=True)["auth"]["client_token"]
    own = dev_server.client(token=token)
    looked = own.auth.token.lookup_self()["data"]
    assert looked["id"] == token and looked["renewable"] is True and 0 < looked["ttl"] <= 600
    renewed = own.auth.token.renew_self(increment="1h")["auth"]
    assert 3500 < renewed["lease_duration"] <= 3600
    assert client.auth.token.lookup(token)["data"]["policies"] == ["default"]
    own.auth.token.revoke_self()
    with pytest.raises(Forbidden):
        own.auth.token.lookup_self()


def test_revoking_a_parent_revokes_its_children(dev_server: Server, client: hvac.Client) -> None:
    maker = {"path": {"auth/token/create": {"capabilities": ["update"]}}}
    client.sys.create_or_update_policy("token-maker", json.dumps(maker))
    parent = client.auth.token.create(policies=["token-maker"], ttl="1h")["auth"]["client_token"]
    child = dev_server.client(token=parent).auth.token.create(ttl="1h")["auth"]["client_token"]
    with pytest.raises(Forbidden):  # a child's policies are a subset of its parent's
        dev_server.client(token=parent).auth.token.create(policies=["encrypt-only"])
    assert dev_server.client(token=child).auth.token.lookup_self()["data"]["orphan"] is False
    client.auth.token.revoke(parent)
    for token in (parent, child):
        with pytest.raises(Forbidden):
            dev_server.client(token=token).auth.token.lookup_self()


def test_missing_wrong_and_bearer_tokens(dev_server: Server) -> None:
    assert dev_server.request("GET", "transit/keys/x", token=None).status_code == 403
    assert dev_server.request("GET", "transit/keys/x", token="hvs.not-a-token").status_code == 403
    bearer = {"Authorization": f"Bearer {dev_server.root_token}"}
    assert dev_server.request("GET", "sys/mounts", token=None, headers=bearer).status_code == 200
    # No token: unknown paths do not reveal that they are unknown.
    assert dev_server.request("GET", "no/such/path", token=None).status_code == 403


def test_non_renewable_and_short_tokens(dev_server: Server, client: hvac.Client) -> None:
    token = client.auth.token.create(policies=["default"], ttl="30s", renewable=False)["auth"]["client_token"]
    with pytest.raises(InvalidRequest):
        dev_server.client(token=token).auth.token.renew_self()
    with pytest.raises(InvalidRequest):
        client.auth.token.create(policies=["default"], num_uses=3)
