"""kv version 2 over HTTP with hvac: versions, check-and-set, delete/undelete/destroy, metadata, list."""

from __future__ import annotations

import hvac
import pytest
from hvac.exceptions import InvalidPath, InvalidRequest

from tests.server.conftest import Server


# hvac's own patch() reads without raise_on_deleted_version and warns about its future default.
@pytest.mark.filterwarnings("ignore:The raise_on_deleted_version parameter:DeprecationWarning")
def test_versions_cas_and_reads(client: hvac.Client) -> None:
    kv = client.secrets.kv.v2
    first = kv.create_or_update_secret("team/db", secret={"password": "one"})["data"]
    assert first["version"] == 1
    assert kv.create_or_update_secret("team/db", secret={"password": "two"}, cas=1)["data"]["version"] == 2
    with pytest.raises(InvalidRequest):  # stale check-and-set
        kv.create_or_update_secret("team/db", secret={"password": "three"}, cas=1)
    latest = kv.read_secret_version("team/db", raise_on_deleted_version=True)["data"]
    assert latest["data"] == {"password": "two"} and latest["metadata"]["version"] == 2
    assert kv.read_secret_version("team/db", version=1, raise_on_deleted_version=True)["data"]["data"] == {
        "password": "one"
    }
    kv.patch("team/db", secret={"user": "app"})
    assert kv.read_secret_version("team/db", raise_on_deleted_version=True)["data"]["data"] == {
        "password": "two",
        "user": "app",
    }
    with pytest.raises(InvalidRequest):  # cas=0: only if absent
        kv.create_or_update_secret("team/db", secret={"x": "y"}, cas=0)


def test_delete_undelete_destroy_metadata(dev_server: Server, client: hvac.Client) -> None:
    kv = client.secrets.kv.v2
    kv.create_or_update_secret("svc/api", secret={"key": "a"})
    kv.create_or_update_secret("svc/api", secret={"key": "b"})
    kv.delete_latest_version_of_secret("svc/api")
    r = dev_server.request("GET", "secret/data/svc/api")
    assert r.status_code == 404 and r.json()["data"]["metadata"]["deletion_time"]
    kv.undelete_secret_versions("svc/api", versions=[2])
    assert kv.read_secret_version("svc/api", raise_on_deleted_version=True)["data"]["data"] == {"key": "b"}
    kv.destroy_secret_versions("svc/api", versions=[1])
    meta = kv.read_secret_metadata("svc/api")["data"]
    assert meta["current_version"] == 2 and meta["versions"]["1"]["destroyed"] is True
    kv.update_metadata("svc/api", max_versions=1, custom_metadata={"owner": "ops"})
    meta = kv.read_secret_metadata("svc/api")["data"]
    assert list(meta["versions"]) == ["2"] and meta["custom_metadata"] == {"owner": "ops"}
    kv.create_or_update_secret("svc/other", secret={"k": "v"})
    kv.create_or_update_secret("svc/deep/one", secret={"k": "v"})
    assert sorted(kv.list_secrets("svc")["data"]["keys"]) == ["api", "deep/", "other"]
    kv.delete_metadata_and_all_versions("svc/api")
    with pytest.raises(InvalidPath):
        kv.read_secret_metadata("svc/api")


def test_the_vault_cli_preflight_finds_kv_version_2(dev_server: Server) -> None:
    # `vault kv put secret/x ...` first asks which engine and version serve the path.
    found = dev_server.request("GET", "sys/internal/ui/mounts/secret/team/db").json()["data"]
    assert found["type"] == "kv" and found["options"] == {"version": "2"} and found["path"] == "secret/"
    # Vault: an unknown mount is 403, even for root, so the path is no oracle of which mounts exist.
    assert dev_server.request("GET", "sys/internal/ui/mounts/nowhere/x").status_code == 403


def test_kv_mount_enable_and_disable(dev_server: Server, client: hvac.Client) -> None:
    client.sys.enable_secrets_engine("kv", path="team-kv", options={"version": "2"})
    client.secrets.kv.v2.create_or_update_secret("a", secret={"b": "c"}, mount_point="team-kv")
    assert "team-kv/" in client.sys.list_mounted_secrets_engines()["data"]
    client.sys.disable_secrets_engine("team-kv")
    assert dev_server.request("GET", "team-kv/data/a").status_code == 404
    client.sys.enable_secrets_engine("kv-v2", path="team-kv")  # again: empty
    with pytest.raises(InvalidPath):
        client.secrets.kv.v2.read_secret_version("a", mount_point="team-kv", raise_on_deleted_version=True)
    client.sys.disable_secrets_engine("team-kv")
