"""TLS with a certificate issued by the project's own PKI engine; clients verify it against its root."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
import requests

from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role
from tests.keystore.conftest import unsealed_keystore
from tests.server.conftest import start_server, write_config


def _issue_server_certificate(tmp_path: Path) -> tuple[Path, Path, Path]:
    # Python's ssl module here is OpenSSL 3.0, which has no ML-DSA in TLS: an ECDSA chain it is.
    storage = SQLiteStorage(tmp_path / "ca.db")
    try:
        pki = PkiEngine(unsealed_keystore(storage))
        root_pem = pki.create_root("root", common_name="TLS Test Root", key_type="ECDSA-P256")
        pki.create_intermediate(
            "int", issuer="root", common_name="TLS Test Issuing CA", key_type="ECDSA-P256"
        )
        pki.put_role(
            "server",
            Role(
                issuer="int", allowed_domains=("localhost",), allow_bare_domains=True, key_type="ECDSA-P256"
            ),
        )
        leaf = pki.issue("server", "localhost", ttl=datetime.timedelta(hours=1))
    finally:
        storage.close()
    assert leaf.private_key is not None
    cert_file, key_file, root_file = (
        tmp_path / "server.pem",
        tmp_path / "server-key.pem",
        tmp_path / "root.pem",
    )
    cert_file.write_text(leaf.certificate + "".join(leaf.ca_chain[:-1]))  # leaf + intermediate
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(leaf.private_key)
    root_file.write_text(root_pem)
    return cert_file, key_file, root_file


def test_tls_server_with_a_certificate_from_our_pki(tmp_path: Path) -> None:
    cert_file, key_file, root_file = _issue_server_certificate(tmp_path)
    config = write_config(
        tmp_path / "server.toml",
        tmp_path / "vault.db",
        extra=f'tls_cert_file = "{cert_file}"\ntls_key_file = "{key_file}"',
    )
    server = start_server(["-c", str(config)], tmp_path / "server.log", verify=str(root_file))
    try:
        assert server.url.startswith("https://127.0.0.1:")
        server.url = server.url.replace("127.0.0.1", "localhost")  # the certificate's name
        client = server.client(token="", verify=str(root_file))
        init = client.sys.initialize(secret_shares=1, secret_threshold=1)
        assert client.sys.submit_unseal_key(init["keys"][0])["sealed"] is False
        client.token = init["root_token"]
        assert client.sys.read_health_status(method="GET")["sealed"] is False
        with pytest.raises(requests.exceptions.SSLError):  # not trusted without our root
            requests.get(f"{server.url}/v1/sys/health", timeout=10)
        with pytest.raises(requests.exceptions.ConnectionError):  # no plain HTTP on the TLS port
            requests.get(server.url.replace("https://", "http://") + "/v1/sys/health", timeout=10)
        client.adapter.close()
    finally:
        server.stop()
