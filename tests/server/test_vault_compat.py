"""Gaps against Vault's API found with hvac: the accessor in the URL, the default policy's
response-wrapping paths."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import hvac.exceptions
import pytest

from tests.server.auth_server import start_file_server, unchanged
from tests.server.conftest import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(tmp_path_factory.mktemp("vault-compat"))
    yield started, store
    started.stop()


def _token(srv: Server, **body: object) -> dict[str, str]:
    response = srv.request("POST", "auth/token/create", json={"ttl": "1h", **body})
    assert response.status_code == 200, response.text
    auth = response.json()["auth"]
    return {"token": auth["client_token"], "accessor": auth["accessor"]}


def test_lookup_accessor_in_the_url(server: tuple[Server, Path]) -> None:
    srv, _ = server
    made = _token(srv, policies=["default"])
    by_url = srv.request("POST", f"auth/token/lookup-accessor/{made['accessor']}")
    assert by_url.status_code == 200, by_url.text
    by_body = srv.client().auth.token.lookup_accessor(made["accessor"])
    for data in (by_url.json()["data"], by_body["data"]):
        assert data["accessor"] == made["accessor"] and data["id"] == ""  # never the token
        assert data["policies"] == ["default"]
    unknown = srv.request("POST", "auth/token/lookup-accessor/not-an-accessor")
    assert unknown.status_code == 400 and unknown.json() == {"errors": ["invalid accessor"]}


def test_revoke_accessor_in_the_url(server: tuple[Server, Path]) -> None:
    srv, _ = server
    made = _token(srv)
    revoked = srv.request("POST", f"auth/token/revoke-accessor/{made['accessor']}")
    assert revoked.status_code == 204, revoked.text
    with pytest.raises(hvac.exceptions.Forbidden):
        srv.client(made["token"]).auth.token.lookup_self()
    with pytest.raises(hvac.exceptions.InvalidRequest):
        srv.client().auth.token.lookup_accessor(made["accessor"])


def test_revoke_accessor_with_hvac(server: tuple[Server, Path]) -> None:
    srv, _ = server
    made = _token(srv)
    srv.client().auth.token.revoke_accessor(made["accessor"])
    with pytest.raises(hvac.exceptions.Forbidden):
        srv.client(made["token"]).auth.token.lookup_self()


def test_accessor_in_url_and_body_must_agree(server: tuple[Server, Path]) -> None:
    srv, store = server
    first, second = _token(srv), _token(srv)
    refused = unchanged(
        store,
        lambda: srv.request(
            "POST", f"auth/token/revoke-accessor/{first['accessor']}", json={"accessor": second["accessor"]}
        ),
        400,
    )
    assert "differ" in refused.json()["errors"][0]
    for made in (first, second):  # both still live
        assert srv.client(made["token"]).auth.token.lookup_self()["data"]["accessor"] == made["accessor"]


def test_tokens_are_never_taken_from_the_url(server: tuple[Server, Path]) -> None:
    """Vault 1.0 dropped ``lookup/<token>`` and ``revoke/<token>``: a token in a URL ends up in logs."""
    srv, _ = server
    made = _token(srv)
    for path in ("lookup", "revoke", "revoke-orphan", "renew"):
        response = srv.request("POST", f"auth/token/{path}/{made['token']}")
        assert response.status_code == 404, (path, response.text)
    assert srv.client(made["token"]).auth.token.lookup_self()["data"]["accessor"] == made["accessor"]


def test_default_policy_has_vaults_wrapping_paths(server: tuple[Server, Path]) -> None:
    """A token with only the default policy wraps, looks up and unwraps, as in Vault."""
    srv, _ = server
    policy = srv.client().sys.read_policy("default")["data"]["rules"]
    for path in ("sys/wrapping/wrap", "sys/wrapping/lookup", "sys/wrapping/unwrap"):
        assert f'"{path}": {{"capabilities": ["update"]}}' in policy
    assert "sys/wrapping/rewrap" not in policy  # not in Vault's default policy either
    made = _token(srv, policies=["default"])
    client = srv.client(made["token"])
    caps = client.sys.get_capabilities(paths=["sys/wrapping/wrap", "sys/wrapping/rewrap"])
    assert caps["sys/wrapping/wrap"] == ["update"] and caps["sys/wrapping/rewrap"] == ["deny"]
    wrapped = client.sys.wrap(payload={"message": "for the other side"}, ttl="2m")["wrap_info"]
    assert wrapped["creation_path"] == "sys/wrapping/wrap" and wrapped["ttl"] == 120
    looked = client.adapter.post("/v1/sys/wrapping/lookup", json={"token": wrapped["token"]})
    assert looked["data"]["creation_path"] == "sys/wrapping/wrap"
    unwrapped = client.sys.unwrap(wrapped["token"])
    assert unwrapped["data"] == {"message": "for the other side"}
    denied = srv.request("POST", "sys/wrapping/wrap", token=made["token"])  # no X-Vault-Wrap-TTL
    assert denied.status_code == 400


# -- status codes where this server differs from Vault on purpose ---------------------------------


def test_a_deleted_pki_issuer_reads_as_404(server: tuple[Server, Path]) -> None:
    """Vault answers 500 ("unable to find PKI issuer for reference"): its resolver's user error is
    not mapped to a 4xx. Here it is a 404 with Vault's words, which hvac's and the Go client's
    generic read take for "gone" (hvac: None; Terraform's provider then drops the resource)."""
    srv, store = server
    client = srv.client()
    client.sys.enable_secrets_engine("pki", path="pki-compat")
    client.secrets.pki.generate_root("internal", "Doomed", mount_point="pki-compat")
    issuer = client.secrets.pki.list_issuers(mount_point="pki-compat")["data"]["keys"][0]
    client.secrets.pki.delete_issuer(issuer, mount_point="pki-compat")
    gone = unchanged(store, lambda: srv.request("GET", f"pki-compat/issuer/{issuer}"), 404)
    assert gone.json()["errors"] == [f"unable to find PKI issuer for reference: {issuer}"]
    assert client.read(f"pki-compat/issuer/{issuer}") is None
    with pytest.raises(hvac.exceptions.InvalidPath):
        client.secrets.pki.read_issuer(issuer, mount_point="pki-compat")
    assert srv.request("DELETE", f"pki-compat/issuer/{issuer}").status_code == 204  # as Vault


def test_transit_backup_and_restore_corner_cases(server: tuple[Server, Path]) -> None:
    srv, store = server
    client = srv.client()
    client.sys.enable_secrets_engine("transit", path="tr-compat")
    transit = client.secrets.transit
    # No backup, or an empty one: Vault's message, 400.
    for body in ({}, {"backup": ""}):
        refused = unchanged(store, partial(srv.request, "POST", "tr-compat/restore", json=body), 400)
        assert refused.json()["errors"] == ["'backup' must be supplied"]
    # A key that is not exportable with plaintext backup allowed is refused (Vault: the same rule).
    srv.request("POST", "tr-compat/keys/closed", json={"type": "aes256-gcm96"})
    closed = unchanged(store, lambda: srv.request("GET", "tr-compat/backup/closed"), 400)
    assert "allow_plaintext_backup" in closed.json()["errors"][0]
    # An unknown key: 404 here (Vault: 500 "key not found").
    unchanged(store, lambda: srv.request("GET", "tr-compat/backup/nothing"), 404)
    # Restore over an existing key without force: 400 here (Vault: 500 "already exists").
    srv.request(
        "POST",
        "tr-compat/keys/open",
        json={"type": "aes256-gcm96", "exportable": True, "allow_plaintext_backup": True},
    )
    ciphertext = transit.encrypt_data("open", "a2VwdA==", mount_point="tr-compat")["data"]["ciphertext"]
    backup = transit.backup_key("open", mount_point="tr-compat")["data"]["backup"]
    existing = unchanged(
        store, lambda: srv.request("POST", "tr-compat/restore", json={"backup": backup}), 400
    )
    assert "already exists" in existing.json()["errors"][0]
    # Not a backup, or a cut one: 400, nothing stored.
    for bad in ("!!!", "aGVsbG8=", backup[:-24]):
        unchanged(store, partial(srv.request, "POST", "tr-compat/restore/cut", json={"backup": bad}), 400)
    # A deleted key comes back from its backup and still decrypts what it made.
    transit.update_key_configuration("open", deletion_allowed=True, mount_point="tr-compat")
    transit.delete_key("open", mount_point="tr-compat")
    transit.restore_key(backup, mount_point="tr-compat")
    assert (
        transit.decrypt_data("open", ciphertext, mount_point="tr-compat")["data"]["plaintext"] == "a2VwdA=="
    )


# -- found by running hvac's own integration tests against this server -------------------------------


def test_lookup_of_an_unknown_token_is_403_bad_token(server: tuple[Server, Path]) -> None:
    """Vault: ``logical.ErrorResponse("bad token"), ErrPermissionDenied``; hvac's tests expect Forbidden."""
    srv, store = server
    made = _token(srv)
    srv.client().auth.token.revoke(made["token"])
    with pytest.raises(hvac.exceptions.Forbidden) as refused:
        srv.client().auth.token.lookup(made["token"])
    assert refused.value.errors == ["bad token"]
    gone = unchanged(
        store, partial(srv.request, "POST", "auth/token/lookup", json={"token": "hvs.nothing"}), 403
    )
    assert gone.json()["errors"] == ["bad token"]


def test_lookup_without_a_token_looks_up_the_caller(server: tuple[Server, Path]) -> None:
    srv, _ = server
    made = _token(srv)
    for method in ("GET", "POST"):
        response = srv.request(method, "auth/token/lookup", token=made["token"])
        assert response.status_code == 200, response.text
        assert response.json()["data"]["accessor"] == made["accessor"]


def test_renew_and_revoke_orphan_of_an_unknown_token(server: tuple[Server, Path]) -> None:
    srv, store = server
    renew = unchanged(
        store, partial(srv.request, "POST", "auth/token/renew", json={"token": "hvs.nothing"}), 400
    )
    assert renew.json()["errors"] == ["token not found"]
    orphan = unchanged(
        store, partial(srv.request, "POST", "auth/token/revoke-orphan", json={"token": "hvs.nothing"}), 400
    )
    assert orphan.json()["errors"] == ["token to revoke not found"]
    assert (
        srv.request("POST", "auth/token/revoke", json={"token": "hvs.nothing"}).status_code == 204
    )  # as Vault


def test_userpass_takes_vaults_older_ttl_names(server: tuple[Server, Path]) -> None:
    """hvac's ``create_or_update_user(..., ttl=...)`` sends ``ttl``: Vault reads it as token_ttl."""
    srv, _ = server
    client = srv.client()
    client.sys.enable_auth_method("userpass", path="up-compat")
    client.auth.userpass.create_or_update_user(
        "bob", "pw-1234567", ttl="10s", max_ttl="1m", mount_point="up-compat"
    )
    user = client.auth.userpass.read_user("bob", mount_point="up-compat")["data"]
    assert user["token_ttl"] == 10 and user["token_max_ttl"] == 60
    login = srv.client(token="").auth.userpass.login("bob", "pw-1234567", mount_point="up-compat")
    assert login["auth"]["lease_duration"] == 10
    # token_ttl wins when both are given, as in Vault.
    client.auth.userpass.create_or_update_user("bob", ttl="20s", mount_point="up-compat", token_ttl="30s")
    assert client.auth.userpass.read_user("bob", mount_point="up-compat")["data"]["token_ttl"] == 30


def test_userpass_tokens_renew_only_while_the_user_keeps_its_policies(server: tuple[Server, Path]) -> None:
    srv, store = server
    client = srv.client()
    client.sys.enable_auth_method("userpass", path="up-renew")
    client.auth.userpass.create_or_update_user("carol", "pw-7654321", policies=["a"], mount_point="up-renew")
    token = srv.client(token="").auth.userpass.login("carol", "pw-7654321", mount_point="up-renew")["auth"][
        "client_token"
    ]
    assert srv.request("POST", "auth/token/renew-self", token=token).status_code == 200
    client.auth.userpass.update_password_on_user("carol", "pw-other-123", mount_point="up-renew")
    assert srv.request("POST", "auth/token/renew-self", token=token).status_code == 200  # same policies
    client.write_data("auth/up-renew/users/carol/policies", data={"token_policies": ["a", "b"]})
    changed = unchanged(store, partial(srv.request, "POST", "auth/token/renew-self", token=token), 400)
    assert changed.json()["errors"] == ["policies have changed, not renewing"]
    client.auth.userpass.delete_user("carol", mount_point="up-renew")
    gone = unchanged(store, partial(srv.request, "POST", "auth/token/renew", json={"token": token}), 400)
    assert gone.json()["errors"] == ["user 'carol' no longer exists: not renewing"]
    assert srv.client(token).auth.token.lookup_self()["data"]["meta"] == {"username": "carol"}
