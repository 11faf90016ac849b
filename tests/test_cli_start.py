"""A command imports only what it uses, and the start-time benchmark measures real runs.

Times are never asserted here (they measure the machine); they are reported by
``secretumvault bench`` and benchmarks/. What is asserted is what each command
loads, which is what decides its start time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretumvault import pqc
from secretumvault.bench import cli_start

ROOT = Path(__file__).resolve().parent.parent

# Runs the command in a fresh interpreter and reports every secretumvault or third-party
# module it loaded, whatever the command's outcome.
PROBE = """
import json, sys
before = set(sys.modules)
from secretumvault.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
print("\\n" + json.dumps(sorted(set(sys.modules) - before)), file=sys.stderr)
"""

HEAVY = (
    "secretumvault.pqc",
    "secretumvault.hybrid",
    "secretumvault.keystore",
    "secretumvault.transit",
    "secretumvault.pki",
    "secretumvault.config",
    "cryptography",
    "rich",
    "tomllib",
)


def run_probe(*argv: str, cwd: Path | None = None) -> tuple[str, list[str]]:
    """The command's standard output, and the modules it loaded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETUMVAULT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, modules


def loaded_by(*argv: str, cwd: Path | None = None) -> list[str]:
    return run_probe(*argv, cwd=cwd)[1]


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(HEAVY)]


def test_the_package_import_loads_only_its_errors() -> None:
    # The budget line "import secretumvault under 5 ms": typing alone costs about that much.
    code = "import sys; old = set(sys.modules); import secretumvault; print(sorted(set(sys.modules) - old))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETUMVAULT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "['secretumvault', 'secretumvault.errors']"


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_load_no_engine_and_no_crypto(argv: list[str]) -> None:
    modules = loaded_by(*argv)
    assert heavy(modules) == []
    assert "argparse" not in modules  # answered before any parser is built


def test_a_command_builds_and_imports_only_its_own_group() -> None:
    modules = loaded_by("keygen", "--help")
    assert "secretumvault.cli.keys" in modules
    for other in ("secretumvault.cli._store", "secretumvault.cli.transit", "secretumvault.cli.info"):
        assert other not in modules, other
    assert heavy(modules) == []
    modules = loaded_by("transit", "encrypt", "--help")
    assert "secretumvault.cli.transit" in modules
    for other in ("secretumvault.cli.keys", "secretumvault.cli.pki", "secretumvault.cli.operator"):
        assert other not in modules, other
    assert heavy(modules) == []


def test_transit_encrypt_loads_no_pki_and_no_report(tmp_path: Path) -> None:
    share_file, message = tmp_path / "shares", tmp_path / "m"
    message.write_bytes(b"m")
    store = ["--store", str(tmp_path / "v.db")]
    subprocess.run(
        [sys.executable, "-m", "secretumvault", "init", *store, "--shares", "1", "--threshold", "1"],
        stdout=share_file.open("wb"),
        check=True,
        cwd=ROOT,
    )
    unseal = [*store, "--share-file", str(share_file)]
    subprocess.run(
        [sys.executable, "-m", "secretumvault", "transit", "create", "k", *unseal],
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    modules = loaded_by("transit", "encrypt", "k", str(message), *unseal)
    assert "secretumvault.transit" in modules  # it did run
    for unused in (
        "secretumvault.pki",
        "secretumvault.cli.keys",
        "secretumvault.cli.info",
        "secretumvault.bench",
        "rich",
        "tomllib",
        "matplotlib",
    ):
        assert not [m for m in modules if m == unused or m.startswith(unused + ".")], unused


@pytest.fixture(scope="module")
def shares_store(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A SQLite store sealed with 3 shares (any 2 unseal it), one ml-kem-768 and one aes256-gcm96 key."""
    directory = tmp_path_factory.mktemp("shares-store")
    share_file = directory / "shares"
    store = ["--store", str(directory / "v.db")]
    with share_file.open("wb") as out:
        subprocess.run(
            [sys.executable, "-m", "secretumvault", "init", *store, "--shares", "3", "--threshold", "2"],
            stdout=out,
            check=True,
            cwd=ROOT,
        )
    unseal = [*store, "--share-file", str(share_file)]
    for name, key_type in (("kem", "ml-kem-768"), ("aes", "aes256-gcm96")):
        subprocess.run(
            [sys.executable, "-m", "secretumvault", "transit", "create", name, "--type", key_type, *unseal],
            capture_output=True,
            check=True,
            cwd=ROOT,
        )
    return unseal


# What a store sealed with shares, on SQLite, never needs: the PostgreSQL glue, scrypt
# (passphrase seals only), the hybrid package and pyca's X25519/Ed25519/ECDSA (hybrid and
# classical key types only), the export/backup code, and secrets with random (key generation
# and write retries only).
NOT_FOR_SHARES_ON_SQLITE = (
    "secrets",
    "random",
    "psycopg",
    "secretumvault.keystore.postgres",
    "cryptography.hazmat.primitives.kdf.scrypt",
    "secretumvault.hybrid",
    "cryptography.hazmat.primitives.asymmetric.x25519",
    "cryptography.hazmat.primitives.asymmetric.ed25519",
    "cryptography.hazmat.primitives.asymmetric.ec",
    "secretumvault.transit._portability",
)


@pytest.mark.parametrize("key", ["kem", "aes"])
def test_transit_encrypt_on_a_shares_sealed_sqlite_store_loads_only_what_it_uses(
    key: str, shares_store: list[str], tmp_path: Path
) -> None:
    message, ciphertext = tmp_path / "m", tmp_path / "ct"
    message.write_bytes(b"attack at dawn")
    out, modules = run_probe("transit", "encrypt", key, str(message), *shares_store)
    assert out.startswith("vault:v1:")  # it did encrypt
    ciphertext.write_text(out)
    # With the native core built, "auto" never needs the openssl backend (pyca's ML-KEM/ML-DSA).
    native = "secretumvault.pqc.backends._oqs" in modules
    assert native == ("oqs" in pqc.available_backends())
    for unused in NOT_FOR_SHARES_ON_SQLITE:
        pyca_own = unused.startswith("cryptography.hazmat.primitives.asymmetric.") or unused == "random"
        if not native and pyca_own:
            # pyca's own ML-KEM module, the fallback's, loads its asymmetric siblings, and its
            # openssl backend module loads rsa, which imports random.
            continue
        assert not [m for m in modules if m == unused or m.startswith(unused + ".")], unused
    # The KEM cipher is loaded for the KEM key only.
    assert ("secretumvault.transit._kem_cipher" in modules) == (key == "kem")
    assert ("secretumvault.pqc.backends.openssl" in modules) == (not native)
    decrypted = subprocess.run(
        [sys.executable, "-m", "secretumvault", "transit", "decrypt", key, str(ciphertext), *shares_store],
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    assert decrypted.stdout == b"attack at dawn"


# dataclasses would take transit encrypt over its start budget (measured in secretumvault/_frozen.py):
# the records on these paths are Frozen classes.
DATACLASS_MACHINERY = ("dataclasses", "inspect", "ast", "dis", "tokenize")


@pytest.mark.parametrize("key", ["kem", "aes"])
def test_common_commands_never_import_dataclasses(key: str, shares_store: list[str], tmp_path: Path) -> None:
    message, ciphertext = tmp_path / "m", tmp_path / "ct"
    message.write_bytes(b"attack at dawn")
    out, encrypting = run_probe("transit", "encrypt", key, str(message), *shares_store)
    assert out.startswith("vault:v1:")  # it did encrypt
    ciphertext.write_text(out)
    out, decrypting = run_probe("transit", "decrypt", key, str(ciphertext), *shares_store)
    assert out == "attack at dawn"  # and decrypt
    runs = {
        "--version": loaded_by("--version"),
        "--help": loaded_by("--help"),
        "transit encrypt": encrypting,
        "transit decrypt": decrypting,
    }
    for command, modules in runs.items():
        assert [m for m in modules if m in DATACLASS_MACHINERY] == [], command


def test_info_loads_no_engine() -> None:
    modules = loaded_by("info")
    for unused in ("secretumvault.keystore", "secretumvault.transit", "secretumvault.pki", "rich"):
        assert not [m for m in modules if m.startswith(unused)], unused


def test_cli_start_benchmark_times_real_runs() -> None:
    result = cli_start.measure(rounds=1)
    assert result["rounds"] == 1 and result["interpreter_ms"] > 0
    commands = [row["command"] for row in result["commands"]]
    assert commands[:3] == ["--version", "--help", "transit encrypt"]
    assert commands[3:] in ([], ["python -m secretumvault --version"])  # the latter beside a script
    assert "secretumvault" in result["launcher"]
    summary = cli_start.summary(result)
    assert "python -c pass" in summary and "transit encrypt" in summary


def test_a_failing_command_is_an_error_never_a_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_start, "_launcher", lambda: [sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(RuntimeError, match="exited 3"):
        cli_start.measure(rounds=1)


def test_the_fast_help_is_the_parsers_help(monkeypatch: pytest.MonkeyPatch) -> None:
    # --help is answered without argparse; it must say exactly what the parser would.
    from secretumvault.cli import _help_text, build_parser

    monkeypatch.setenv("COLUMNS", "200")  # no wrapping, so the texts compare exactly
    assert _help_text() == build_parser().format_help()


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_and_version_answer_from_the_fast_path(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    from secretumvault import __version__
    from secretumvault.cli import main

    assert main([flag]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: secretumvault") and "exit codes:" in out and "transit" in out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"secretumvault {__version__}\n"


def test_a_command_builds_only_its_own_group_of_parsers() -> None:
    import argparse

    from secretumvault.cli import build_parser

    parser = build_parser(["--backend", "oqs", "transit", "encrypt", "k"])
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    built = {name for name, sub in commands.choices.items() if sub._actions}
    assert built == {"transit"}  # every other command is a name and a help line only
    full = build_parser()
    (all_commands,) = (a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    assert list(all_commands.choices) == list(commands.choices)  # same commands, same order
