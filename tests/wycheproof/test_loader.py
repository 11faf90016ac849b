"""The vectors travel with the repository, and a missing file is one failing test that names it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .loader import WYCHEPROOF, MissingVectorFile, cases, load

REPO = Path(__file__).resolve().parents[2]


def test_vectors_live_in_the_repository() -> None:
    assert WYCHEPROOF.resolve().is_relative_to(REPO) or "SECRETUMVAULT_VECTORS" in os.environ
    assert (WYCHEPROOF / "LICENSE").read_text().lstrip().startswith("Apache License")
    data = load("mlkem_768_keygen_seed_test.json")
    assert data is not None and data["algorithm"] == "ML-KEM"


def test_missing_file_is_a_stand_in_parameter() -> None:
    [param] = cases("no_such_file_test.json")
    assert isinstance(param.values[0], MissingVectorFile)
    assert param.values[0].path.name == "no_such_file_test.json"


def test_missing_file_fails_one_test_naming_it(tmp_path: Path) -> None:
    (tmp_path / "wycheproof").mkdir()
    env = {**os.environ, "SECRETUMVAULT_VECTORS": str(tmp_path)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/wycheproof/test_mlkem.py",
            "-k",
            "keygen_from_seed",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "mlkem_512_keygen_seed_test.json" in run.stdout
    assert "error" not in run.stdout.splitlines()[-1], run.stdout  # failed tests, not a collection abort
