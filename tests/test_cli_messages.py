"""Library errors in the command line's words: read from the errors' attributes, never from their text.

Each case runs the real command (or, where the command line cannot reach the
error, raises it from the real library) and checks the whole line shown, the
exit code, and that a refused command wrote nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secretumvault import pqc
from secretumvault.cli import main
from secretumvault.cli._messages import article, describe, forget_redactions, redact_later
from secretumvault.cli._store import PASSPHRASE_ENV, SHARES_ENV
from secretumvault.errors import (
    NotInitialized,
    SealedError,
    SecretumVaultError,
    UnsupportedAlgorithm,
)
from secretumvault.keystore import Keystore, SQLiteStorage

from .conftest import one_line_error, store_rows, sv


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one error line the command printed, without its prefix."""
    err = one_line_error(capsys, "secretumvault: error: ")
    return err.removeprefix("secretumvault: error: ").rstrip("\n")


pytestmark = pytest.mark.usefixtures("no_material_in_environment")


@pytest.fixture
def vault(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """A store sealed with 3 shares (any 2 unseal it), and the options that unseal it."""
    assert sv("init --store", str(db), "--shares", "3", "--threshold", "2") == 0
    share_file = tmp_path / "shares.txt"
    share_file.write_text(capsys.readouterr().out)
    return ["--store", str(db), "--share-file", str(share_file)]


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text("a passphrase long enough\n")
    return path


# -- unseal material of the wrong kind (UnsealError.seal) --------------------------------------


def test_a_passphrase_for_a_store_sealed_with_shares(
    vault: list[str], db: Path, passphrase_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = store_rows(db)
    assert sv("unseal --store", str(db), "--passphrase-file", str(passphrase_file)) == 2
    assert error_line(capsys) == (
        f"this store is sealed with Shamir shares: use --share-file (or {SHARES_ENV})"
    )
    assert store_rows(db) == before


def test_shares_for_a_store_sealed_with_a_passphrase(
    vault: list[str], tmp_path: Path, passphrase_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.db"
    assert sv("init --store", str(other), "--passphrase-file", str(passphrase_file)) == 0
    capsys.readouterr()
    before = store_rows(other)
    assert sv("transit list --store", str(other), "--share-file", vault[3]) == 2
    assert error_line(capsys) == (
        f"this store is sealed with a passphrase: use --passphrase-file (or {PASSPHRASE_ENV})"
    )
    assert store_rows(other) == before


def test_rekey_with_material_of_the_wrong_kind(
    vault: list[str], db: Path, passphrase_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new-passphrase"
    new.write_text("another long passphrase\n")
    before = store_rows(db)
    argv = ["--store", str(db), "--passphrase-file", str(passphrase_file), "--new-passphrase-file", str(new)]
    assert main(["operator", "rekey", *argv]) == 2
    assert error_line(capsys) == (
        f"this store is sealed with Shamir shares: use --share-file (or {SHARES_ENV})"
    )
    assert store_rows(db) == before


# -- a sealed or uninitialised store (SealedError, NotInitialized) --------------------------------


def test_a_sealed_store_names_the_flags(db: Path, vault: list[str]) -> None:
    # Every command unseals first, so the command line cannot meet this error; the library's own is used.
    storage = SQLiteStorage(db)
    try:
        with pytest.raises(SealedError) as raised:
            Keystore(storage).get("anything")
    finally:
        storage.close()
    assert "unseal_share()" in str(raised.value)  # the library's words, for Python callers
    assert describe(raised.value) == "the store is sealed: unseal it with --passphrase-file or --share-file"


def test_an_uninitialised_store_says_run_init(
    db: Path, passphrase_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SQLiteStorage(db).close()  # a store file with no store in it
    storage = SQLiteStorage(db)
    try:
        with pytest.raises(NotInitialized) as raised:
            Keystore(storage).unseal(b"a passphrase long enough")
    finally:
        storage.close()
    assert "initialize_with_passphrase()" in str(raised.value)
    assert describe(raised.value) == "this store is not initialised: run `secretumvault init` first"
    before = store_rows(db)
    assert sv("unseal --store", str(db), "--passphrase-file", str(passphrase_file)) == 2
    assert error_line(capsys) == "this store is not initialised: run `secretumvault init` first"
    assert store_rows(db) == before


def test_a_missing_store_is_named_with_its_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.db"
    assert sv("transit list --store", str(missing)) == 2
    assert error_line(capsys) == (
        f"no store at {str(missing)!r}: run `secretumvault init` first, or name it with --store"
    )
    assert not missing.exists()


# -- a backend that would do it (UnsupportedAlgorithm.backend) --------------------------------------


@pytest.mark.skipif("oqs" not in pqc.available_backends(), reason="the advice names the oqs backend")
def test_the_openssl_backend_without_slh_dsa_advises_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "SLH-DSA-SHA2-128f" in pqc.signature_algorithms("openssl"):
        pytest.skip("this pyca/cryptography provides SLH-DSA")
    public, secret = tmp_path / "p", tmp_path / "s"
    algorithm = ["--backend", "openssl", "-a", "SLH-DSA-SHA2-128f"]
    assert main(["keygen", *algorithm, "--public", str(public), "--secret", str(secret)]) == 2
    assert error_line(capsys) == (
        "the openssl backend (pyca/cryptography) cannot provide SLH-DSA-SHA2-128f; "
        "pyca/cryptography has no SLH-DSA (FIPS 205); use --backend oqs"
    )
    assert not public.exists() and not secret.exists()


def test_an_expanded_key_on_the_openssl_backend_advises_the_flag() -> None:
    if "ML-KEM-768" not in pqc.kem_algorithms("openssl"):
        pytest.skip("this pyca/cryptography has no ML-KEM-768")
    kem = pqc.Kem("ML-KEM-768", "openssl")
    with pytest.raises(UnsupportedAlgorithm) as raised:
        kem.secret_key_from_bytes(bytes(kem.secret_key_size))
    assert "keypair_from_seed()" in str(raised.value) and raised.value.backend == "oqs"
    assert describe(raised.value) == (
        "the openssl backend (pyca/cryptography) cannot load an expanded ML-KEM decapsulation key; "
        "use --backend oqs"
    )


# -- the argument at fault, as the flag that gave it (InvalidArgument.argument) -------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (("0", "1"), "--shares 0: shares must be an integer from 1 to 255"),
        (("3", "4"), "--threshold 4: threshold must be an integer from 1 to the number of shares"),
        (("3", "1"), "--threshold 1: threshold must be at least 2 when there is more than one share"),
    ],
)
def test_init_share_counts_name_their_flag(
    counts: tuple[str, str], expected: str, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shares, threshold = counts
    assert sv("init --store", str(db), "--shares", shares, "--threshold", threshold) == 2
    assert error_line(capsys) == expected
    assert not db.exists()


def test_rekey_share_counts_name_the_new_flags(
    vault: list[str], db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = store_rows(db)
    assert sv("operator rekey --new-shares 3 --new-threshold 1", *vault) == 2
    assert error_line(capsys) == (
        "--new-threshold 1: threshold must be at least 2 when there is more than one share"
    )
    assert store_rows(db) == before


def test_transit_config_versions_name_their_flag(
    vault: list[str], db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sv("transit create k", *vault) == 0
    capsys.readouterr()
    before = store_rows(db)
    assert sv("transit config k --min-decryption-version 0", *vault) == 2
    assert error_line(capsys) == "--min-decryption-version 0: min_decryption_version must be >= 1"
    assert sv("transit config k --min-decryption-version 5", *vault) == 2
    assert error_line(capsys) == (
        "--min-decryption-version 5: transit key 'k': min_decryption_version (5) must be between "
        "min_available_version (1) and the latest version (1)"
    )
    assert sv("transit config k --min-encryption-version 2", *vault) == 2
    assert error_line(capsys) == (
        "--min-encryption-version 2: transit key 'k': min_encryption_version (2) must be 0 (the latest) "
        "or between min_decryption_version (1) and the latest version (1)"
    )
    assert store_rows(db) == before


def test_transit_delete_names_the_setting_to_change(
    vault: list[str], db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sv("transit create old", *vault) == 0
    capsys.readouterr()
    before = store_rows(db)
    assert sv("transit delete old", *vault) == 2
    assert error_line(capsys) == (
        "transit key 'old' does not allow deletion; run "
        "`secretumvault transit config old --deletion-allowed` first"
    )
    assert store_rows(db) == before


def test_pki_ttl_over_the_roles_maximum_in_the_users_units(
    vault: list[str], db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sv("pki root root --common-name Root --key-type Ed25519", *vault) == 0
    assert sv("pki role web --issuer root --allowed-domains example.com --allow-subdomains", *vault) == 0
    capsys.readouterr()
    before = store_rows(db)
    outputs = ["--cert-out", str(tmp_path / "c.pem"), "--key-out", str(tmp_path / "k.pem")]
    assert sv("pki issue web www.example.com --ttl 1000h", *outputs, *vault) == 2
    assert error_line(capsys) == "--ttl 1000h exceeds the role's max TTL, 720h"
    assert sv("pki issue web www.example.com --ttl 30d1s", *outputs, *vault) == 2
    assert error_line(capsys) == "--ttl 30d1s exceeds the role's max TTL, 720h"
    assert store_rows(db) == before
    assert not (tmp_path / "c.pem").exists() and not (tmp_path / "k.pem").exists()


# -- a certificate named as the user typed it (KeyNotFound.kind) -----------------------------------


@pytest.mark.parametrize("serial", ["00:11", "01:02:03", "0a"])
def test_pki_revoke_names_the_serial_as_typed(
    serial: str, vault: list[str], db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sv("pki root root --common-name Root --key-type Ed25519", *vault) == 0
    capsys.readouterr()
    before = store_rows(db)
    assert sv("pki revoke", serial, *vault) == 2
    # Not "11", nor "1h2m3s" (a serial once read as a duration by a message rewriter).
    assert error_line(capsys) == f"no certificate with serial {serial}"
    assert store_rows(db) == before


def test_a_missing_ca_keeps_the_librarys_words(vault: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert sv("pki crl nobody", *vault) == 2
    assert error_line(capsys) == "no CA named 'nobody'"


# -- every message: one line, secrets removed; other messages untouched ---------------------------


def test_messages_are_one_line_and_redacted() -> None:
    try:
        redact_later("hunter2-password")
        error = SecretumVaultError("cannot connect to hunter2-password:\n  line two\n")
        assert describe(error) == "cannot connect to <redacted>: line two"
    finally:
        forget_redactions()
    when = "valid until 2030-01-01 12:00:00"  # no longer read as a duration
    assert describe(SecretumVaultError(when)) == when
    assert describe(SecretumVaultError()) == "SecretumVaultError"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("ML-KEM-768", "an"),
        ("X25519-ML-KEM-768", "an"),
        ("ed25519", "an"),
        ("SLH-DSA-SHA2-128f", "an"),
        ("RSA-3072", "an"),
        ("SecretumVault", "a"),
        ("P-256", "a"),
    ],
)
def test_article_before_algorithm_names(word: str, expected: str) -> None:
    assert article(word) == expected


def test_the_attributes_survive_pickling() -> None:
    import pickle

    from secretumvault.errors import InvalidArgument, KeyNotFound, UnsealError

    for error, attribute, value in (
        (InvalidArgument("m", argument="threshold"), "argument", "threshold"),
        (UnsealError("m", seal="shares"), "seal", "shares"),
        (KeyNotFound("m", kind="certificate", name="11"), "kind", "certificate"),
        (UnsupportedAlgorithm("m", backend="oqs", reason="r"), "backend", "oqs"),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == "m"
        assert getattr(copy, attribute) == value
