"""A dev server with two worker processes: connections are spread over both, and both serve one store."""

from __future__ import annotations

import base64
from pathlib import Path

import requests

from tests.server.conftest import start_dev_server


def test_two_workers_serve_the_same_store(tmp_path: Path) -> None:
    server = start_dev_server(tmp_path, "--workers", "2")
    try:
        headers = {"X-Vault-Token": server.root_token}
        created = requests.post(
            f"{server.url}/v1/transit/keys/shared", json={"type": "ml-kem-768"}, headers=headers, timeout=30
        )
        assert created.status_code == 200
        sessions = [requests.Session() for _ in range(16)]  # separate connections, spread by the kernel
        ciphertexts = []
        for index, session in enumerate(sessions):
            plaintext = base64.b64encode(f"message {index}".encode()).decode()
            r = session.post(
                f"{server.url}/v1/transit/encrypt/shared",
                json={"plaintext": plaintext},
                headers=headers,
                timeout=30,
            )
            assert r.status_code == 200
            ciphertexts.append(r.json()["data"]["ciphertext"])
        for index, (session, ciphertext) in enumerate(zip(reversed(sessions), ciphertexts, strict=True)):
            r = session.post(
                f"{server.url}/v1/transit/decrypt/shared",
                json={"ciphertext": ciphertext},
                headers=headers,
                timeout=30,
            )
            assert base64.b64decode(r.json()["data"]["plaintext"]) == f"message {index}".encode()
        for session in sessions:
            session.close()
    finally:
        server.stop()
    assert server.process.returncode == 0
