"""kv version 1 (``kv`` with no version or version 1, and ``generic``) and its upgrade to version 2,
with hvac and raw HTTP against a real server; the upgrade's failure paths on a real keystore."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest
from hvac.exceptions import InvalidPath

from secretumvault.errors import StorageBusy
from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.server.errors import HttpError
from secretumvault.server.state.kv_store import KvStore
from secretumvault.server.state.kv_v1_store import KvV1Store
from secretumvault.server.state.mounts import SYSTEM_MAX_LEASE_TTL, MountTable
from tests.keystore.conftest import FAST_SCRYPT, PASSPHRASE
from tests.server.conftest import Server, start_file_server, unchanged


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """A server on a SQLite file the tests can read raw, to show refusals change nothing."""
    started, store = start_file_server(tmp_path_factory.mktemp("kv-v1"))
    yield started, store
    started.stop()


@pytest.fixture
def client(server: tuple[Server, Path]) -> hvac.Client:
    return server[0].client()


def _records(store: Path, prefix: str) -> list[str]:
    storage = SQLiteStorage(store)
    try:
        return [path for path in storage.list("") if prefix in path]
    finally:
        storage.close()


def test_hvac_kv_v1_read_write_list_delete(server: tuple[Server, Path], client: hvac.Client) -> None:
    srv, _ = server
    client.sys.enable_secrets_engine("kv", path="kvv1", options={"version": 1})  # weakly typed: "1"
    try:
        kv = client.secrets.kv.v1
        assert (
            kv.create_or_update_secret("hvac/top", secret={"pssst": "hi"}, mount_point="kvv1").status_code
            == 204
        )
        kv.create_or_update_secret("hvac/deep/er", secret={"a": "b"}, method="PUT", mount_point="kvv1")
        read = kv.read_secret("hvac/top", mount_point="kvv1")
        assert read["data"] == {"pssst": "hi"}
        assert (
            read["lease_duration"] == SYSTEM_MAX_LEASE_TTL
            and read["lease_id"] == ""
            and not read["renewable"]
        )
        assert read["mount_type"] == "kv"
        assert kv.list_secrets("hvac", mount_point="kvv1")["data"] == {"keys": ["deep/", "top"]}
        assert kv.list_secrets("", mount_point="kvv1")["data"] == {"keys": ["hvac/"]}
        # A write replaces the whole secret: no versions, no merge.
        kv.create_or_update_secret("hvac/top", secret={"other": "x"}, mount_point="kvv1")
        assert kv.read_secret("hvac/top", mount_point="kvv1")["data"] == {"other": "x"}
        assert kv.delete_secret("hvac/top", mount_point="kvv1").status_code == 204
        assert kv.delete_secret("hvac/never-there", mount_point="kvv1").status_code == 204  # as Vault
        with pytest.raises(InvalidPath):
            kv.read_secret("hvac/top", mount_point="kvv1")
        with pytest.raises(InvalidPath):  # an empty directory lists as 404
            kv.list_secrets("nothing", mount_point="kvv1")
        # The mount table and the `vault kv` CLI's preflight say version 1.
        mounts = client.sys.list_mounted_secrets_engines()["data"]
        assert mounts["kvv1/"]["type"] == "kv" and mounts["kvv1/"]["options"] == {"version": "1"}
        found = srv.request("GET", "sys/internal/ui/mounts/kvv1/hvac/top").json()["data"]
        assert found["options"] == {"version": "1"} and found["path"] == "kvv1/"
        # kv v2's paths are plain secret names here.
        srv.request("POST", "kvv1/data/x", json={"k": "v"}).raise_for_status()
        assert srv.request("GET", "kvv1/data/x").json()["data"] == {"k": "v"}
    finally:
        client.sys.disable_secrets_engine("kvv1")


def test_raw_http_and_ttl_as_lease_duration(server: tuple[Server, Path], client: hvac.Client) -> None:
    srv, _ = server
    client.sys.enable_secrets_engine("kv", path="plain", config={"default_lease_ttl": "10m"})
    try:
        assert srv.request("PUT", "plain/app", json={"foo": "bar", "ttl": "1h"}).status_code == 204
        body = srv.request("GET", "plain/app").json()
        # Vault keeps "ttl" as a key of the secret and reports it as the lease duration (advisory).
        assert body["data"] == {"foo": "bar", "ttl": "1h"} and body["lease_duration"] == 3600
        srv.request("POST", "plain/num", json={"foo": "bar", "ttl": 90}).raise_for_status()
        assert srv.request("GET", "plain/num").json()["lease_duration"] == 90
        # No ttl (or one that is no duration): the mount's default lease TTL.
        srv.request("POST", "plain/none", json={"foo": "bar"}).raise_for_status()
        assert srv.request("GET", "plain/none").json()["lease_duration"] == 600
        srv.request("POST", "plain/odd", json={"ttl": "soon"}).raise_for_status()
        assert srv.request("GET", "plain/odd").json()["lease_duration"] == 600
        listed = srv.request("LIST", "plain").json()["data"]["keys"]
        assert listed == ["app", "none", "num", "odd"]
        assert srv.request("GET", "plain/?list=true").json()["data"]["keys"] == listed
        assert srv.request("DELETE", "plain/app").status_code == 204
        assert srv.request("GET", "plain/app").status_code == 404
        # No version option: Vault shows none, and its CLI takes that as version 1.
        mount = client.sys.list_mounted_secrets_engines()["data"]["plain/"]
        assert mount["type"] == "kv" and mount["options"] is None
        assert srv.request("GET", "sys/internal/ui/mounts/plain").json()["data"]["options"] is None
    finally:
        client.sys.disable_secrets_engine("plain")


def test_generic_is_kv_version_1(server: tuple[Server, Path], client: hvac.Client) -> None:
    srv, _ = server
    client.sys.enable_secrets_engine("generic", path="old")
    try:
        client.secrets.kv.v1.create_or_update_secret("a", secret={"b": "c"}, mount_point="old")
        body = srv.request("GET", "old/a").json()
        assert body["data"] == {"b": "c"} and body["mount_type"] == "generic"
        mount = client.sys.list_mounted_secrets_engines()["data"]["old/"]
        assert mount["type"] == "generic" and mount["options"] is None
    finally:
        client.sys.disable_secrets_engine("old")
    client.sys.enable_secrets_engine("kv-v1", path="alias")  # Vault's alias: kv with version 1
    try:
        mount = client.sys.list_mounted_secrets_engines()["data"]["alias/"]
        assert mount["type"] == "kv" and mount["options"] == {"version": "1"}
    finally:
        client.sys.disable_secrets_engine("alias")


def test_refusals_change_nothing(server: tuple[Server, Path], client: hvac.Client) -> None:
    srv, store = server
    client.sys.enable_secrets_engine("kv", path="strict", options={"version": "1"})
    try:
        srv.request("POST", "strict/kept", json={"k": "v"}).raise_for_status()
        cases: list[tuple[str, str, Any, str]] = [
            ("POST", "strict/empty", {}, "missing data fields"),
            ("POST", "strict/nothing", None, "missing data fields"),
            ("POST", "strict/a%01b", {"k": "v"}, "secret path"),  # "a//b" is "a/b", as in Vault
            ("POST", "sys/mounts/gen", {"type": "generic", "options": {"version": "2"}}, "does not allow"),
            ("POST", "sys/mounts/kv3", {"type": "kv", "options": {"version": "3"}}, "invalid kv version"),
            ("POST", "sys/mounts/tr", {"type": "transit", "options": {"version": "1"}}, "does not allow"),
            ("POST", "sys/mounts/strict/tune", {"options": {"version": "7"}}, "invalid kv version"),
        ]
        for method, path, body, message in cases:
            sent = json.dumps(body).encode() if body is not None else b""
            response = unchanged(store, functools.partial(srv.request, method, path, data=sent))
            assert response.status_code == 400, (path, response.text)
            assert message in response.json()["errors"][0], (path, response.text)
        assert srv.request("GET", "strict/kept").json()["data"] == {"k": "v"}
    finally:
        client.sys.disable_secrets_engine("strict")


def test_upgrade_to_version_2_in_place(server: tuple[Server, Path], client: hvac.Client) -> None:
    srv, store = server
    client.sys.enable_secrets_engine("kv", path="grow", options={"version": "1"})
    try:
        v1 = client.secrets.kv.v1
        secrets = {"app/db": {"password": "s3"}, "app/deep/er": {"x": "y"}, "top": {"ttl": "1h", "k": "v"}}
        for path, secret in secrets.items():
            v1.create_or_update_secret(path, secret=secret, mount_point="grow")
        response = client.sys.tune_mount_configuration("grow", options={"version": 2})
        assert response.status_code == 204
        mount = client.sys.read_mount_configuration("grow")["data"]
        assert mount["options"] == {"version": "2"}
        assert srv.request("GET", "sys/internal/ui/mounts/grow").json()["data"]["options"] == {"version": "2"}
        v2 = client.secrets.kv.v2
        for path, secret in secrets.items():
            read = v2.read_secret_version(path, mount_point="grow", raise_on_deleted_version=True)["data"]
            assert read["data"] == secret and read["metadata"]["version"] == 1
            meta = v2.read_secret_metadata(path, mount_point="grow")["data"]
            assert meta["current_version"] == 1 and list(meta["versions"]) == ["1"]
        assert sorted(v2.list_secrets("app", mount_point="grow")["data"]["keys"]) == ["db", "deep/"]
        assert (
            v2.create_or_update_secret("top", secret={"k": "w"}, cas=1, mount_point="grow")["data"]["version"]
            == 2
        )
        # The v1 records are gone from the store; only the v2 ones remain.
        assert not _records(store, "grow/kv1/")
        assert len(_records(store, "grow/kv/")) == 3
        # No way back: a downgrade is refused and changes nothing.
        back = unchanged(
            store, lambda: srv.request("POST", "sys/mounts/grow/tune", json={"options": {"version": "1"}})
        )
        assert back.status_code == 400 and "cannot downgrade" in back.json()["errors"][0]
        # Tuning version 2 again is no change.
        assert (
            unchanged(
                store, lambda: srv.request("POST", "sys/mounts/grow/tune", json={"options": {"version": "2"}})
            ).status_code
            == 204
        )
    finally:
        client.sys.disable_secrets_engine("grow")


def test_unversioned_and_generic_mounts_upgrade_too(server: tuple[Server, Path], client: hvac.Client) -> None:
    srv, _ = server
    client.sys.enable_secrets_engine("generic", path="legacy")
    try:
        srv.request("POST", "legacy/a", json={"b": "c"}).raise_for_status()
        srv.request("POST", "sys/mounts/legacy/tune", json={"options": {"version": "2"}}).raise_for_status()
        read = client.secrets.kv.v2.read_secret_version(
            "a", mount_point="legacy", raise_on_deleted_version=True
        )
        assert read["data"]["data"] == {"b": "c"}
    finally:
        client.sys.disable_secrets_engine("legacy")


# -- the upgrade's failure paths, on a real keystore ----------------------------------------------


class FlakyKeystore(Keystore):
    """A keystore whose storage stops taking writes under ``fail_under`` after ``writes_left`` of them."""

    fail_under: str | None = None
    writes_left = 0
    #: Run once, before write number ``hook_at`` under ``fail_under`` (other requests, say).
    meanwhile: Callable[[], None] | None = None
    hook_at = 0

    def _maybe_fail(self, path: str) -> None:
        if self.fail_under is None or not path.startswith(self.fail_under):
            return
        if self.meanwhile is not None and self.hook_at == 0:
            hook, self.meanwhile = self.meanwhile, None
            hook()
        self.hook_at -= 1
        if self.writes_left <= 0:
            raise StorageBusy("injected: the storage stopped taking writes")
        self.writes_left -= 1

    def put(self, path: str, value: bytes | bytearray | memoryview) -> int:
        self._maybe_fail(path)
        return super().put(path, value)

    def delete(self, path: str, *, expected_version: int | None = None) -> None:
        self._maybe_fail(path)
        super().delete(path, expected_version=expected_version)


@pytest.fixture
def flaky(tmp_path: Path) -> Iterator[FlakyKeystore]:
    storage = SQLiteStorage(tmp_path / "vault.db")
    keystore = FlakyKeystore(storage)
    keystore.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    keystore.unseal(PASSPHRASE)
    yield keystore
    storage.close()


def _v1_mount(keystore: Keystore, secrets: dict[str, dict[str, Any]]) -> tuple[MountTable, str]:
    table = MountTable(keystore, None)
    mount = table.enable("old", "kv", "", {"version": "1"})
    store = table.engine(mount)
    assert isinstance(store, KvV1Store)
    for path, data in secrets.items():
        store.write(path, data)
    return table, mount.storage


def _served(table: MountTable) -> dict[str, Any]:
    """Every secret the mount serves now, as its engine reads them."""
    mount = table.mounts()["old/"]
    engine = table.engine(mount)
    if isinstance(engine, KvV1Store):
        return {path: engine.read(path) for path in engine.list("")}
    assert isinstance(engine, KvStore)
    return {path: engine.read(path, 0)[1]["data"] for path in engine.list("")}


SECRETS = {f"s{i}": {"value": str(i)} for i in range(5)}


def test_failure_while_copying_leaves_a_usable_v1_mount(flaky: FlakyKeystore) -> None:
    table, storage = _v1_mount(flaky, SECRETS)
    flaky.fail_under, flaky.writes_left = f"{storage}/kv/", 2  # two secrets copied, then failure
    with pytest.raises(StorageBusy):
        table.tune("old", options={"version": "2"})
    assert table.mounts()["old/"].options == {"version": "1"}
    assert _served(table) == SECRETS  # still version 1, all there
    table.engine(table.mounts()["old/"]).delete("s0")  # and it still takes changes
    flaky.fail_under = None
    table.tune("old", options={"version": "2"})  # sent again, it completes
    expected = {k: v for k, v in SECRETS.items() if k != "s0"}
    assert _served(table) == expected  # nothing the failed attempt copied comes back
    assert flaky.list(f"{storage}/kv1/") == []


def test_failure_while_finishing_leaves_a_usable_v2_mount(flaky: FlakyKeystore) -> None:
    table, storage = _v1_mount(flaky, SECRETS)
    flaky.fail_under, flaky.writes_left = f"{storage}/kv1/", 1  # one v1 record removed, then failure
    with pytest.raises(StorageBusy):
        table.tune("old", options={"version": "2"})
    assert table.mounts()["old/"].options == {"version": "2"}
    assert _served(table) == SECRETS
    # What was left of version 1 is removed with the mount.
    flaky.fail_under = None
    assert flaky.list(f"{storage}/kv1/")
    table.disable("old")
    assert flaky.list(f"{storage}/") == []


def test_changes_made_while_copying_are_carried_over(flaky: FlakyKeystore) -> None:
    table, storage = _v1_mount(flaky, SECRETS)
    v1 = table.engine(table.mounts()["old/"])
    assert isinstance(v1, KvV1Store)

    def other_requests() -> None:  # while the copy runs, other requests still reach version 1
        v1.write("s0", {"value": "changed"})  # already copied: carried over as version 2
        v1.delete("s1")  # already copied: the copy is deleted too
        v1.delete("s4")  # not copied yet: never copied
        v1.write("new", {"value": "late"})  # not listed by the copy: carried over

    flaky.fail_under, flaky.writes_left = f"{storage}/kv/", 100
    flaky.meanwhile, flaky.hook_at = other_requests, 2
    table.tune("old", options={"version": "2"})
    flaky.fail_under = None
    expected = {**SECRETS, "s0": {"value": "changed"}, "new": {"value": "late"}}
    del expected["s1"], expected["s4"]
    assert _served(table) == expected
    engine = table.engine(table.mounts()["old/"])
    assert isinstance(engine, KvStore)
    assert engine.read_metadata("s0")["current_version"] == 2
    assert flaky.list(f"{storage}/kv1/") == []


def test_tune_of_a_missing_mount_is_refused(flaky: FlakyKeystore) -> None:
    table = MountTable(flaky, None)
    with pytest.raises(HttpError):
        table.tune("nowhere", options={"version": "2"})
