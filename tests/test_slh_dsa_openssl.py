"""Live SLH-DSA interop with OpenSSL >= 3.5 in a Debian 13 root (bash .ci/trixie-root.sh).

OpenSSL verifies what we sign, and we verify what it signs (fresh randomized
signatures). Skips, saying why, where the root or its OpenSSL is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from secretumvault import errors, pqc
from secretumvault.pqc.params import SLH_DSA_NAMES

ROOT = Path(os.environ.get("SV_TRIXIE_ROOT", "/opt/trixie-root"))
SETS = ("SLH-DSA-SHA2-128f", "SLH-DSA-SHAKE-128f", "SLH-DSA-SHA2-128s", "SLH-DSA-SHAKE-256f")


def _why_not() -> str | None:
    if not (ROOT / "usr" / "bin" / "openssl").exists():
        return f"no Debian 13 root with openssl at {ROOT} (make one: bash .ci/trixie-root.sh)"
    if os.geteuid() != 0 or shutil.which("chroot") is None:
        return "running OpenSSL in the Debian 13 root needs root and chroot(8)"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=_why_not() or "")


def spki(name: str, public_key: bytes) -> bytes:
    """RFC 9909 SubjectPublicKeyInfo: the id-slh-dsa-* OID (no parameters) and the raw key."""
    oid = bytes.fromhex("06096086480165030403") + bytes((20 + SLH_DSA_NAMES.index(name),))
    alg = b"\x30" + bytes((len(oid),)) + oid
    bits = b"\x03" + bytes((len(public_key) + 1,)) + b"\x00" + public_key
    body = alg + bits
    return b"\x30" + bytes((len(body),)) + body


@pytest.fixture
def work() -> Iterator[tuple[Path, str]]:
    with tempfile.TemporaryDirectory(dir=ROOT / "tmp") as tmp:
        yield Path(tmp), "/tmp/" + Path(tmp).name


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", str(ROOT), "openssl", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("name", SETS)
def test_openssl_verifies_our_signatures(name: str, native: str, work: tuple[Path, str]) -> None:
    here, there = work
    kp = pqc.Signature(name, backend=native).generate_keypair()
    message, context = b"release 1.2.3", b"sv-interop"
    (here / "pk.der").write_bytes(spki(name, kp.public_key.to_bytes()))
    (here / "msg").write_bytes(message)
    for deterministic in (False, True):
        (here / "sig").write_bytes(kp.secret_key.sign(message, context, deterministic=deterministic))
        verify = (
            "pkeyutl",
            "-verify",
            "-rawin",
            "-pubin",
            "-keyform",
            "DER",
            "-inkey",
            f"{there}/pk.der",
            "-in",
            f"{there}/msg",
            "-sigfile",
            f"{there}/sig",
        )
        done = openssl(*verify, "-pkeyopt", f"hexcontext-string:{context.hex()}")
        assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stderr
        # and OpenSSL refuses it under another context: the check can fail
        assert openssl(*verify, "-pkeyopt", "hexcontext-string:00").returncode != 0


@pytest.mark.parametrize("name", SETS)
def test_we_verify_openssl_signatures(name: str, native: str, work: tuple[Path, str]) -> None:
    here, there = work
    seed = os.urandom(3 * pqc.Signature(name, backend=native).public_key_size // 2)
    gen = openssl(
        "genpkey", "-algorithm", name, "-pkeyopt", f"hexseed:{seed.hex()}", "-out", f"{there}/k.pem"
    )
    assert gen.returncode == 0, gen.stderr
    (here / "msg").write_bytes(b"from openssl")
    signed = openssl(
        "pkeyutl",
        "-sign",
        "-rawin",
        "-inkey",
        f"{there}/k.pem",
        "-in",
        f"{there}/msg",
        "-pkeyopt",
        "hexcontext-string:6374",
        "-out",
        f"{there}/sig",
    )
    assert signed.returncode == 0, signed.stderr
    signature = (here / "sig").read_bytes()
    pk = pqc.Signature(name, backend=native).keypair_from_seed(seed).public_key
    pk.verify(signature, b"from openssl", b"ct")
    with pytest.raises(errors.InvalidSignature):
        pk.verify(signature, b"from openssl", b"cu")
