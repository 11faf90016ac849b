"""secretumvault init / unseal / transit / pki: walk-throughs on a real SQLite store, and every error path."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from secretumvault.cli import main
from secretumvault.cli._store import PASSPHRASE_ENV, SHARES_ENV
from secretumvault.cli.pki import parse_ttl

from .conftest import one_line_error, store_rows, sv
from .pki.x509check import assert_crl_signed_by, assert_issued_by


def run(*argv: str) -> int:
    return main(list(argv))


def terminal_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)


pytestmark = pytest.mark.usefixtures("no_material_in_environment")


@pytest.fixture
def shares(db: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """A store initialised with 3 shares, threshold 2 (stdout is captured: not a terminal)."""
    assert run("init", "--store", str(db), "--shares", "3", "--threshold", "2") == 0
    return capsys.readouterr().out.splitlines()


@pytest.fixture
def vault(db: Path, shares: list[str], tmp_path: Path) -> list[str]:
    """Store options that unseal the store of ``shares`` from a share file."""
    share_file = tmp_path / "shares.txt"
    share_file.write_text("\n".join(shares[1:]) + "\n")
    return ["--store", str(db), "--share-file", str(share_file)]


# -- init and unseal ------------------------------------------------------------------------


def test_building_the_parser_loads_no_engine() -> None:
    code = (
        "import sys; from secretumvault.cli import build_parser; build_parser(); "
        "print(sorted(m for m in sys.modules if m.startswith(('secretumvault.transit', "
        "'secretumvault.pki', 'secretumvault.keystore', 'secretumvault.pqc'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_init_prints_shares_one_per_line_and_warns(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("init", "--store", str(db), "--shares", "5", "--threshold", "3") == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == len(set(lines)) == 5 and all(line.startswith("svs1-") for line in lines)
    assert "WARNING" in captured.err and not any(share in captured.err for share in lines)


def test_shares_unseal_from_file_and_environment(
    shares: list[str],
    vault: list[str],
    db: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run("unseal", *vault) == 0
    assert capsys.readouterr().out == "unsealed\n"
    monkeypatch.setenv(SHARES_ENV, f"{shares[0]}, {shares[2]}")
    assert run("unseal", "--store", str(db)) == 0
    assert capsys.readouterr().out == "unsealed\n"


def test_init_refuses_to_print_shares_to_a_terminal(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal_stdout(monkeypatch)
    assert run("init", "--store", str(db), "--shares", "3", "--threshold", "2") == 2
    one_line_error(capsys, "terminal", "--show-shares")
    assert not db.exists()  # refused before the store was created, so no share was lost
    assert run("init", "--store", str(db), "--shares", "3", "--threshold", "2", "--show-shares") == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 3 and "WARNING" in captured.err


def test_init_twice_is_refused_and_changes_nothing(
    shares: list[str], vault: list[str], db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = store_rows(db)
    assert run("init", "--store", str(db), "--shares", "3", "--threshold", "2") == 2
    one_line_error(capsys, "already initialised")
    assert store_rows(db) == before
    assert run("unseal", *vault) == 0  # the first shares still unseal it


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--shares", "3"], "--threshold"),
        (["--threshold", "2"], "--shares"),
        ([], "--passphrase-file"),
    ],
)
def test_init_needs_a_complete_choice(
    db: Path, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("init", "--store", str(db), *argv) == 2
    one_line_error(capsys, words)
    assert not db.exists()


def test_init_with_bad_share_counts_is_refused(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("init", "--store", str(db), "--shares", "3", "--threshold", "4") == 2
    one_line_error(capsys, "threshold")
    assert not db.exists()


def test_passphrase_store(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse battery staple\n")  # the trailing newline is not part of it
    assert run("init", "--store", str(db), "--passphrase-file", str(passphrase)) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "correct horse" not in captured.err
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
    assert run("unseal", "--store", str(db)) == 0
    assert capsys.readouterr().out == "unsealed\n"
    before = store_rows(db)
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong horse battery staple")
    assert run("transit", "create", "k", "--store", str(db)) == 2
    one_line_error(capsys, "wrong passphrase")
    assert store_rows(db) == before


def test_no_material_is_one_line_and_writes_nothing(
    vault: list[str], db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = store_rows(db)
    assert run("transit", "create", "k", "--store", str(db)) == 2
    one_line_error(capsys, "--passphrase-file", "--share-file", PASSPHRASE_ENV, SHARES_ENV)
    assert store_rows(db) == before


def test_wrong_shares_are_refused_and_write_nothing(
    shares: list[str], db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.db"
    assert run("init", "--store", str(other), "--shares", "3", "--threshold", "2") == 0
    foreign = capsys.readouterr().out.splitlines()
    before = store_rows(db)
    cases = [
        ([shares[0]], "only 1"),
        ([shares[0], shares[0]], "already given"),
        ([shares[0], foreign[1]], "another store"),
        ([shares[0], shares[1][:-4] + "AAAA"], "garbled"),
        (["hunter2"], "not an unseal share"),
    ]
    share_file = tmp_path / "shares.txt"
    for lines, words in cases:
        share_file.write_text("\n".join(lines))
        assert run("transit", "create", "k", "--store", str(db), "--share-file", str(share_file)) == 2
        one_line_error(capsys, words)
    assert store_rows(db) == before


def test_ambiguous_or_unreadable_material_is_a_usage_error(
    shares: list[str], db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("unseal", "--store", str(db), "--share-file", str(db.parent / "missing")) == 2
    one_line_error(capsys, "cannot read share file")
    assert run("unseal", "--store", str(db), "--passphrase-file", "-") == 2
    one_line_error(capsys, "must be a file")
    monkeypatch.setenv(SHARES_ENV, ",".join(shares))
    monkeypatch.setenv(PASSPHRASE_ENV, "x")
    assert run("unseal", "--store", str(db)) == 2
    one_line_error(capsys, "both")


def test_missing_store_is_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.db"
    share_file = tmp_path / "shares.txt"
    share_file.write_text("svs1-x\n")
    assert run("transit", "list", "--store", str(missing), "--share-file", str(share_file)) == 2
    one_line_error(capsys, "secretumvault init")
    assert not missing.exists()


def test_store_comes_from_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "configured.db"
    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\nbackend = "sqlite"\npath = "{db.as_posix()}"\n')
    assert run("init", "-c", str(config), "--shares", "1", "--threshold", "1") == 0
    monkeypatch.setenv(SHARES_ENV, capsys.readouterr().out)
    assert run("transit", "create", "from-config", "-c", str(config)) == 0
    capsys.readouterr()
    assert run("transit", "list", "--store", str(db)) == 0
    assert capsys.readouterr().out == "from-config\n"


# -- transit ------------------------------------------------------------------------------------


def out_of(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.strip()


@pytest.mark.parametrize("key_type", ["aes256-gcm96", "ml-kem-768", "hybrid-x25519-ml-kem-768"])
def test_transit_encryption_walk_through(
    vault: list[str], tmp_path: Path, key_type: str, capsys: pytest.CaptureFixture[str]
) -> None:
    message, ciphertext, recovered = tmp_path / "msg", tmp_path / "ct", tmp_path / "pt"
    message.write_bytes(b"card 4111 1111 1111 1111\n\x00binary")
    ad = ["--associated-data", "order 17"]
    assert sv("transit create orders --type", key_type, *vault) == 0
    assert json.loads(out_of(capsys))["type"] == key_type
    assert sv("transit list", *vault) == 0
    assert out_of(capsys) == "orders"

    assert sv("transit encrypt orders", str(message), *ad, *vault) == 0
    first = out_of(capsys)
    assert first.startswith("vault:v1:")
    ciphertext.write_text(first + "\n")
    assert sv("transit decrypt orders", str(ciphertext), *ad, "--out", str(recovered), *vault) == 0
    assert recovered.read_bytes() == message.read_bytes()
    assert recovered.stat().st_mode & 0o777 == 0o600

    assert sv("transit rotate orders", *vault) == 0
    assert json.loads(out_of(capsys))["latest_version"] == 2
    assert sv("transit rewrap orders", str(ciphertext), *ad, *vault) == 0
    rewrapped = out_of(capsys)
    assert rewrapped.startswith("vault:v2:")
    ciphertext.write_text(rewrapped)
    recovered.unlink()
    assert sv("transit decrypt orders", str(ciphertext), *ad, "--out", str(recovered), *vault) == 0
    assert recovered.read_bytes() == message.read_bytes()

    assert sv("transit read orders", *vault) == 0
    info = json.loads(out_of(capsys))
    assert info["latest_version"] == 2 and set(info["versions"]) == {"1", "2"}
    assert (info["versions"]["1"]["public_key"] is None) == (key_type == "aes256-gcm96")


def test_decrypt_to_a_pipe_and_never_to_a_terminal(
    vault: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    message, ciphertext = tmp_path / "msg", tmp_path / "ct"
    message.write_text("the launch code is 0000")
    assert sv("transit create k", *vault) == 0
    assert sv("transit encrypt k", str(message), *vault) == 0
    ciphertext.write_text(capsys.readouterr().out.splitlines()[-1])
    assert sv("transit decrypt k", str(ciphertext), *vault) == 0
    assert capsys.readouterr().out == "the launch code is 0000"
    terminal_stdout(monkeypatch)
    assert sv("transit decrypt k", str(ciphertext), "--out", "-", *vault) == 2
    err = one_line_error(capsys, "refusing", "terminal")
    assert "launch code" not in err


def test_decrypt_failures_write_no_plaintext(
    vault: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message, ciphertext, out = tmp_path / "msg", tmp_path / "ct", tmp_path / "pt"
    message.write_text("secret")
    assert sv("transit create k", *vault) == 0
    assert sv("transit encrypt k --associated-data a", str(message), *vault) == 0
    ciphertext.write_text(capsys.readouterr().out.splitlines()[-1])
    assert sv("transit decrypt k --associated-data b", str(ciphertext), "--out", str(out), *vault) == 2
    one_line_error(capsys, "associated data")
    ciphertext.write_bytes(b"\xff\xfe not ascii")
    assert sv("transit decrypt k", str(ciphertext), "--out", str(out), *vault) == 2
    one_line_error(capsys, "vault:v<N>")
    assert not out.exists()


def test_transit_sign_and_verify(
    vault: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message, signature = tmp_path / "release.tar.gz", tmp_path / "sig"
    message.write_bytes(b"release 1.0")
    assert sv("transit create releases --type ml-dsa-65", *vault) == 0
    assert sv("transit sign releases --context rel", str(message), *vault) == 0
    signed = capsys.readouterr().out.splitlines()[-1]
    assert signed.startswith("vault:v1:")
    signature.write_text(signed + "\n")
    for given in (signed, str(signature)):
        assert sv("transit verify releases --context rel", str(message), "--signature", given, *vault) == 0
        assert "signature OK" in capsys.readouterr().err
    assert sv("transit verify releases --context other", str(message), "--signature", signed, *vault) == 1
    one_line_error(capsys, "does NOT verify")
    message.write_bytes(b"release 1.1")
    assert sv("transit verify releases --context rel", str(message), "--signature", signed, *vault) == 1
    one_line_error(capsys, "does NOT verify")


def test_transit_delete_needs_deletion_allowed(
    vault: list[str], db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sv("transit create old", *vault) == 0
    capsys.readouterr()
    before = store_rows(db)
    assert sv("transit delete old", *vault) == 2
    one_line_error(capsys, "transit config old --deletion-allowed")
    assert store_rows(db) == before
    assert sv("transit config old", *vault) == 2
    one_line_error(capsys, "nothing to change")
    assert sv("transit config old --deletion-allowed", *vault) == 0
    assert json.loads(out_of(capsys))["deletion_allowed"] is True
    assert sv("transit delete old", *vault) == 0
    capsys.readouterr()
    assert sv("transit list", *vault) == 0
    assert out_of(capsys) == ""
    assert sv("transit read old", *vault) == 2
    one_line_error(capsys, "old")


def test_transit_mistakes_change_nothing(
    vault: list[str], db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sv("transit create k", *vault) == 0
    capsys.readouterr()
    before = store_rows(db)
    message = tmp_path / "msg"
    message.write_text("m")
    for command, words in [
        ("transit create k", "exists"),
        ("transit create other --type rot13", "unknown transit key type"),
        ("transit create bad/name", "key name"),
        ("transit rotate missing", "missing"),
        (f"transit encrypt missing {message}", "missing"),
    ]:
        assert sv(command, *vault) == 2
        one_line_error(capsys, words)
    assert store_rows(db) == before


# -- pki ----------------------------------------------------------------------------------------------

WEB_ROLE = "pki role web --issuer root --allowed-domains example.com,example.org --allow-subdomains"


# ML-DSA keys made on "openssl" are stored in RFC 9881 seed form, which pyca/cryptography loads back.
@pytest.mark.parametrize(("key_type", "backend"), [("ML-DSA-65", "openssl"), ("ECDSA-P256", "auto")])
def test_pki_walk_through(
    vault: list[str], tmp_path: Path, key_type: str, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cert_file, key_file, crl_file = tmp_path / "leaf.pem", tmp_path / "leaf.key", tmp_path / "crl.pem"
    vault = [*vault, "--backend", backend, "--key-type", key_type]
    assert sv("pki root root --common-name Example-Root --ttl 87600h", *vault) == 0
    root = x509.load_pem_x509_certificate(capsys.readouterr().out.encode())
    assert root.not_valid_after_utc - root.not_valid_before_utc == datetime.timedelta(hours=87600)
    assert sv("pki chain root", *vault[:-2]) == 0
    assert x509.load_pem_x509_certificates(capsys.readouterr().out.encode()) == [root]

    assert sv(WEB_ROLE, "--max-ttl", "72h", *vault) == 0
    outputs = ["--cert-out", str(cert_file), "--key-out", str(key_file)]
    assert (
        sv("pki issue web www.example.com --alt-names api.example.org --ttl 24h", *outputs, *vault[:-2]) == 0
    )
    serial = capsys.readouterr().out.strip()

    leaf = x509.load_pem_x509_certificate(cert_file.read_bytes())
    assert_issued_by(leaf, root)
    assert leaf.serial_number == int(serial.replace(":", ""), 16)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["www.example.com", "api.example.org"]
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= datetime.timedelta(hours=24, seconds=30)
    assert key_file.stat().st_mode & 0o777 == 0o600
    private_key = load_pem_private_key(key_file.read_bytes(), password=None)
    assert private_key.public_key() == leaf.public_key()

    assert sv("pki revoke", serial, *vault[:-2]) == 0
    assert sv("pki crl root --out", str(crl_file), *vault[:-2]) == 0
    crl = x509.load_pem_x509_crl(crl_file.read_bytes())
    assert_crl_signed_by(crl, root)
    assert crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None


@pytest.fixture
def ed25519_ca(vault: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    """An Ed25519 root "root" and role "web" (subdomains of example.com and example.org, 48h at most)."""
    assert sv("pki root root --common-name Root --key-type Ed25519", *vault) == 0
    assert sv(WEB_ROLE, "--key-type", "Ed25519", "--max-ttl", "48h", *vault) == 0
    capsys.readouterr()
    return vault


def test_pki_mistakes_change_nothing_and_write_no_files(
    ed25519_ca: list[str], db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert_file, key_file = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert, key, missing_dir = str(cert_file), str(key_file), str(tmp_path / "no" / "c.pem")
    outputs = ["--cert-out", cert, "--key-out", key]
    before = store_rows(db)
    cases = [
        ("pki issue web www.evil.com", outputs, 2, "does not allow the name"),
        ("pki issue web example.com", outputs, 2, "does not allow the name"),  # no bare domains
        ("pki issue web www.example.com --ttl 72h", outputs, 2, "max TTL"),
        ("pki issue web www.example.com --ttl 5days", outputs, 2, "not a duration"),
        ("pki issue web www.example.com --alt-names a.example.com,", outputs, 2, "none empty"),
        ("pki issue nobody www.example.com", outputs, 2, "no role named"),
        ("pki issue web www.example.com", ["--cert-out", cert, "--key-out", cert], 2, "different"),
        ("pki issue web www.example.com", ["--cert-out", cert, "--key-out", "-"], 2, "must name a file"),
        ("pki issue web www.example.com", ["--cert-out", missing_dir, "--key-out", key], 2, "does not exist"),
        ("pki role api --issuer missing --allowed-domains a.com --key-type Ed25519", [], 2, "no CA named"),
        ("pki root root --common-name Again", [], 2, "already exists"),
        ("pki root r2 --common-name R2 --ttl 0s", [], 2, "at least one second"),
        ("pki root r3 --common-name R3 --key-type DSA-1024", [], 2, "DSA-1024"),
        ("pki revoke 01:02:03", [], 2, "no certificate"),
        ("pki revoke not-hex", [], 2, "serial number"),
        ("pki crl missing", [], 2, "no CA named"),
        ("pki chain missing", [], 2, "no CA named"),
    ]
    for command, more, code, words in cases:
        assert sv(command, *more, *ed25519_ca) == code, command
        one_line_error(capsys, words)
    assert store_rows(db) == before
    assert not cert_file.exists() and not key_file.exists()


def test_pki_revoking_twice_returns_the_first_time(
    ed25519_ca: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 18: as in Vault, revoking again is not an error; the first revocation time stands.
    outputs = ["--cert-out", str(tmp_path / "c.pem"), "--key-out", str(tmp_path / "k.pem")]
    assert sv("pki issue web www.example.com", *outputs, *ed25519_ca) == 0
    serial = capsys.readouterr().out.strip()
    assert sv("pki revoke", serial, *ed25519_ca) == 0
    first = capsys.readouterr().err
    assert sv("pki revoke", serial, *ed25519_ca) == 0
    assert capsys.readouterr().err == first


# -- durations -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3600s", 3600),
        ("90m", 5400),
        ("24h", 86400),
        ("30d", 2592000),
        ("1h30m", 5400),
        ("87600h", 315360000),
    ],
)
def test_parse_ttl(text: str, seconds: int) -> None:
    assert parse_ttl(text, "--ttl") == datetime.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text", ["", "24", "h", "-1h", "1.5h", "24H", "1 h", "0s", "99999999999d", "9999999999d"]
)
def test_parse_ttl_refuses(text: str) -> None:
    from secretumvault.cli import UsageError

    with pytest.raises(UsageError, match="--ttl"):
        parse_ttl(text, "--ttl")


# -- outputs never follow a planted symbolic link (issue 13 item 1) --------------------------------------


def planted_link(tmp_path: Path, name: str) -> tuple[Path, Path]:
    victim = tmp_path / f"{name}-victim"
    victim.write_bytes(b"precious")
    victim.chmod(0o644)
    link = tmp_path / name
    link.symlink_to(victim)
    return link, victim


def test_transit_decrypt_never_writes_through_a_symlink(
    vault: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message, ciphertext = tmp_path / "msg", tmp_path / "ct"
    message.write_text("the launch code is 0000")
    assert sv("transit create k", *vault) == 0
    assert sv("transit encrypt k", str(message), *vault) == 0
    ciphertext.write_text(capsys.readouterr().out.splitlines()[-1])
    link, victim = planted_link(tmp_path, "plain")
    assert sv("transit decrypt k", str(ciphertext), "--out", str(link), *vault) == 2
    one_line_error(capsys, "--out", "symbolic link")
    assert victim.read_bytes() == b"precious" and victim.stat().st_mode & 0o777 == 0o644


def test_pki_issue_never_writes_the_key_through_a_symlink(
    ed25519_ca: list[str], db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link, victim = planted_link(tmp_path, "leaf.key")
    before = store_rows(db)
    outputs = ["--cert-out", str(tmp_path / "leaf.pem"), "--key-out", str(link)]
    assert sv("pki issue web www.example.com", *outputs, *ed25519_ca) == 2
    one_line_error(capsys, "--key-out", "symbolic link")
    assert victim.read_bytes() == b"precious" and victim.stat().st_mode & 0o777 == 0o644
    assert store_rows(db) == before  # refused before a certificate was issued
    assert not (tmp_path / "leaf.pem").exists()


def test_pki_crl_replaces_its_output_without_following_links(
    ed25519_ca: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crl_file = tmp_path / "crl.pem"
    crl_file.write_text("an old CRL")
    assert sv("pki crl root --out", str(crl_file), *ed25519_ca) == 0
    assert x509.load_pem_x509_crl(crl_file.read_bytes()).last_update_utc is not None  # the old text is gone
    link, victim = planted_link(tmp_path, "crl2.pem")
    assert sv("pki crl root --out", str(link), *ed25519_ca) == 2
    one_line_error(capsys, "--out", "symbolic link")
    assert victim.read_bytes() == b"precious"
