"""Every class of bad input gets one JSON error with Vault's status, and changes nothing in the store."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.server.conftest import Server, start_file_server, start_server, unchanged, write_config

MAX_REQUEST = 4096


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(
        tmp_path_factory.mktemp("bad-input"), extra=f"max_request_size = {MAX_REQUEST}"
    )
    client = started.client()
    client.sys.enable_secrets_engine("transit", path="transit")
    client.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    client.adapter.post("/v1/transit/keys/k", json={"type": "ml-kem-768"})
    client.sys.create_or_update_policy(
        "read-k", json.dumps({"path": {"transit/keys/k": {"capabilities": ["read"]}}})
    )
    yield started, store
    started.stop()


def _errors_only(response: requests.Response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errors"} and isinstance(body["errors"], list)


def _post_raw(server: Server, path: str, body: bytes, token: str | None = "root") -> requests.Response:
    return server.request("POST", path, token=token, data=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("transit/keys/new", b"{not json"),
        ("transit/keys/new", b"[1, 2, 3]"),
        ("transit/keys/new", b'"a string"'),
        (
            "transit/keys/new",
            b"[" * 100_000 + b"]" * 100_000,
        ),  # deep nesting, under the size limit? no: see 413
        ("transit/keys/new", json.dumps({"type": 7}).encode()),
        ("transit/keys/new", json.dumps({"type": "ml-kem-768", "exportable": "maybe"}).encode()),
        ("transit/keys/new", json.dumps({"type": "no-such-type"}).encode()),
        ("transit/encrypt/k", json.dumps({"plaintext": 12345}).encode()),
        ("transit/encrypt/k", json.dumps({"plaintext": "%%% not base64"}).encode()),
        ("transit/encrypt/k", json.dumps({"plaintext": "aGk=", "key_version": "abc"}).encode()),
        ("transit/encrypt/k", json.dumps({"batch_input": "not a list"}).encode()),
        ("transit/decrypt/k", json.dumps({"ciphertext": "vault:v1:AAAA"}).encode()),
        ("transit/keys/k/config", json.dumps({"min_decryption_version": True}).encode()),
        ("sys/mounts/../evil", json.dumps({"type": "transit"}).encode()),
        ("sys/mounts/sys", json.dumps({"type": "transit"}).encode()),
        ("sys/mounts/x", json.dumps({"type": "database"}).encode()),
        (
            "sys/policy/p",
            json.dumps({"policy": '{"path": {"x": {"capabilities": ["everything"]}}}'}).encode(),
        ),
        ("secret/data/a", json.dumps({"data": "not an object"}).encode()),
        ("auth/token/create", json.dumps({"ttl": "forever"}).encode()),
    ],
)
def test_400_and_nothing_stored(server: tuple[Server, Path], path: str, body: bytes) -> None:
    started, store = server
    response = unchanged(store, lambda: _post_raw(started, path, body))
    expected = 413 if len(body) > MAX_REQUEST else (404 if ".." in path else 400)
    _errors_only(response, expected)


def test_403_and_nothing_stored(server: tuple[Server, Path]) -> None:
    started, store = server
    limited = started.client().auth.token.create(policies=["read-k"], ttl="1h")["auth"]["client_token"]
    body = json.dumps({"type": "ml-kem-768"}).encode()
    for token in (None, "", "hvs.wrong", limited):
        response = unchanged(store, lambda t=token: _post_raw(started, "transit/keys/other", body, token=t))
        _errors_only(response, 403)
    # The limited token reads what its policy grants, and only that.
    assert started.request("GET", "transit/keys/k", token=limited).status_code == 200
    _errors_only(unchanged(store, lambda: started.request("GET", "sys/mounts", token=limited)), 403)


def test_404_and_nothing_stored(server: tuple[Server, Path]) -> None:
    started, store = server
    for method, path in (
        ("GET", "no/such/mount"),
        ("POST", "transit/no-such-endpoint"),
        ("GET", "transit/keys/missing"),
        ("GET", "sys/no-such-thing"),
    ):
        response = unchanged(
            store, lambda m=method, p=path: started.request(m, p, json={} if m == "POST" else None)
        )
        _errors_only(response, 404)
    assert requests.get(f"{started.url}/not-v1", timeout=10).status_code == 404


def test_a_body_in_many_chunks_is_read_whole(server: tuple[Server, Path]) -> None:
    """A chunked body arrives as many ASGI messages; the server joins them in order."""
    started, _ = server
    started.client().secrets.transit.create_key("chunks")
    plaintext = bytes(range(256)) * 4
    document = json.dumps({"plaintext": base64.b64encode(plaintext).decode()}).encode()
    pieces = [document[i : i + 97] for i in range(0, len(document), 97)]
    sent = started.request(
        "POST", "transit/encrypt/chunks", data=iter(pieces), headers={"Content-Type": "application/json"}
    )
    assert sent.status_code == 200, sent.text
    ciphertext = sent.json()["data"]["ciphertext"]
    opened = started.client().secrets.transit.decrypt_data("chunks", ciphertext)
    assert base64.b64decode(opened["data"]["plaintext"]) == plaintext


def test_405_for_an_operation_the_path_lacks(server: tuple[Server, Path]) -> None:
    started, store = server
    _errors_only(unchanged(store, lambda: started.request("DELETE", "transit/encrypt/k")), 405)


def test_413_and_nothing_stored(server: tuple[Server, Path]) -> None:
    started, store = server
    big = json.dumps({"plaintext": base64.b64encode(b"x" * MAX_REQUEST).decode()}).encode()
    _errors_only(unchanged(store, lambda: _post_raw(started, "transit/encrypt/k", big)), 413)

    def chunked() -> requests.Response:  # no Content-Length: the limit holds while reading
        return started.request(
            "POST",
            "transit/keys/chunked",
            data=iter([b'{"type": "', b"a" * MAX_REQUEST, b'"}']),
            headers={"Content-Type": "application/json"},
        )

    _errors_only(unchanged(store, chunked), 413)
    # Just under the limit is fine.
    ok = json.dumps({"plaintext": base64.b64encode(b"x" * 1024).decode()}).encode()
    assert _post_raw(started, "transit/encrypt/k", ok).status_code == 200


def test_sealed_is_503_for_everything_but_status(server: tuple[Server, Path], tmp_path: Path) -> None:
    # A second process on the same store: sealed on its own while the first stays unsealed.
    started, store = server
    config = write_config(tmp_path / "second.toml", store)
    second = start_server(["-c", str(config)], tmp_path / "second.log")
    try:
        for method, path in (("GET", "transit/keys/k"), ("GET", "sys/mounts"), ("GET", "no/such/path")):
            _errors_only(
                unchanged(store, lambda m=method, p=path: second.request(m, p, token=started.root_token)),
                503,
            )
        assert second.request("GET", "sys/seal-status", token=None).json()["sealed"] is True
        assert started.request("GET", "transit/keys/k").status_code == 200
    finally:
        second.stop()
