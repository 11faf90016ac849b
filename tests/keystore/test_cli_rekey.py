"""``secretumvault operator rekey``: the command line of issue 13, item 14, on a real SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import secretumvault
from secretumvault.cli import main
from secretumvault.cli._store import SHARES_ENV
from tests.conftest import store_rows

REKEY = ["operator", "rekey", "--store"]
OLD = "the old passphrase"
NEW = "the new passphrase"


pytestmark = pytest.mark.usefixtures("no_material_in_environment")


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A store with a passphrase and one transit key, so records exist across the rekey."""
    db = tmp_path / "vault.db"
    old = _file(tmp_path, "old.txt", OLD)
    assert main(["init", "--store", str(db), "--passphrase-file", old]) == 0
    assert main(["transit", "create", "k", "--store", str(db), "--passphrase-file", old]) == 0
    capsys.readouterr()
    return db


def _unseals(db: Path, *material: str) -> bool:
    return main(["unseal", "--store", str(db), *material]) == 0


def test_rekey_to_a_new_passphrase(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _file(tmp_path, "old.txt", OLD), _file(tmp_path, "new.txt", NEW)
    assert main([*REKEY, str(store), "--passphrase-file", old, "--new-passphrase-file", new]) == 0
    assert "new passphrase only" in capsys.readouterr().err
    assert not _unseals(store, "--passphrase-file", old)
    assert _unseals(store, "--passphrase-file", new)
    assert main(["transit", "read", "k", "--store", str(store), "--passphrase-file", new]) == 0


def test_rekey_to_shares_and_back(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _file(tmp_path, "old.txt", OLD)
    command = ["operator", "rekey", "--store", str(store), "--passphrase-file", old]
    assert main([*command, "--new-shares", "5", "--new-threshold", "3"]) == 0
    captured = capsys.readouterr()
    shares = captured.out.split()
    assert len(shares) == 5 and all(s.startswith("svs1-") for s in shares)
    assert "any 3 of them" in captured.err
    assert not _unseals(store, "--passphrase-file", old)
    share_file = _file(tmp_path, "shares.txt", "\n".join(shares[2:]))
    assert _unseals(store, "--share-file", share_file)
    # Back to a passphrase, with the shares as the current material (from the environment too).
    new = _file(tmp_path, "new.txt", NEW)
    monkeypatch.setenv(SHARES_ENV, " ".join(shares[:3]))
    assert main(["operator", "rekey", "--store", str(store), "--new-passphrase-file", new]) == 0
    monkeypatch.delenv(SHARES_ENV)
    assert not _unseals(store, "--share-file", share_file)
    assert _unseals(store, "--passphrase-file", new)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ([], "--new-passphrase-file"),
        (["--new-shares", "3"], "--new-threshold"),
        (["--new-threshold", "2"], "--new-threshold"),
        (["--new-passphrase-file", "SHORT"], "use at least 8"),
        (["--new-passphrase-file", "MISSING"], "cannot read"),
        (["--new-shares", "3", "--new-threshold", "2", "--tty"], "terminal"),
    ],
)
def test_usage_errors_change_nothing(
    store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    words: str,
) -> None:
    if "--tty" in extra:
        extra.remove("--tty")
        monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    replacements = {"SHORT": _file(tmp_path, "short.txt", "seven77"), "MISSING": str(tmp_path / "none.txt")}
    extra = [replacements.get(word, word) for word in extra]
    before = store_rows(store)
    old = _file(tmp_path, "old.txt", OLD)
    assert main(["operator", "rekey", "--store", str(store), "--passphrase-file", old, *extra]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert store_rows(store) == before


def test_wrong_current_material_changes_nothing(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = store_rows(store)
    wrong, new = _file(tmp_path, "wrong.txt", "not the passphrase"), _file(tmp_path, "new.txt", NEW)
    assert (
        main([*REKEY, str(store), "--passphrase-file", wrong, "--new-passphrase-file", new]) == 2
    )  # input error: wrong material
    err = capsys.readouterr().err
    assert "wrong passphrase" in err and NEW not in err and "not the passphrase" not in err
    assert store_rows(store) == before
    assert main([*REKEY, str(store), "--new-shares", "3", "--new-threshold", "2"]) == 2
    assert "--passphrase-file" in capsys.readouterr().err  # no current material at all
    assert store_rows(store) == before


def test_missing_store_is_reported_as_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _file(tmp_path, "old.txt", OLD), _file(tmp_path, "new.txt", NEW)
    db = tmp_path / "absent.db"
    args = ["operator", "rekey", "--store", str(db), "--passphrase-file", old, "--new-passphrase-file", new]
    assert main(args) == 2
    assert "secretumvault init" in capsys.readouterr().err
    assert not db.exists()


def test_as_a_separate_process(store: Path, tmp_path: Path) -> None:
    old = _file(tmp_path, "old.txt", OLD)
    package_root = str(Path(secretumvault.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "secretumvault", "operator", "rekey", "--store", str(store),
         "--passphrase-file", old, "--new-shares", "3", "--new-threshold", "2"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shares = result.stdout.split()
    assert len(shares) == 3
    assert _unseals(store, "--share-file", _file(tmp_path, "shares.txt", "\n".join(shares[:2])))
