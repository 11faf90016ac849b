"""TOML configuration: parsing, validation, and that every key changes behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretumvault import config, errors, hybrid, pqc

from .conftest import untyped

BACKENDS = pqc.available_backends()

FULL = """
[vault]
crypto_backend = "openssl"
[crypto.oqs]
enable_pqc = true
hybrid_mode = false
[storage]
backend = "postgresql"
dsn = "postgresql://vault:hunter2@db.example/vault"
"""


def test_defaults() -> None:
    settings = config.Settings.defaults()
    assert settings == config.Settings()
    assert settings.crypto_backend == "auto"
    assert settings.enable_pqc is True
    assert settings.hybrid_mode is True
    assert settings.storage == config.StorageSettings("sqlite", "secretumvault.db", None)


def test_full_file(tmp_path: Path) -> None:
    path = tmp_path / "vault.toml"
    path.write_text(FULL, encoding="utf-8")
    settings = config.Settings.load(path)
    assert settings == config.Settings.loads(FULL)
    assert settings.crypto_backend == "openssl"
    assert settings.hybrid_mode is False
    assert settings.storage.backend == "postgresql"
    assert settings.storage.path is None
    assert settings.storage.dsn == "postgresql://vault:hunter2@db.example/vault"
    assert settings.storage.open_arguments() == {
        "backend": "postgresql",
        "path": None,
        "dsn": "postgresql://vault:hunter2@db.example/vault",
        "max_connections": 16,
        "pool_timeout": 5.0,
    }


def test_settings_are_frozen() -> None:
    settings = config.Settings.defaults()
    with pytest.raises(AttributeError):
        untyped(settings).hybrid_mode = False
    with pytest.raises(AttributeError):
        untyped(settings.storage).path = "x"


def test_dsn_password_never_shown() -> None:
    settings = config.Settings.loads(FULL)
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.storage)
    with pytest.raises(errors.ConfigError) as info:
        config.Settings.loads('[storage]\nbackend = "postgresql"\ndsn = "mysql://root:hunter2@db/x"')
    assert "hunter2" not in str(info.value)
    assert "dsn" in str(info.value)


# -- every key changes runtime behaviour -----------------------------------------


@pytest.mark.parametrize("hybrid_mode", [True, False])
def test_hybrid_mode_selects_the_algorithms(hybrid_mode: bool) -> None:
    settings = config.Settings.loads(f"[crypto.oqs]\nhybrid_mode = {str(hybrid_mode).lower()}")
    kem, signature = settings.kem(), settings.signature()
    if hybrid_mode:
        assert isinstance(kem, hybrid.HybridKem) and kem.name == "X25519-ML-KEM-768"
        assert isinstance(signature, hybrid.HybridSignature) and signature.name == "Ed25519-ML-DSA-65"
    else:
        assert isinstance(kem, pqc.Kem) and kem.name == "ML-KEM-768"
        assert isinstance(signature, pqc.Signature) and signature.name == "ML-DSA-65"
    assert settings.crypto_policy() == hybrid.CryptoPolicy(hybrid_mode=hybrid_mode, backend="auto")
    pair = kem.generate_keypair()
    encapsulation = pair.public_key.encapsulate()
    assert pair.secret_key.decapsulate(encapsulation.ciphertext) == encapsulation.shared_secret


def test_enable_pqc_false_refuses_pqc_algorithms() -> None:
    settings = config.Settings.loads("[crypto.oqs]\nenable_pqc = false")
    assert settings.enable_pqc is False
    for ask in (settings.kem, settings.signature, settings.crypto_policy):
        with pytest.raises(errors.ConfigError, match=r"enable_pqc = false.*set enable_pqc = true"):
            ask()


@pytest.mark.parametrize("backend", BACKENDS)
def test_crypto_backend_is_used(backend: str) -> None:
    settings = config.Settings.loads(f'[vault]\ncrypto_backend = "{backend}"')
    assert settings.kem().backend == backend
    assert settings.signature().backend == backend


@pytest.mark.parametrize("backend", BACKENDS)
def test_apply_sets_the_process_default(backend: str) -> None:
    previous = pqc.get_default_backend()
    try:
        config.Settings.loads(f'[vault]\ncrypto_backend = "{backend}"').apply()
        assert pqc.get_default_backend() == backend
        assert pqc.Kem("ML-KEM-768").backend == backend
    finally:
        pqc.set_default_backend(previous)


def test_storage_sqlite_path() -> None:
    settings = config.Settings.loads('[storage]\nbackend = "sqlite"\npath = "/var/lib/sv/vault.db"')
    assert settings.storage == config.StorageSettings("sqlite", "/var/lib/sv/vault.db", None)
    assert settings.storage.open_arguments()["path"] == "/var/lib/sv/vault.db"


# -- errors name the key and the fix ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "names", "fix"),
    [
        ('[vault]\ncrypto_backend = "liboqs"', "crypto_backend", "one of"),
        ("[vault]\ncrypto_backend = 1", "crypto_backend", "string"),
        ('[crypto.oqs]\nhybrid_mode = "yes"', "hybrid_mode", "true or false"),
        ("[crypto.oqs]\nenable_pqc = 1", "enable_pqc", "true or false"),
        ("[vault]\nbackend = 'oqs'", "backend", "the keys of [vault] are crypto_backend"),
        ("[vaults]\ncrypto_backend = 'oqs'", "vaults", "known sections"),
        ("[crypto.liboqs]\nenable_pqc = true", "crypto.liboqs", "known sections"),
        ("crypto = 1", "crypto", "table"),
        ("vault = 'oqs'", "vault", "table"),
        ("top_level = true", "top_level", "known sections"),
        ('[storage]\nbackend = "mysql"', "backend", "'sqlite', 'postgresql'"),
        ('[storage]\nbackend = "postgresql"', "dsn", "add dsn"),
        ('[storage]\nbackend = "postgresql"\ndsn = "x"\npath = "a.db"', "path", "remove it"),
        ('[storage]\ndsn = "postgresql://h/db"', "dsn", "remove it"),
        ('[storage]\npath = ""', "path", "set it to a file"),
        ("[storage]\npath = 3", "path", "string"),
        ("[storage]\nencrypt = true", "encrypt", "the keys of [storage]"),
        ("[vault\n", "not valid TOML", "line"),
    ],
)
def test_errors_name_key_and_fix(text: str, names: str, fix: str) -> None:
    with pytest.raises(errors.ConfigError) as info:
        config.Settings.loads(text, source="vault.toml")
    message = str(info.value)
    assert message.startswith("vault.toml")
    assert names in message
    assert fix in message


def test_native_backend_missing_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulates an installation built without liboqs, whatever this machine has.
    from secretumvault.pqc.backends import oqs

    monkeypatch.setattr(oqs, "is_available", lambda: False)
    assert pqc.available_backends() == ["openssl"]
    with pytest.raises(errors.ConfigError, match=r'crypto_backend = .oqs.*"Where liboqs comes from".*"auto"'):
        config.Settings.loads('[vault]\ncrypto_backend = "oqs"')
    assert config.Settings.loads('[vault]\ncrypto_backend = "auto"').crypto_backend == "auto"


def test_native_backend_present_is_accepted() -> None:
    if "oqs" not in BACKENDS:
        pytest.skip("the native 'oqs' backend is not built here")
    assert config.Settings.loads('[vault]\ncrypto_backend = "oqs"').kem().backend == "oqs"


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError, match="cannot read config file"):
        config.Settings.load(tmp_path / "missing.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[storage]\npath = "caf\xe9.db"\n')
    with pytest.raises(errors.ConfigError, match="UTF-8"):
        config.Settings.load(bad)


def test_non_text_is_refused() -> None:
    with pytest.raises(errors.ConfigError):
        config.Settings.loads(untyped(b"[vault]"))


# -- ambiguity and hostile input (issue 13, item 9 and item 8) ----------------------


def test_quoted_dotted_table_beside_the_real_one_is_refused() -> None:
    # ["crypto.oqs"] is a different TOML table from [crypto.oqs]; beside it, one would be ignored.
    text = '["crypto.oqs"]\nhybrid_mode = false\n[crypto.oqs]\nhybrid_mode = true\n'
    with pytest.raises(errors.ConfigError, match=r'quoted table \["crypto.oqs"\].*without quotes'):
        config.Settings.loads(text, source="vault.toml")


def test_quoted_dotted_table_alone_is_refused() -> None:
    with pytest.raises(errors.ConfigError, match=r"\[crypto.oqs\]"):
        config.Settings.loads('["crypto.oqs"]\nhybrid_mode = false\n')
    # The unquoted spellings of the same table all still work.
    for text in ("[crypto.oqs]\nhybrid_mode = false", "crypto.oqs.hybrid_mode = false"):
        assert config.Settings.loads(text).hybrid_mode is False


@pytest.mark.parametrize(
    "nested", ["x = " + "[" * 50_000 + "]" * 50_000, "x = " + "{a = " * 5000 + "1" + "}" * 5000]
)
def test_deeply_nested_toml_is_a_config_error(nested: str) -> None:
    with pytest.raises(errors.ConfigError, match="nested too deeply"):
        config.Settings.loads(nested, source="deep.toml")


def test_defaults_match_an_empty_file() -> None:
    assert config.Settings.defaults() == config.Settings.loads("")


# -- [storage] max_connections and pool_timeout ----------------------------------------------------


def test_pool_settings_defaults_agree_with_the_keystore() -> None:
    from secretumvault.keystore import storage

    assert config.DEFAULT_MAX_CONNECTIONS == storage.DEFAULT_MAX_CONNECTIONS == 16
    assert config.DEFAULT_POOL_TIMEOUT == storage.DEFAULT_POOL_TIMEOUT == 5.0
    assert config._MAX_CONNECTIONS_LIMIT == storage._MAX_CONNECTIONS_LIMIT
    assert config._MAX_POOL_TIMEOUT == storage._MAX_POOL_TIMEOUT


@pytest.mark.parametrize(("timeout_text", "timeout"), [("2", 2.0), ("0.25", 0.25)])
def test_pool_settings_are_read_and_reach_the_storage(
    tmp_path: Path, timeout_text: str, timeout: float
) -> None:
    from secretumvault.keystore import SQLiteStorage, open_storage

    text = f'[storage]\npath = "{tmp_path / "v.db"}"\nmax_connections = 3\npool_timeout = {timeout_text}\n'
    settings = config.Settings.loads(text)
    assert settings.storage.max_connections == 3 and settings.storage.pool_timeout == timeout
    storage = open_storage(**settings.storage.open_arguments())
    try:
        assert isinstance(storage, SQLiteStorage)
        assert storage._pool._size == 3 and storage._timeout == timeout
    finally:
        storage.close()


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("max_connections = 0", ["max_connections", "from 1 to 1000"]),
        ("max_connections = 1001", ["max_connections", "from 1 to 1000"]),
        ('max_connections = "8"', ["max_connections", "integer"]),
        ("max_connections = 2.0", ["max_connections", "integer"]),
        ("pool_timeout = 0", ["pool_timeout", "above 0"]),
        ("pool_timeout = -1.5", ["pool_timeout", "above 0"]),
        ("pool_timeout = nan", ["pool_timeout", "above 0"]),
        ("pool_timeout = inf", ["pool_timeout", "above 0"]),
        ("pool_timeout = true", ["pool_timeout", "number"]),
    ],
)
def test_pool_settings_out_of_range_are_config_errors(line: str, words: list[str]) -> None:
    with pytest.raises(errors.ConfigError) as raised:
        config.Settings.loads(f"[storage]\n{line}\n")
    for word in words:
        assert word in str(raised.value)
