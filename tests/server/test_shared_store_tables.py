"""Two server processes on one store (SQLite and PostgreSQL) agree on the mount and audit tables
(issue 22 item 9): a change made on one is in force for the other's very next request."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from tests.server.conftest import Server
from tests.server.test_postgres import schema_dsn  # noqa: F401 (fixture)
from tests.server.test_shared_store_tokens import config, pair  # noqa: F401 (fixtures)


def test_a_disabled_mount_is_gone_for_the_other_process_at_once(pair: tuple[Server, Server, str]) -> None:  # noqa: F811
    first, second, root = pair
    assert second.request("POST", "transit/keys/other", token=root, json={"type": "aes256-gcm96"}).ok
    assert first.request("DELETE", "sys/mounts/transit", token=root).status_code == 204
    # No 1 s grace: the second process refuses the very next request.
    refused = second.request("POST", "transit/keys/late", token=root, json={"type": "aes256-gcm96"})
    assert refused.status_code == 404, refused.text
    assert second.request("GET", "transit/keys/shared", token=root).status_code == 404
    assert (
        first.request("POST", "sys/mounts/transit", token=root, json={"type": "transit"}).status_code == 204
    )
    for server in (first, second):
        listed = server.request("LIST", "transit/keys", token=root)
        assert listed.status_code == 404, listed.text  # nothing came back with the mount
        assert server.request("GET", "transit/keys/other", token=root).status_code == 404


def test_nothing_written_during_a_disable_survives_into_the_next_mount(
    pair: tuple[Server, Server, str],  # noqa: F811
) -> None:
    first, second, root = pair
    stop = threading.Event()
    accepted: list[str] = []

    def write() -> None:
        deadline = time.monotonic() + 30
        index = 0
        while not stop.is_set() and time.monotonic() < deadline:
            name = f"racer-{index}"
            index += 1
            if second.request("POST", f"transit/keys/{name}", token=root, json={"type": "aes256-gcm96"}).ok:
                accepted.append(name)

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)
    assert first.request("DELETE", "sys/mounts/transit", token=root).status_code == 204
    time.sleep(0.3)
    stop.set()
    writer.join(timeout=60)
    assert accepted, "the writer made nothing before the disable: the test proved nothing"
    assert (
        first.request("POST", "sys/mounts/transit", token=root, json={"type": "transit"}).status_code == 204
    )
    for name in accepted:
        assert second.request("GET", f"transit/keys/{name}", token=root).status_code == 404


def test_an_audit_device_enabled_on_one_process_logs_the_others_next_request(
    pair: tuple[Server, Server, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    first, second, root = pair
    log = tmp_path / "audit.log"
    enabled = first.request(
        "PUT", "sys/audit/file", token=root, json={"type": "file", "options": {"file_path": str(log)}}
    )
    assert enabled.status_code == 204, enabled.text
    assert second.request("GET", "transit/keys/shared", token=root).status_code == 200
    paths = [json.loads(line)["request"]["path"] for line in log.read_text().splitlines()]
    assert "transit/keys/shared" in paths
    assert first.request("DELETE", "sys/audit/file", token=root).status_code == 204
    before = log.read_text()
    assert second.request("GET", "transit/keys/shared", token=root).status_code == 200
    assert log.read_text() == before  # disabled on the first: the second logs no more
