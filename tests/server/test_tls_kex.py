"""Which TLS key exchange the server offers: `secretumvault info`, the start banner, tls_min_version,
tls_groups, and X25519MLKEM768 negotiated where OpenSSL >= 3.5 is linked."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from secretumvault.errors import ConfigError
from secretumvault.server.config import ServerSettings
from tests.server.conftest import Server, start_server, write_config
from tests.server.test_tls import _issue_server_certificate

PQ_OPENSSL = ssl.OPENSSL_VERSION_INFO[:2] >= (3, 5)


def _tls_server(tmp_path: Path, extra: str = "") -> tuple[Server, Path]:
    cert_file, key_file, root_file = _issue_server_certificate(tmp_path)
    config = write_config(
        tmp_path / "server.toml",
        tmp_path / "vault.db",
        extra=f'tls_cert_file = "{cert_file}"\ntls_key_file = "{key_file}"\n{extra}',
    )
    server = start_server(["-c", str(config)], tmp_path / "server.log", verify=str(root_file))
    # The banner's TLS line comes after the address line that start_server stopped at.
    assert server.process.stdout is not None
    server.banner.append(server.process.stdout.readline())
    return server, root_file


def test_info_json_reports_the_tls_key_exchange() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "secretumvault", "info", "--json"], capture_output=True, text=True, check=True
    )
    tls = json.loads(out.stdout)["tls"]
    assert tls["openssl_version"] == ssl.OPENSSL_VERSION
    assert tls["post_quantum_key_exchange"] is PQ_OPENSSL
    text = subprocess.run(
        [sys.executable, "-m", "secretumvault", "info"], capture_output=True, text=True, check=True
    ).stdout
    assert ssl.OPENSSL_VERSION in text
    assert ("clients get X25519MLKEM768" in text) is not PQ_OPENSSL


def test_the_banner_says_which_key_exchange_and_tls13_only_refuses_tls12(tmp_path: Path) -> None:
    server, root_file = _tls_server(tmp_path, 'tls_min_version = "tls13"')
    try:
        line = server.banner[-1]
        assert line.startswith("TLS key exchange: ")
        if PQ_OPENSSL:
            assert "X25519MLKEM768" in line and "post-quantum" in line
        else:
            major, minor = ssl.OPENSSL_VERSION_INFO[:2]
            assert f"OpenSSL {major}.{minor}: classical X25519 only; with OpenSSL >= 3.5" in line
            assert "e.g. Debian 13, clients get X25519MLKEM768" in line
        address = urlsplit(server.url)
        assert address.hostname is not None and address.port is not None

        def handshake(maximum: ssl.TLSVersion) -> str | None:
            context = ssl.create_default_context(cafile=str(root_file))
            context.maximum_version = maximum
            with socket.create_connection((address.hostname, address.port), timeout=30) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    return tls.version()

        assert handshake(ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
        with pytest.raises(ssl.SSLError):
            handshake(ssl.TLSVersion.TLSv1_2)  # refused by tls_min_version = "tls13"
    finally:
        server.stop()


def test_tls_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match='tls_min_version must be "tls12" or "tls13"'):
        ServerSettings.from_table({"tls_min_version": "tls11"})
    if hasattr(ssl.SSLContext, "set_groups"):
        with pytest.raises(ConfigError, match="OpenSSL refuses it"):
            ServerSettings.from_table({"tls_groups": "NoSuchGroup"})
        assert ServerSettings.from_table({"tls_groups": "X25519"}).tls_groups == "X25519"
    else:
        with pytest.raises(ConfigError, match=r"cannot set TLS groups \(ssl.SSLContext.set_groups arrived"):
            ServerSettings.from_table({"tls_groups": "X25519MLKEM768:X25519"})


def _openssl_cli_with_mlkem() -> str | None:
    """An `openssl` command of 3.5 or newer (the client side of the handshake), or None."""
    binary = shutil.which("openssl")
    if binary is None:
        return None
    version = subprocess.run([binary, "version"], capture_output=True, text=True).stdout.split()
    if len(version) < 2 or version[0] != "OpenSSL":
        return None
    major, minor = (int(part) for part in version[1].split(".")[:2])
    return binary if (major, minor) >= (3, 5) else None


@pytest.mark.skipif(
    not PQ_OPENSSL,
    reason=f"the server's Python links {ssl.OPENSSL_VERSION}; X25519MLKEM768 needs OpenSSL >= 3.5 "
    "(e.g. Debian 13); on this OpenSSL the banner and `info` say classical, tested above; "
    "test_tls_kex_openssl35.py runs the server on a Debian 13 root's OpenSSL 3.5 instead",
)
def test_x25519mlkem768_is_negotiated_with_openssl_3_5(tmp_path: Path) -> None:
    binary = _openssl_cli_with_mlkem()
    if binary is None:
        pytest.skip("no `openssl` command of 3.5 or newer to act as the client")
    server, _ = _tls_server(tmp_path)
    try:
        address = urlsplit(server.url)
        out = subprocess.run(
            [binary, "s_client", "-groups", "X25519MLKEM768", "-connect", f"127.0.0.1:{address.port}"],
            input="",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "Negotiated TLS1.3 group: X25519MLKEM768" in out.stdout + out.stderr
    finally:
        server.stop()
