"""One request may not hold up the others (issue 22 item 8).

A large batch, a storage write or the audit log's fsync runs in the thread
pool, so another client's ``sys/health`` is answered while it runs. Batches
have a size limit.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.server.conftest import Server, start_dev_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = start_dev_server(tmp_path_factory.mktemp("loop"))
    assert started.request("POST", "transit/keys/signer", json={"type": "ml-dsa-87"}).ok
    yield started
    started.stop()


def _health_answers_during(server: Server, slow: requests.Response | None, run: object) -> tuple[int, object]:
    """Run ``run()`` in a thread; count sys/health answers that arrive before it returns."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(run()))  # type: ignore[operator]
    thread.start()
    answered = 0
    deadline = time.monotonic() + 120
    while thread.is_alive() and time.monotonic() < deadline:
        if requests.get(f"{server.url}/v1/sys/health", timeout=60).status_code == 200 and thread.is_alive():
            answered += 1
    thread.join(timeout=120)
    assert result, "the slow request never returned"
    return answered, result[0]


def test_health_is_answered_while_a_large_batch_runs(server: Server) -> None:
    message = base64.b64encode(b"m" * 64).decode()
    items = [{"input": message}] * 10_000  # ML-DSA-87 signing: seconds of work in all

    def sign() -> int:
        return server.request("POST", "transit/sign/signer", json={"batch_input": items}).status_code

    answered, status = _health_answers_during(server, None, sign)
    assert status == 200
    assert answered >= 3, "sys/health waited behind the batch: the batch ran on the event loop"


def test_batches_have_a_size_limit(server: Server) -> None:
    items = [{"input": "aGk="}] * 10_001
    refused = server.request("POST", "transit/sign/signer", json={"batch_input": items})
    assert refused.status_code == 400


def test_health_is_answered_while_audited_requests_fsync(server: Server, tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    enabled = server.request(
        "PUT", "sys/audit/file", json={"type": "file", "options": {"file_path": str(log)}}
    )
    assert enabled.status_code == 204, enabled.text
    try:

        def write_many() -> int:
            for index in range(200):
                written = server.request("POST", f"secret/data/loop/{index}", json={"data": {"i": index}})
                assert written.status_code == 200
            return 200

        answered, _ = _health_answers_during(server, None, write_many)
        assert answered >= 3
    finally:
        assert server.request("DELETE", "sys/audit/file").status_code == 204
