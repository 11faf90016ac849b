"""The file audit device: JSON lines for requests and responses, secrets HMAC'd, nothing secret in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac as hmac_module
import json
import os
import stat
from pathlib import Path

import hvac
import pytest
from hvac.exceptions import InvalidRequest

from tests.server.conftest import Server

SECRET = b"the launch code is 0000-SECRET-0000"


def test_audit_lines_hash_every_secret(dev_server: Server, client: hvac.Client, tmp_path: Path) -> None:
    log_path = tmp_path / "audit.log"
    client.sys.enable_audit_device("file", path="file", options={"file_path": str(log_path)})
    assert stat.S_IMODE(os.stat(log_path).st_mode) == 0o600
    assert "file/" in client.sys.list_enabled_audit_devices()["data"]

    client.adapter.post("/v1/transit/keys/audited", json={"type": "ml-kem-768"})
    plaintext = base64.b64encode(SECRET).decode()
    ciphertext = client.secrets.transit.encrypt_data("audited", plaintext)["data"]["ciphertext"]
    decrypted = client.secrets.transit.decrypt_data("audited", ciphertext)["data"]["plaintext"]
    assert base64.b64decode(decrypted) == SECRET
    new_token = client.auth.token.create(policies=["default"], ttl="1h")["auth"]["client_token"]
    client.secrets.kv.v2.create_or_update_secret("audit/x", secret={"password": "kv-SECRET-value"})
    refused = dev_server.request("GET", "transit/keys/audited", token="hvs.a-wrong-SECRET-token")
    assert refused.status_code == 403
    client.sys.disable_audit_device("file")

    text = log_path.read_text()
    entries = [json.loads(line) for line in text.splitlines()]
    for forbidden in (
        plaintext,
        SECRET.decode(),
        ciphertext,
        dev_server.root_token,
        new_token,
        "kv-SECRET-value",
    ):
        assert forbidden not in text
    kinds = [(e["type"], e["request"]["path"]) for e in entries]
    assert ("request", "transit/encrypt/audited") in kinds and (
        "response",
        "transit/encrypt/audited",
    ) in kinds
    encrypt_request = next(
        e for e in entries if e["type"] == "request" and e["request"]["path"] == "transit/encrypt/audited"
    )
    hashed = encrypt_request["request"]["data"]["plaintext"]
    assert hashed.startswith("hmac-sha256:") and encrypt_request["request"]["client_token"].startswith(
        "hmac-sha256:"
    )
    token_response = next(
        e for e in entries if e["type"] == "response" and e["request"]["path"] == "auth/token/create"
    )
    assert token_response["response"]["auth"]["client_token"].startswith("hmac-sha256:")
    assert token_response["response"]["auth"]["policies"] == ["default"]  # names stay readable

    # sys/audit-hash gives the same hash for a known value, so logs can be searched without secrets.
    client.sys.enable_audit_device("file", path="file2", options={"file_path": str(tmp_path / "audit2.log")})
    searched = client.sys.calculate_hash("file2", plaintext)["data"]["hash"]
    assert searched == hashed  # one salt per store
    client.sys.disable_audit_device("file2")
    assert len(bytes.fromhex(hashed.split(":")[1])) == hashlib.sha256().digest_size
    assert not hmac_module.compare_digest(
        hashed, "hmac-sha256:" + hashlib.sha256(plaintext.encode()).hexdigest()
    )


def test_audit_device_refuses_a_symlink_and_relative_paths(client: hvac.Client, tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.write_text("keep me\n")
    link = tmp_path / "link.log"
    link.symlink_to(target)
    with pytest.raises(InvalidRequest):
        client.sys.enable_audit_device("file", path="evil", options={"file_path": str(link)})
    with pytest.raises(InvalidRequest):
        client.sys.enable_audit_device("file", path="rel", options={"file_path": "relative.log"})
    with pytest.raises(InvalidRequest):  # an existing file others can read: refused, left as it was
        target.chmod(0o644)
        client.sys.enable_audit_device("file", path="shared", options={"file_path": str(target)})
    assert target.read_text() == "keep me\n"
    assert "evil/" not in client.sys.list_enabled_audit_devices()["data"]
