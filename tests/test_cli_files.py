"""What the command line reads and writes: never through a symbolic link, never over another's file,
never binary data or secrets to a terminal, never input from a terminal (issue 13 item 1, issue 11 item 4).
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from secretumvault.cli import _io, main
from secretumvault.encoding import keyfile

from .conftest import one_line_error


def run(*argv: str) -> int:
    return main(list(argv))


class Stdin:
    """A stand-in for sys.stdin: a pipe holding ``data``, or the terminal."""

    def __init__(self, data: bytes = b"", *, tty: bool = False) -> None:
        self.buffer = io.BytesIO(data)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """Someone else's file, which a planted link points at: it must never change."""
    path = tmp_path / "victim"
    path.write_bytes(b"precious")
    path.chmod(0o644)
    return path


def assert_untouched(victim: Path) -> None:
    assert victim.read_bytes() == b"precious"
    assert victim.stat().st_mode & 0o777 == 0o644


@pytest.fixture
def kem_pair(tmp_path: Path) -> tuple[Path, Path]:
    pk, sk = tmp_path / "kem.pub", tmp_path / "kem.sec"
    assert run("keygen", "-a", "ML-KEM-768", "--public", str(pk), "--secret", str(sk)) == 0
    return pk, sk


# -- symbolic links and files the command did not create (issue 13 item 1) ---------------------


@pytest.mark.parametrize("option", ["--secret", "--public"])
@pytest.mark.parametrize("force", [False, True])
def test_keygen_never_writes_through_a_symlink(
    tmp_path: Path, victim: Path, option: str, force: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = {"--public": tmp_path / "k.pub", "--secret": tmp_path / "k.sec"}
    paths[option].symlink_to(victim)
    argv = ["keygen", "--public", str(paths["--public"]), "--secret", str(paths["--secret"])]
    assert run(*argv, *(["--force"] if force else [])) == 2
    one_line_error(capsys, option, "symbolic link")
    assert_untouched(victim)
    other = paths["--public" if option == "--secret" else "--secret"]
    assert not other.exists()  # refused before any key was made: no half pair


def test_encapsulate_never_writes_the_shared_secret_through_a_symlink(
    kem_pair: tuple[Path, Path], tmp_path: Path, victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link, ct = tmp_path / "ss", tmp_path / "ct"
    link.symlink_to(victim)
    assert (
        run(
            "encapsulate", "--public", str(kem_pair[0]), "--shared-secret", str(link), "--ciphertext", str(ct)
        )
        == 2
    )
    one_line_error(capsys, "--shared-secret", "symbolic link")
    assert_untouched(victim)
    assert not ct.exists()


def test_a_dangling_symlink_is_refused_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "would-be-created"
    (tmp_path / "k.sec").symlink_to(target)
    assert run("keygen", "--public", str(tmp_path / "k.pub"), "--secret", str(tmp_path / "k.sec")) == 2
    one_line_error(capsys, "symbolic link")
    assert not target.exists()


def test_the_write_itself_never_follows_a_link_planted_after_the_check(tmp_path: Path, victim: Path) -> None:
    # The check before the write gives the message; the write must hold on its own when a
    # link appears in between (a race), so both writers are exercised without the check.
    link = tmp_path / "out"
    link.symlink_to(victim)
    with pytest.raises(FileExistsError):
        _io._create_exclusively(str(link), b"key material", 0o600)
    assert_untouched(victim)
    _io._write_then_rename(str(link), b"key material", 0o600)
    assert_untouched(victim)
    assert not link.is_symlink() and link.read_bytes() == b"key material"
    assert link.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_force_replaces_the_file_and_never_rewrites_or_chmods_the_old_one(
    tmp_path: Path, victim: Path
) -> None:
    # A hard link shares the victim's inode: writing into it, or chmod, would change the victim.
    pk, sk = tmp_path / "k.pub", tmp_path / "k.sec"
    os.link(victim, sk)
    os.link(victim, pk)
    assert run("keygen", "--force", "-a", "ML-DSA-44", "--public", str(pk), "--secret", str(sk)) == 0
    assert_untouched(victim)
    assert sk.stat().st_mode & 0o777 == 0o600 and sk.stat().st_ino != victim.stat().st_ino
    assert keyfile.peek(pk.read_bytes())[1] == "ML-DSA-44"


def test_secret_files_are_created_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        assert run("keygen", "--public", str(tmp_path / "k.pub"), "--secret", str(tmp_path / "k.sec")) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "k.sec").stat().st_mode & 0o777 == 0o600


# -- keygen never replaces keys silently (issue 11 item 4) ---------------------------------------


def test_keygen_refuses_to_overwrite_without_force(
    kem_pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pk, sk = kem_pair
    before = (pk.read_bytes(), sk.read_bytes())
    assert run("keygen", "-a", "ML-KEM-768", "--public", str(pk), "--secret", str(sk)) == 2
    one_line_error(capsys, "exists", "--force")
    assert (pk.read_bytes(), sk.read_bytes()) == before
    assert run("keygen", "--force", "-a", "ML-KEM-768", "--public", str(pk), "--secret", str(sk)) == 0
    assert (pk.read_bytes(), sk.read_bytes()) != before


def test_keygen_with_one_existing_file_writes_neither(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pk, sk = tmp_path / "k.pub", tmp_path / "k.sec"
    pk.write_bytes(b"an older public key")
    assert run("keygen", "--public", str(pk), "--secret", str(sk)) == 2
    one_line_error(capsys, "--public", "exists")
    assert pk.read_bytes() == b"an older public key" and not sk.exists()


def test_keygen_needs_two_different_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    same = str(tmp_path / "k")
    assert run("keygen", "--public", same, "--secret", same) == 2
    one_line_error(capsys, "different")


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_outputs_must_be_regular_files(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out"
    if kind == "directory":
        target.mkdir()
    else:
        os.mkfifo(target)
    assert run("keygen", "--force", "--public", str(tmp_path / "k.pub"), "--secret", str(target)) == 2
    one_line_error(capsys, "--secret", kind if kind == "directory" else "not a regular file")


def test_missing_output_directory_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("keygen", "--public", str(tmp_path / "no" / "k.pub"), "--secret", str(tmp_path / "k.sec")) == 2
    one_line_error(capsys, "does not exist")
    assert not (tmp_path / "k.sec").exists()


# -- terminals: binary data and secrets never go to one; input is never read from one ---------------


def test_ciphertext_is_not_printed_to_a_terminal(
    kem_pair: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    ss = tmp_path / "ss"
    assert run("encapsulate", "--public", str(kem_pair[0]), "--shared-secret", str(ss)) == 2
    one_line_error(capsys, "terminal", "--ciphertext")
    assert not ss.exists()  # refused before the shared secret was written


def test_signature_is_not_printed_to_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sk, msg = tmp_path / "s.sec", tmp_path / "msg"
    msg.write_bytes(b"m")
    assert run("keygen", "-a", "ML-DSA-44", "--public", str(tmp_path / "s.pub"), "--secret", str(sk)) == 0
    capsys.readouterr()
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert run("sign", "--secret", str(sk), str(msg)) == 2
    one_line_error(capsys, "terminal", "--signature")


def test_binary_output_goes_to_a_pipe(
    kem_pair: tuple[Path, Path], tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    pk, sk = kem_pair
    ss1, ss2, ct = tmp_path / "ss1", tmp_path / "ss2", tmp_path / "ct"
    assert run("encapsulate", "--public", str(pk), "--shared-secret", str(ss1)) == 0
    ct.write_bytes(capsysbinary.readouterr().out)
    assert run("decapsulate", "--secret", str(sk), "--ciphertext", str(ct), "--shared-secret", str(ss2)) == 0
    assert ss1.read_bytes() == ss2.read_bytes()


def test_input_is_never_read_from_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sk = tmp_path / "s.sec"
    assert run("keygen", "-a", "ML-DSA-44", "--public", str(tmp_path / "s.pub"), "--secret", str(sk)) == 0
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", Stdin(tty=True))
    assert run("sign", "--secret", str(sk), "--signature", str(tmp_path / "sig")) == 2
    one_line_error(capsys, "terminal", "pipe")
    assert not (tmp_path / "sig").exists()


def test_empty_piped_input_is_a_message_like_any_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pk, sk, sig = tmp_path / "s.pub", tmp_path / "s.sec", tmp_path / "sig"
    assert run("keygen", "-a", "ML-DSA-44", "--public", str(pk), "--secret", str(sk)) == 0
    monkeypatch.setattr(sys, "stdin", Stdin(b""))
    assert run("sign", "--secret", str(sk), "--signature", str(sig)) == 0
    monkeypatch.setattr(sys, "stdin", Stdin(b""))
    assert run("verify", "--public", str(pk), "--signature", str(sig)) == 0
    monkeypatch.setattr(sys, "stdin", Stdin(b"not empty"))
    assert run("verify", "--public", str(pk), "--signature", str(sig)) == 1


# -- files of another known format are named (issue 11 item 4) -----------------------------------


@pytest.fixture
def transit_string(tmp_path: Path) -> Path:
    path = tmp_path / "ct.txt"
    path.write_text("vault:v1:AAAEQJkBB+EJuuLJ99BJwZoUwHiXaSCjnz1++td2msTNxlqCX0FQzL\n")
    return path


def test_a_transit_string_given_to_decapsulate_is_named(
    kem_pair: tuple[Path, Path], transit_string: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ss = tmp_path / "ss"
    _, sk = kem_pair
    assert (
        run(
            "decapsulate",
            "--secret",
            str(sk),
            "--ciphertext",
            str(transit_string),
            "--shared-secret",
            str(ss),
        )
        == 2
    )
    err = one_line_error(capsys, "transit vault:v<N>: string", "not an ML-KEM-768 ciphertext")
    assert "0x76" not in err and "newer" not in err
    assert run("decapsulate", "--secret", str(transit_string), "--shared-secret", str(ss)) == 2
    one_line_error(capsys, "transit vault:v<N>: string", "key file")
    assert not ss.exists()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (
            b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
            "PEM file (PRIVATE KEY)",
        ),
        (b'{"keys": {"1": "AAAA"}}', "JSON document"),
        (b"svs1-AAAA\nsvs1-BBBB\n", "unseal shares"),
        (b"SQLite format 3\x00" + bytes(84), "SQLite database"),
    ],
)
def test_other_formats_given_as_a_key_are_named(
    tmp_path: Path, content: bytes, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key"
    key.write_bytes(content)
    assert run("encapsulate", "--public", str(key), "--shared-secret", str(tmp_path / "ss")) == 2
    one_line_error(capsys, named, "not a SecretumVault KEM public key file")


def test_a_key_file_given_as_a_signature_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pk, sk, msg = tmp_path / "s.pub", tmp_path / "s.sec", tmp_path / "m"
    msg.write_bytes(b"m")
    assert run("keygen", "-a", "ML-DSA-44", "--public", str(pk), "--secret", str(sk)) == 0
    capsys.readouterr()
    assert run("verify", "--public", str(pk), "--signature", str(pk), str(msg)) == 2  # not 1: not a signature
    one_line_error(capsys, "SecretumVault key file", "not an ML-DSA-44 signature")


def test_unknown_bytes_are_not_a_key_file_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"\x07garbage that is long enough")
    assert run("encapsulate", "--public", str(key), "--shared-secret", str(tmp_path / "ss")) == 2
    one_line_error(capsys, "not a SecretumVault key file", "0x07")


def test_a_newer_key_file_version_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pk = tmp_path / "k.pub"
    assert run("keygen", "-a", "ML-KEM-768", "--public", str(pk), "--secret", str(tmp_path / "k.sec")) == 0
    capsys.readouterr()
    pk.write_bytes(b"\x02" + pk.read_bytes()[1:])
    assert run("encapsulate", "--public", str(pk), "--shared-secret", str(tmp_path / "ss")) == 2
    one_line_error(capsys, "version 2 is newer")


def test_a_reader_that_goes_away_is_not_a_traceback(kem_pair: tuple[Path, Path], tmp_path: Path) -> None:
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETUMVAULT_")}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")])
    )
    argv = ["encapsulate", "--public", str(kem_pair[0]), "--shared-secret", str(tmp_path / "ss")]
    child = subprocess.Popen(
        [sys.executable, "-m", "secretumvault", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before the ciphertext is written
    err = child.stderr.read().decode()
    # As `cat` into a closed pipe: quiet (issue 24). The pipeline's reader reports its own failure.
    assert child.wait() == 0
    assert err == ""
