"""kv version 2 over HTTP with hvac: versions, check-and-set, delete/undelete/destroy, metadata, list."""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest
from hvac.exceptions import InvalidPath, InvalidRequest

from tests.server.conftest import Server, start_file_server, unchanged


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


# -- delete_version_after and check-and-set as Vault has them ---------------------------------------


@pytest.fixture(scope="module")
def file_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """A server on a SQLite file the tests read raw, to show that refusals change nothing."""
    started, store = start_file_server(tmp_path_factory.mktemp("kv-file"))
    started.client().sys.enable_secrets_engine("kv", path="secret", options={"version": 2})
    yield started, store
    started.stop()


def _time(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC)


def test_delete_version_after_settings_read_back_as_vault_writes_them(client: hvac.Client) -> None:
    client.sys.enable_secrets_engine("kv", path="dva", options={"version": 2})
    try:
        kv = client.secrets.kv.v2
        assert kv.read_configuration(mount_point="dva")["data"]["delete_version_after"] == "0s"
        kv.configure(delete_version_after="30m0s", mount_point="dva")
        assert kv.read_configuration(mount_point="dva")["data"]["delete_version_after"] == "30m0s"
        kv.configure(delete_version_after=5400, mount_point="dva")
        assert kv.read_configuration(mount_point="dva")["data"]["delete_version_after"] == "1h30m0s"
        kv.configure(delete_version_after="-1s", mount_point="dva")  # Vault: negative turns it off
        assert kv.read_configuration(mount_point="dva")["data"]["delete_version_after"] == "-1s"
        kv.create_or_update_secret("a", secret={"k": "v"}, mount_point="dva")
        kv.update_metadata("a", delete_version_after="30s", mount_point="dva")
        assert kv.read_secret_metadata("a", mount_point="dva")["data"]["delete_version_after"] == "30s"
        # Turned off for the mount: no deletion time even with the secret's own setting.
        second = kv.create_or_update_secret("a", secret={"k": "w"}, mount_point="dva")["data"]
        assert second["deletion_time"] == ""
    finally:
        client.sys.disable_secrets_engine("dva")


def test_versions_older_than_delete_version_after_read_as_deleted(
    dev_server: Server, client: hvac.Client
) -> None:
    client.sys.enable_secrets_engine("kv", path="expiring", options={"version": 2})
    try:
        kv = client.secrets.kv.v2
        kv.configure(delete_version_after="30m", mount_point="expiring")
        kept = kv.create_or_update_secret("kept", secret={"k": "v"}, mount_point="expiring")["data"]
        # deletion_time = created_time + delete_version_after; until then the version reads normally.
        assert _time(kept["deletion_time"]) - _time(kept["created_time"]) == datetime.timedelta(minutes=30)
        read = kv.read_secret_version("kept", mount_point="expiring", raise_on_deleted_version=True)
        assert read["data"]["data"] == {"k": "v"}
        # The smaller of the mount's and the secret's setting wins.
        kv.update_metadata("short", delete_version_after="1s", mount_point="expiring")
        short = kv.create_or_update_secret("short", secret={"k": "v"}, mount_point="expiring")["data"]
        assert _time(short["deletion_time"]) - _time(short["created_time"]) == datetime.timedelta(seconds=1)
        while datetime.datetime.now(datetime.UTC) <= _time(short["deletion_time"]):
            time.sleep(0.1)  # waiting for the deletion time to pass; nothing is timed
        gone = dev_server.request("GET", "expiring/data/short")
        assert gone.status_code == 404
        assert gone.json()["data"]["data"] is None
        assert gone.json()["data"]["metadata"]["deletion_time"] == short["deletion_time"]
        # Deleting it again keeps the deletion time; undeleting brings the version back.
        kv.delete_latest_version_of_secret("short", mount_point="expiring")
        meta = kv.read_secret_metadata("short", mount_point="expiring")["data"]
        assert meta["versions"]["1"]["deletion_time"] == short["deletion_time"]
        kv.undelete_secret_versions("short", versions=[1], mount_point="expiring")
        back = kv.read_secret_version("short", mount_point="expiring", raise_on_deleted_version=True)
        assert back["data"]["data"] == {"k": "v"} and back["data"]["metadata"]["deletion_time"] == ""
    finally:
        client.sys.disable_secrets_engine("expiring")


def test_check_and_set_as_vault_reads_it(file_server: tuple[Server, Path]) -> None:
    srv, store = file_server
    kv = srv.client().secrets.kv.v2
    kv.create_or_update_secret("cas/a", secret={"k": "1"})
    # hvac's own test: cas=-1 is no version, so it does not match ("did not match", not a type error).
    for cas in (-1, 0, 2, "7"):
        body = {"data": {}, "options": {"cas": cas}}
        response = unchanged(store, functools.partial(srv.request, "POST", "secret/data/cas/a", json=body))
        assert response.status_code == 400
        assert response.json()["errors"] == ["check-and-set parameter did not match the current version"]
    with pytest.raises(InvalidRequest, match="did not match the current version"):
        kv.create_or_update_secret("cas/a", secret={"k": "x"}, cas=-1)
    refused = unchanged(
        store, lambda: srv.request("POST", "secret/data/cas/a", json={"data": {}, "options": {"cas": "one"}})
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == ["error parsing check-and-set parameter"]
    # Weakly typed, as Vault: "1" is 1.
    written = srv.request("POST", "secret/data/cas/a", json={"data": {"k": "2"}, "options": {"cas": "1"}})
    assert written.status_code == 200 and written.json()["data"]["version"] == 2


def test_refused_kv_v2_settings_change_nothing(file_server: tuple[Server, Path]) -> None:
    srv, store = file_server
    srv.client().secrets.kv.v2.create_or_update_secret("settings/a", secret={"k": "v"})
    for path, body, fragment in [
        ("secret/config", {"delete_version_after": "soon"}, "delete_version_after must be a duration"),
        ("secret/metadata/settings/a", {"delete_version_after": "-5s"}, "delete_version_after must be"),
        ("secret/metadata/settings/a", {"delete_version_after": True}, "delete_version_after must be"),
        ("secret/metadata/settings/a", {"metadata_cas": 1}, "metadata_cas is not supported"),
        ("secret/config", {"metadata_cas_required": True}, "metadata_cas_required is not supported"),
    ]:
        response = unchanged(store, functools.partial(srv.request, "POST", path, json=body))
        assert response.status_code == 400 and fragment in response.json()["errors"][0], response.text
