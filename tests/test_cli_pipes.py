"""Newcomer findings on the command line: a closed pipe, and serials as the user wrote them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from secretumvault.cli import main
from secretumvault.cli._store import PASSPHRASE_ENV, SHARES_ENV

ROOT = Path(__file__).resolve().parent.parent
RUNS = 25  # the closed pipe was intermittent: one run proves little


pytestmark = pytest.mark.usefixtures("no_material_in_environment")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (PASSPHRASE_ENV, SHARES_ENV)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _piped_to_head(command: str, cwd: Path) -> list[tuple[int, str]]:
    """``command | head -1`` run RUNS times: each run's exit status of ``command`` and its stderr."""
    if shutil.which("head") is None:
        pytest.skip("no `head` on PATH to close the pipe early")
    sv = f"{sys.executable} -m secretumvault"
    script = f"{command.replace('SV', sv)} 2>err | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}"
    results = []
    for _ in range(RUNS):
        done = subprocess.run(
            ["bash", "-c", script], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=60
        )
        results.append((int(done.stdout.split()[-1]), (cwd / "err").read_text()))
    return results


def test_a_closed_pipe_ends_quietly_with_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A plaintext of many lines, decrypted to stdout: `head -1` closes the pipe long before the end.
    db, shares = tmp_path / "v.db", tmp_path / "shares.txt"
    assert main(["init", "--store", str(db), "--shares", "1", "--threshold", "1"]) == 0
    shares.write_text(capsys.readouterr().out)
    unseal = ["--store", str(db), "--share-file", str(shares)]
    assert main(["transit", "create", "k", "--type", "aes256-gcm96", *unseal]) == 0
    capsys.readouterr()
    (tmp_path / "big.txt").write_bytes(b"line of a long plaintext\n" * 40_000)  # 1 MB, past a pipe buffer
    assert main(["transit", "encrypt", "k", str(tmp_path / "big.txt"), *unseal]) == 0
    (tmp_path / "ct").write_text(capsys.readouterr().out)

    decrypt = f"SV transit decrypt k ct --out - --store {db} --share-file {shares}"
    for command in (decrypt, "SV --help", "SV transit --help", "SV info"):
        results = _piped_to_head(command, tmp_path)
        assert results == [(0, "")] * RUNS, command


def test_an_open_pipe_still_gets_everything(tmp_path: Path) -> None:
    # The flush moved into main(): what a reader keeps reading must still arrive whole.
    done = subprocess.run(
        [sys.executable, "-m", "secretumvault", "--help"], env=_env(), capture_output=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.rstrip().endswith(b"never from the command line.")


def test_revoke_names_the_serial_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, shares = tmp_path / "v.db", tmp_path / "shares.txt"
    assert main(["init", "--store", str(db), "--shares", "1", "--threshold", "1"]) == 0
    shares.write_text(capsys.readouterr().out)
    unseal = ["--store", str(db), "--share-file", str(shares)]
    assert main(["pki", "root", "root", "--common-name", "Root", "--key-type", "Ed25519", *unseal]) == 0
    capsys.readouterr()
    before = db.read_bytes()

    assert main(["pki", "revoke", "00:11", *unseal]) == 2
    err = capsys.readouterr().err
    assert err == "secretumvault: error: no certificate with serial 00:11\n"
    assert db.read_bytes() == before  # a refused revoke stores nothing
