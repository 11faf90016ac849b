"""X25519MLKEM768 from the server's TLS under OpenSSL 3.5, on a machine whose system OpenSSL is 3.0.

What this shows, exactly: this machine's CPython, running the server (its TLS context is built by
``secretumvault.server`` and uvicorn, as in production) with the Debian 13 root's dynamic loader,
glibc and OpenSSL 3.5 shared libraries in place of the system's (``ld.so --library-path``;
libssl.so.3 keeps one ABI across OpenSSL 3.x), negotiates X25519MLKEM768 with OpenSSL 3.5's
``s_client`` by default, with no group configured; OpenSSL 3.0's ``s_client`` gets classical X25519
from the same server; the banner and ``info --json`` say so. With an ML-DSA-65 chain issued by our PKI
the handshake is post-quantum on both counts (key exchange and certificate signatures), and OpenSSL
3.5 validates the chain. What it does not show: a Debian 13 CPython build (the root has no python3),
and this ``ssl`` module was compiled against OpenSSL 3.0's headers. The tests that run under the
system's OpenSSL are in test_tls_kex.py. Skips, saying why, where the Debian 13 root is missing.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role
from tests.keystore.conftest import unsealed_keystore
from tests.server.conftest import Server, start_server, write_config
from tests.server.test_tls import _issue_server_certificate

ROOT = Path(os.environ.get("SV_TRIXIE_ROOT", "/opt/trixie-root"))
LIBS = ROOT / "usr" / "lib" / "x86_64-linux-gnu"
LOADER = LIBS / "ld-linux-x86-64.so.2"
#: This Python, under the Debian 13 root's loader and libraries (OpenSSL 3.5).
PYTHON_WITH_OPENSSL_35 = [str(LOADER), "--library-path", str(LIBS), sys.executable]


def _why_not() -> str | None:
    if platform.machine() != "x86_64":
        return f"the Debian 13 root's libraries are loaded for x86_64 only, this is {platform.machine()}"
    if not (
        LOADER.exists() and (LIBS / "libssl.so.3").exists() and (ROOT / "usr" / "bin" / "openssl").exists()
    ):
        return f"no Debian 13 root with OpenSSL 3.5 at {ROOT} (make one: bash .ci/trixie-root.sh)"
    if os.geteuid() != 0 or shutil.which("chroot") is None:
        return "running OpenSSL's s_client in the Debian 13 root needs root and chroot(8)"
    probe = subprocess.run(
        [*PYTHON_WITH_OPENSSL_35, "-c", "import ssl; print(*ssl.OPENSSL_VERSION_INFO[:2])"],
        capture_output=True,
        text=True,
    )
    version = tuple(int(v) for v in probe.stdout.split()) if probe.returncode == 0 else ()
    if version < (3, 5):
        return (
            f"this Python does not run on the root's OpenSSL ({probe.stdout.strip() or probe.stderr[-200:]})"
        )
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=_why_not() or "")


@pytest.fixture
def inside() -> Iterator[tuple[Path, str]]:
    """A directory in the root: its path here and as the chroot sees it."""
    with tempfile.TemporaryDirectory(dir=ROOT / "tmp") as tmp:
        yield Path(tmp), "/tmp/" + Path(tmp).name


def _start(tmp: Path, cert_file: Path, key_file: Path) -> Server:
    config = write_config(
        tmp / "server.toml",
        tmp / "vault.db",
        extra=f'tls_cert_file = "{cert_file}"\ntls_key_file = "{key_file}"\n',
    )
    server = start_server(["-c", str(config)], tmp / "server.log", python=PYTHON_WITH_OPENSSL_35)
    assert server.process.stdout is not None
    server.banner.append(server.process.stdout.readline())  # the TLS line follows the address line
    return server


def _s_client(server: Server, *args: str, chroot: bool = True) -> str:
    port = urlsplit(server.url).port
    command = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", *args]
    done = subprocess.run(
        ["chroot", str(ROOT), *command] if chroot else command,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout + done.stderr


def test_info_reports_post_quantum_under_openssl_35() -> None:
    out = subprocess.run(
        [*PYTHON_WITH_OPENSSL_35, "-m", "secretumvault", "info", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    tls = json.loads(out.stdout)["tls"]
    assert tls["openssl_version"].startswith("OpenSSL 3.5")
    assert tls["post_quantum_key_exchange"] is True


def test_the_server_negotiates_x25519mlkem768_by_default(tmp_path: Path) -> None:
    cert_file, key_file, _ = _issue_server_certificate(tmp_path)  # ECDSA: OpenSSL 3.0 clients can connect
    server = _start(tmp_path, cert_file, key_file)
    try:
        assert server.banner[-1].startswith(
            "TLS key exchange: X25519MLKEM768 (hybrid), else X25519, post-quantum"
        )
        assert "OpenSSL 3.5" in server.banner[-1]
        # OpenSSL 3.5's client, with its default groups: the hybrid group.
        assert "Negotiated TLS1.3 group: X25519MLKEM768" in _s_client(server)
        # The same client offering only X25519 gets X25519: the check above can fail.
        classical = _s_client(server, "-groups", "X25519")
        assert "Peer Temp Key: X25519" in classical and "MLKEM" not in classical
        # The system's OpenSSL 3.0 client knows no ML-KEM group: classical X25519, from the same server.
        if shutil.which("openssl") is not None:
            classical = _s_client(server, chroot=False)
            assert "Server Temp Key: X25519" in classical and "MLKEM" not in classical
    finally:
        server.stop()


def test_an_ml_dsa_chain_from_our_pki_makes_the_handshake_post_quantum_throughout(
    tmp_path: Path, inside: tuple[Path, str]
) -> None:
    here, there = inside
    storage = SQLiteStorage(tmp_path / "ca.db")
    try:
        pki = PkiEngine(unsealed_keystore(storage))
        root = pki.create_root("root", common_name="PQ TLS Root", key_type="ML-DSA-87")
        pki.create_intermediate("int", issuer="root", common_name="PQ TLS Issuing", key_type="ML-DSA-65")
        pki.put_role(
            "server",
            Role(issuer="int", allowed_domains=("localhost",), allow_bare_domains=True, key_type="ML-DSA-65"),
        )
        leaf = pki.issue("server", "localhost", ttl=datetime.timedelta(hours=1))
    finally:
        storage.close()
    assert leaf.private_key is not None
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server-key.pem"
    cert_file.write_text(leaf.certificate + leaf.ca_chain[0])
    key_file.write_text(leaf.private_key)
    key_file.chmod(0o600)
    (here / "root.pem").write_text(root)
    server = _start(tmp_path, cert_file, key_file)
    try:
        out = _s_client(
            server, "-CAfile", f"{there}/root.pem", "-verify_return_error", "-verify_hostname", "localhost"
        )
        assert "Negotiated TLS1.3 group: X25519MLKEM768" in out, out
        assert "Peer signature type: mldsa65" in out, out
        assert "Verify return code: 0 (ok)" in out, out
    finally:
        server.stop()
