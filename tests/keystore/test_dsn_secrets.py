"""A PostgreSQL password never reaches an error message, however the DSN is malformed (issue 13, item 2)."""

from __future__ import annotations

import traceback
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from secretumvault.cli import main
from secretumvault.errors import KeystoreError, SecretumVaultError
from secretumvault.keystore import PostgresStorage, open_storage

from .conftest import pg_dsn

MARKER = "PW-MARKER-7f3a"

# Passwords as a user might paste them, unencoded: libpq refuses each of these
# DSNs while parsing, and its message quotes the offending part.
MALFORMED = [
    f"postgresql://user:{MARKER}%zz@127.0.0.1:1/db",
    f"postgresql://user:{MARKER}%@127.0.0.1:1/db",
    f"postgresql://user:{MARKER} with spaces@127.0.0.1:1/db",
    f"postgresql://user:{MARKER}%20x y@127.0.0.1:1/db",
    f"postgresql://127.0.0.1:1/db?password={MARKER}%zz",
    f"host=127.0.0.1 port=1 user=u password={MARKER} spaced",
    f"host=127.0.0.1 port=1 user=u password='{MARKER}",
    f"postgresql://user:{MARKER}@127.0.0.1:1/db?bogus_option=1",
]


def _all_text(exc: BaseException) -> str:
    """Everything a traceback of ``exc`` would print, chained causes included."""
    return "".join(traceback.format_exception(exc))


@pytest.mark.parametrize("dsn", MALFORMED)
def test_malformed_dsn_error_hides_the_password(dsn: str) -> None:
    with pytest.raises(KeystoreError) as info:
        open_storage("postgresql", dsn=dsn)
    assert MARKER not in _all_text(info.value)
    assert MARKER[:6] not in _all_text(info.value)  # nor a part of it
    assert "percent-encode" in str(info.value) or "DSN" in str(info.value)


def test_unreachable_server_error_hides_the_password() -> None:
    dsn = f"postgresql://user:{quote(MARKER)}@127.0.0.1:1/db?connect_timeout=2"
    with pytest.raises(KeystoreError) as info:
        PostgresStorage(dsn)
    assert MARKER not in _all_text(info.value)
    assert "127.0.0.1" in str(info.value)  # what helps is still there


def test_wrong_password_error_hides_it() -> None:
    parts = urlsplit(pg_dsn())
    wrong = f"{MARKER} % wrong"
    dsn = parts._replace(netloc=f"{parts.username}:{quote(wrong)}@{parts.hostname}:{parts.port}").geturl()
    with pytest.raises(KeystoreError) as info:
        PostgresStorage(dsn)
    assert MARKER not in _all_text(info.value)
    assert quote(wrong) not in _all_text(info.value)
    assert "authentication failed" in str(info.value)


@pytest.mark.parametrize("dsn", [d for d in MALFORMED if d.startswith("postgresql://")])
def test_cli_does_not_print_the_password(
    dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nbackend = "postgresql"\ndsn = "{dsn}"\n', encoding="utf-8")
    monkeypatch.setenv("SECRETUMVAULT_PASSPHRASE", "correct horse battery staple")
    code = main(["unseal", "-c", str(config)])
    captured = capsys.readouterr()
    assert code != 0
    assert MARKER not in captured.out + captured.err
    assert "error" in captured.err


def test_a_good_dsn_still_connects() -> None:
    storage = PostgresStorage(pg_dsn(), table="t_dsn_check")
    try:
        assert storage.get("nothing") is None
    finally:
        storage.drop()
        storage.close()


def test_keystore_error_is_a_secretumvault_error() -> None:
    with pytest.raises(SecretumVaultError):
        open_storage("postgresql", dsn=MALFORMED[0])
