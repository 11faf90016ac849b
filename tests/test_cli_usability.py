"""What a new user expects of the command line (issue 11 items 2 and 4; issue 13 items 2 and 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

from secretumvault import pqc
from secretumvault.cli import EXIT_INTERNAL, keys, main
from secretumvault.cli._store import PASSPHRASE_ENV, SHARES_ENV
from secretumvault.encoding import keyfile

from .conftest import one_line_error, sv, untyped

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str) -> int:
    return main(list(argv))


pytestmark = pytest.mark.usefixtures("no_material_in_environment")


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """A store sealed with 3 shares (threshold 2), and the options that unseal it."""
    db, share_file = tmp_path / "vault.db", tmp_path / "shares.txt"
    assert run("init", "--store", str(db), "--shares", "3", "--threshold", "2") == 0
    share_file.write_text(capsys.readouterr().out)
    return ["--store", str(db), "--share-file", str(share_file)]


def subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (PASSPHRASE_ENV, SHARES_ENV)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


# -- exit codes ----------------------------------------------------------------------------------


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--help") == 0
    out = capsys.readouterr().out
    for line in (
        "0   success",
        "1   the signature does NOT verify",
        "2   usage or input error",
        "70  internal",
    ):
        assert line in out
    assert "secretumvault info" in out


def test_only_a_failed_verification_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pk, sk, msg, sig = tmp_path / "p", tmp_path / "s", tmp_path / "m", tmp_path / "sig"
    msg.write_bytes(b"m")
    assert run("keygen", "-a", "ML-DSA-44", "--public", str(pk), "--secret", str(sk)) == 0
    assert run("sign", "--secret", str(sk), "--signature", str(sig), str(msg)) == 0
    assert run("verify", "--public", str(pk), "--signature", str(sig), "--context", "x", str(msg)) == 1
    capsys.readouterr()
    # Errors of every other kind are 2: a wrong key kind, a missing file, a bad algorithm.
    assert run("verify", "--public", str(sk), "--signature", str(sig), str(msg)) == 2
    assert run("verify", "--public", str(tmp_path / "missing"), "--signature", str(sig), str(msg)) == 2
    assert run("keygen", "-a", "ML-DSA-99", "--public", "p", "--secret", "s") == 2


def test_a_bug_is_exit_70_with_its_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(keys, "cmd_keygen", broken)
    assert run("keygen", "--public", str(tmp_path / "p"), "--secret", str(tmp_path / "s")) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: a bug" in err and "internal error" in err


# -- -c and --backend before the command ---------------------------------------------------------------


def test_config_and_backend_work_before_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[crypto.oqs]\nhybrid_mode = false\n")
    assert run("-c", str(config), "--backend", "openssl", "info", "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["config"] == str(config) and info["backend"] == "openssl" and info["hybrid_mode"] is False
    # Given before the command and not after it, they are kept; given after, they win.
    assert run("--backend", "openssl", "info", "--json", "--backend", "auto") == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "auto"
    pk, sk = tmp_path / "k.pub", tmp_path / "k.sec"
    assert run("-c", str(config), "keygen", "--public", str(pk), "--secret", str(sk)) == 0
    assert keyfile.peek(pk.read_bytes())[1] == "ML-KEM-768"  # hybrid_mode = false took effect


# -- algorithm names ---------------------------------------------------------------------------------------


def test_unknown_algorithm_lists_every_valid_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("keygen", "-a", "ML-KEM-999", "--public", "p", "--secret", "s") == 2
    err = one_line_error(capsys, "ML-KEM-999", "--algorithm")
    for name in keyfile.ALGORITHMS:  # KEMs and signature schemes alike
        assert name in err
    assert len(keyfile.ALGORITHMS) >= 11 and "X25519-ML-KEM-768" in err and "ML-DSA-65" in err


@pytest.mark.parametrize(
    ("given", "stored"),
    [("ml-kem-768", "ML-KEM-768"), ("x25519-ml-kem-768", "X25519-ML-KEM-768"), ("Ml-Dsa-44", "ML-DSA-44")],
)
def test_algorithm_names_are_case_insensitive(tmp_path: Path, given: str, stored: str) -> None:
    pk = tmp_path / "k.pub"
    assert run("keygen", "-a", given, "--public", str(pk), "--secret", str(tmp_path / "k.sec")) == 0
    assert keyfile.peek(pk.read_bytes())[1] == stored


def test_signature_flag_with_a_kem_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("keygen", "--signature", "-a", "ML-KEM-768", "--public", "p", "--secret", "s") == 2
    one_line_error(capsys, "--signature", "ML-KEM-768 is a KEM")


def test_transit_and_pki_names_are_case_insensitive(
    store: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert sv("transit create k --type ML-KEM-768", *store) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "ml-kem-768"
    assert sv("pki root r --common-name R --key-type ed25519", *store) == 0
    assert "BEGIN CERTIFICATE" in capsys.readouterr().out


# -- stores: missing is missing ---------------------------------------------------------------------------


def test_a_missing_store_is_reported_missing_not_sealed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.db"
    for command in ("transit list", "unseal", "pki chain root"):
        assert sv(command, "--store", str(missing)) == 2  # and no unseal material at all
        err = one_line_error(capsys, "no store at", "secretumvault init")
        assert "sealed" not in err
    assert not missing.exists()


# -- messages name flags, read as English, show durations as written ---------------------------------------


def test_library_calls_become_flags(
    tmp_path: Path, store: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    passphrase = tmp_path / "pass"
    passphrase.write_text("long enough passphrase")
    db = store[1]
    assert run("unseal", "--store", db, "--passphrase-file", str(passphrase)) == 2
    err = one_line_error(capsys, "--share-file")
    assert "unseal_share()" not in err and "()" not in err


@pytest.mark.skipif(
    "ML-KEM-512" in pqc.kem_algorithms("openssl"), reason="this pyca/cryptography provides ML-KEM-512"
)
def test_backend_hint_is_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("keygen", "--backend", "openssl", "-a", "ML-KEM-512", "--public", "p", "--secret", "s") == 2
    err = one_line_error(capsys, "--backend oqs")
    assert "backend=" not in err


def test_share_count_reads_as_english(
    store: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one_share = tmp_path / "one"
    one_share.write_text(Path(store[3]).read_text().splitlines()[0])
    assert run("unseal", "--store", store[1], "--share-file", str(one_share)) == 2
    one_line_error(capsys, "only 1 distinct unseal share was given", "needs 2")


def test_articles_in_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pk, sk = tmp_path / "k.pub", tmp_path / "k.sec"
    assert run("keygen", "-a", "X25519-ML-KEM-768", "--public", str(pk), "--secret", str(sk)) == 0
    capsys.readouterr()
    assert run("sign", "--secret", str(sk), "--signature", str(tmp_path / "sig"), str(pk)) == 2
    one_line_error(capsys, "holds an X25519-ML-KEM-768 key, not a signing key")


def test_durations_as_the_user_writes_them(
    store: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sv("pki root root --common-name Root --key-type Ed25519", *store) == 0
    capsys.readouterr()
    assert (
        sv(
            "pki role web --issuer root --allowed-domains example.com --allow-subdomains --key-type Ed25519",
            *store,
        )
        == 0
    )
    assert "max TTL 720h" in capsys.readouterr().err
    outputs = ["--cert-out", str(tmp_path / "c.pem"), "--key-out", str(tmp_path / "k.pem")]
    assert sv("pki issue web www.example.com --ttl 1000h", *outputs, *store) == 2
    err = one_line_error(capsys, "1000h", "720h")
    assert "day" not in err and ":00:00" not in err


def test_short_passphrases_are_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, passphrase = tmp_path / "v.db", tmp_path / "pass"
    passphrase.write_text("hunter2\n")  # 7 characters once the line ending is dropped
    assert run("init", "--store", str(db), "--passphrase-file", str(passphrase)) == 2
    err = one_line_error(capsys, "7 characters", "at least 8", "offline")
    assert "hunter2" not in err
    assert not db.exists()
    passphrase.write_text("éééééééé")  # 8 characters, 16 bytes
    assert run("init", "--store", str(db), "--passphrase-file", str(passphrase)) == 0


# -- no tracebacks on odd input (issue 13 item 8) -------------------------------------------------------


def test_sign_context_of_non_utf8_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pk, sk, msg, sig = tmp_path / "p", tmp_path / "s", tmp_path / "m", tmp_path / "sig"
    msg.write_bytes(b"m")
    assert run("keygen", "-a", "ML-DSA-44", "--public", str(pk), "--secret", str(sk)) == 0
    context = os.fsdecode(b"\xff\xfe")  # how Python hands a non-UTF-8 argument to the program
    assert run("sign", "--secret", str(sk), "--context", context, "--signature", str(sig), str(msg)) == 0
    assert run("verify", "--public", str(pk), "--signature", str(sig), "--context", context, str(msg)) == 0
    # The context really is the raw bytes given, as any other implementation would sign them.
    key = cast(pqc.SigPublicKey, keyfile.load(pk.read_bytes()))
    key.verify(sig.read_bytes(), b"m", b"\xff\xfe")


def test_huge_ttl_is_a_usage_error(store: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert sv("pki root root --common-name R --key-type Ed25519 --ttl 99999999d", *store) == 2
    one_line_error(capsys, "--ttl", "9999")


def test_deeply_nested_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "deep.toml"
    config.write_text("x = " + "[" * 100_000 + "]" * 100_000)
    assert run("-c", str(config), "info") == 2
    one_line_error(capsys, "nested too deeply")


# -- secrets never reach a message (issue 13 item 2, on the command line) ---------------------------------


def test_a_dsn_password_is_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psycopg", reason="the PostgreSQL driver reports the malformed DSN")
    config = tmp_path / "pg.toml"
    # An unencoded "%" and a space: the driver quotes the malformed part in its error.
    config.write_text(
        '[storage]\nbackend = "postgresql"\ndsn = "postgresql://vault:SECRET%zz word@127.0.0.1:9/db"\n'
    )
    monkeypatch.setenv(PASSPHRASE_ENV, "a passphrase long enough")
    for argv in (
        ["-c", str(config), "transit", "list"],
        ["-c", str(config), "info"],
        ["-c", str(config), "unseal"],
    ):
        run(*argv)
        captured = capsys.readouterr()
        for shown in (captured.out, captured.err):
            assert "SECRET" not in shown and "zz word" not in shown and "word@" not in shown


def test_dsn_secrets_cover_every_spelling() -> None:
    from secretumvault.cli._io import dsn_secrets

    found = dsn_secrets("postgresql://u:p%40ss%zz w/rd@h:5/db?password=other")
    for secret in ("p%40ss%zz w/rd", "p@ss%zz w/rd", "other", "w/rd"):
        assert secret in found


# -- info and bench say what is in use, and when the native core is missing ------------------------------


def test_info_reports_the_backend_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("info", "--backend", "openssl", "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == "openssl"
    assert set(pqc.kem_algorithms("openssl")) <= set(info["kem_algorithms"])
    assert not set(info["kem_algorithms"]) - set(keyfile.KEM_ALGORITHMS)
    for name in set(pqc.kem_algorithms()) - set(pqc.kem_algorithms("openssl")):
        assert name not in info["kem_algorithms"]  # what openssl lacks is not claimed
    config = tmp_path / "c.toml"
    config.write_text(
        '[vault]\ncrypto_backend = "openssl"\n[crypto.oqs]\nhybrid_mode = false\n[storage]\npath = "x.db"\n'
    )
    assert run("info", "-c", str(config), "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == "openssl" and info["hybrid_mode"] is False
    assert info["keygen_defaults"] == {"kem": "ML-KEM-768", "signature": "ML-DSA-65"}
    assert info["storage"] == {"backend": "sqlite", "path": "x.db"}
    assert run("info", "-c", str(config)) == 0
    out = capsys.readouterr().out
    assert "openssl (configured)" in out and "x.db" in out and "ML-KEM-768 (KEM)" in out


BLOCK_NATIVE = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "secretumvault.pqc.backends._oqs":
            raise ModuleNotFoundError("No module named " + repr(name), name=name)
        return None
sys.meta_path.insert(0, Block())
sys.modules["matplotlib"] = None  # as if not installed
from secretumvault.cli import main
sys.exit(main(sys.argv[1:]))
"""


def without_native(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_NATIVE, *argv],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        check=False,
    )


def test_info_says_the_native_core_is_not_built() -> None:
    done = without_native("info")
    assert done.returncode == 0, done.stderr
    assert "native core not built: no liboqs found at build time" in done.stdout
    assert '"Where liboqs comes from"' in done.stdout
    assert "cannot import name" not in done.stdout + done.stderr
    done = without_native("info", "--backend", "oqs")
    assert done.returncode == 2
    assert "--backend oqs" in done.stderr and "no liboqs found at build time" in done.stderr
    assert "Where liboqs comes from" in done.stderr and done.stderr.count("\n") == 1


def test_bench_says_the_native_core_is_not_built_and_checks_plot_first() -> None:
    done = without_native("bench", "--quick", "--json", "--plot", "chart.png")
    assert done.returncode == 2
    assert "--plot needs matplotlib" in done.stderr
    assert done.stdout == ""  # refused before anything was measured


@pytest.mark.slow
def test_bench_without_native_core_runs_and_says_why() -> None:
    done = without_native("bench", "--quick", "--json")
    assert done.returncode == 0, done.stderr
    assert "native core not built: no liboqs found at build time" in done.stderr
    assert "Where liboqs comes from" in done.stderr
    report = json.loads(done.stdout)
    assert {r["contender"] for r in report["results"] if r["ns_per_op"]} >= {"secretumvault[openssl]"}


def test_key_info_shows_dates_and_durations_as_written() -> None:
    import dataclasses
    import datetime

    from secretumvault.cli.transit import _key_info_json

    @dataclasses.dataclass
    class Info:  # the shape of a transit KeyInfo that carries times
        created: datetime.datetime
        auto_rotate_period: datetime.timedelta
        public_key: bytes

    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    shown = json.loads(_key_info_json(untyped(Info(when, datetime.timedelta(days=30), b"\x00\x01"))))
    assert shown == {
        "created": "2030-01-02T03:04:05+00:00",
        "auto_rotate_period": "720h",
        "public_key": "AAE=",
    }
