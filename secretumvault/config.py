"""SecretumVault configuration: a TOML file, validated into frozen settings.

.. code-block:: toml

    [vault]
    crypto_backend = "oqs"      # "oqs" | "openssl" | "auto"
    [crypto.oqs]
    enable_pqc = true
    hybrid_mode = true
    [storage]
    backend = "sqlite"          # "sqlite" | "postgresql"
    path = "secretumvault.db"   # sqlite only
    dsn = "postgresql://..."    # postgresql only
    max_connections = 16        # connections the store may open (default 16)
    pool_timeout = 5.0          # seconds to wait for a free one, then StorageBusy (default 5)
    [server]                    # read by `secretumvault server` (see secretumvault.server.config)
    address = "127.0.0.1:8200"

Every key changes what the library does; a key that would be silently
ignored (an unknown key, ``dsn`` with sqlite, or a quoted ``["crypto.oqs"]``
table that would shadow ``[crypto.oqs]``) is an error. Every error is a
:class:`~secretumvault.errors.ConfigError` naming the key and the fix.

This is the top layer: it may import :mod:`hybrid` and :mod:`pqc`, never the
other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from secretumvault import pqc
from secretumvault._frozen import Frozen, set_field
from secretumvault.errors import ConfigError

if TYPE_CHECKING:  # hybrid is imported when a policy is asked for: the command line starts faster
    import os

    from secretumvault.hybrid import CryptoPolicy, KemAlgorithm, SignatureAlgorithm

__all__ = ["CRYPTO_BACKENDS", "STORAGE_BACKENDS", "Settings", "StorageSettings"]

CRYPTO_BACKENDS = ("oqs", "openssl", "auto")
STORAGE_BACKENDS = ("sqlite", "postgresql")
_POSTGRES_SCHEMES = ("postgresql", "postgres")
# keystore.storage's defaults and limits, repeated so that reading a configuration does not load
# the keystore (command-line start-up time, issue 15); tests/test_config.py checks they agree.
DEFAULT_MAX_CONNECTIONS = 16
DEFAULT_POOL_TIMEOUT = 5.0
_MAX_CONNECTIONS_LIMIT = 1000
_MAX_POOL_TIMEOUT = 3600.0

# The whole schema: section -> key -> the TOML type it must have. Anything else is refused.
_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "vault": {"crypto_backend": str},
    "crypto.oqs": {"enable_pqc": bool, "hybrid_mode": bool},
    "storage": {
        "backend": str,
        "path": str,
        "dsn": str,
        "max_connections": int,
        "pool_timeout": (float, int),  # a whole number of seconds is a number of seconds
    },
    # Type-checked here; what the values mean is checked by secretumvault.server.config.
    "server": {
        "address": str,
        "tls_cert_file": str,
        "tls_key_file": str,
        "max_request_size": int,
        # Durations: seconds (a number) or a Go duration string such as "1m30s", as Vault writes them.
        "http_read_header_timeout": (int, float, str),
        "http_read_timeout": (int, float, str),
        "http_idle_timeout": (int, float, str),
        "max_request_duration": (int, float, str),
        "max_connections": int,
        "max_json_depth": int,
        "max_json_string_value_length": int,
        "max_json_object_entry_count": int,
        "max_json_array_element_count": int,
        "max_batch_items": int,
        "pq_defaults": bool,
        "workers": int,
        "tls_min_version": str,
        "tls_groups": str,
    },
    # Auto-unseal (Vault's seal stanza); type-checked here, read by secretumvault.keystore.seals.
    "seal": {
        "type": str,
        "disabled": bool,
        "address": str,
        "token": str,
        "token_file": str,
        "mount_path": str,
        "key_name": str,
        "tls_ca_cert": str,
        "tls_server_name": str,
        "tls_skip_verify": bool,
        "timeout": (float, int),
        "lib": str,
        "slot": int,
        "token_label": str,
        "pin": str,
        "pin_file": str,
        "key_label": str,
        "mechanism": str,
        "generate_key": bool,
    },
}


# Plain classes: the command line imports this module and @dataclass costs ~0.3 ms per class at
# start-up (issue 15).
class StorageSettings(Frozen):
    """The ``[storage]`` section, validated; the keystore opens it.

    ``dsn`` may hold a database password, so it never appears in ``repr``.
    """

    __slots__ = _fields = ("backend", "path", "dsn", "max_connections", "pool_timeout")
    _secret_fields = ("dsn",)
    backend: str
    path: str | None
    dsn: str | None
    max_connections: int
    pool_timeout: float

    def __init__(
        self,
        backend: str = "sqlite",
        path: str | None = "secretumvault.db",
        dsn: str | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float = DEFAULT_POOL_TIMEOUT,
    ) -> None:
        set_field(self, "backend", backend)
        set_field(self, "path", path)
        set_field(self, "dsn", dsn)
        set_field(self, "max_connections", max_connections)
        set_field(self, "pool_timeout", pool_timeout)

    def __repr__(self) -> str:
        dsn = "None" if self.dsn is None else "'<redacted>'"
        return (
            f"StorageSettings(backend={self.backend!r}, path={self.path!r}, dsn={dsn}, "
            f"max_connections={self.max_connections!r}, pool_timeout={self.pool_timeout!r})"
        )

    def open_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``keystore.open_storage(**settings.storage.open_arguments())``."""
        return {
            "backend": self.backend,
            "path": self.path,
            "dsn": self.dsn,
            "max_connections": self.max_connections,
            "pool_timeout": self.pool_timeout,
        }


_SQLITE = StorageSettings()  # the default [storage]; immutable, so every Settings may share it
_NO_SERVER_TABLE: Mapping[str, Any] = MappingProxyType({})  # read-only, so it may be shared too


class Settings(Frozen):
    """Validated configuration. Build it with :meth:`load`, :meth:`loads` or :meth:`defaults`."""

    __slots__ = _fields = (
        "crypto_backend",
        "enable_pqc",
        "hybrid_mode",
        "storage",
        "server",
        "seal",
        "seals",
    )
    _secret_fields = ("seal", "seals")  # may hold a transit token or an HSM PIN
    crypto_backend: str
    enable_pqc: bool
    hybrid_mode: bool
    storage: StorageSettings
    #: The ``[server]`` table as written (types checked); ``secretumvault.server.config`` reads it.
    server: Mapping[str, Any]
    #: The ``[seal]`` table as written (types checked); ``secretumvault.keystore.seals`` reads it.
    #: With two ``[[seal]]`` tables (a migration), the one not disabled, if any.
    seal: Mapping[str, Any]
    #: Every seal table as written: none, one, or two for a migration (Vault's old seal stanza
    #: marked ``disabled = true`` beside the new one).
    seals: tuple[Mapping[str, Any], ...]

    def __init__(
        self,
        crypto_backend: str = "auto",
        enable_pqc: bool = True,
        hybrid_mode: bool = True,
        storage: StorageSettings = _SQLITE,
        server: Mapping[str, Any] = _NO_SERVER_TABLE,
        seal: Mapping[str, Any] = _NO_SERVER_TABLE,
        seals: tuple[Mapping[str, Any], ...] = (),
    ) -> None:
        set_field(self, "crypto_backend", crypto_backend)
        set_field(self, "enable_pqc", enable_pqc)
        set_field(self, "hybrid_mode", hybrid_mode)
        set_field(self, "storage", storage)
        set_field(self, "server", server)
        set_field(self, "seal", seal)
        set_field(self, "seals", seals)

    @property
    def seal_tables(self) -> tuple[Mapping[str, Any], ...]:
        """Every seal table: :attr:`seals`, or :attr:`seal` alone when only it was given."""
        return self.seals or ((self.seal,) if self.seal else ())

    # -- construction ------------------------------------------------------------

    @classmethod
    def defaults(cls) -> Settings:
        """Settings of an empty file: backend "auto", PQC on, hybrid mode on, sqlite."""
        settings = cls()  # what loads("") returns, without loading the TOML parser
        settings._check_backend("<defaults>")
        return settings

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Settings:
        """Read and validate a TOML file."""
        try:
            with open(path, encoding="utf-8") as file:  # not pathlib: 3 ms of start-up for one read
                text = file.read()
        except OSError as exc:
            raise ConfigError(f"cannot read config file {str(path)!r}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config file {str(path)!r} is not UTF-8 text; save it as UTF-8") from None
        return cls.loads(text, source=str(path))

    @classmethod
    def loads(cls, text: str, *, source: str = "<string>") -> Settings:
        """Parse and validate TOML text; ``source`` names it in error messages."""
        import tomllib

        if not isinstance(text, str):
            raise ConfigError(f"config text must be str, not {type(text).__name__}")
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
        except RecursionError:  # tomllib parses nested arrays and inline tables recursively
            raise ConfigError(
                f"{source}: arrays or inline tables are nested too deeply to read; "
                "a SecretumVault configuration nests nothing"
            ) from None
        # [[seal]] (an array of tables) names two seals during a migration; [seal] is one.
        seal_tables = document.pop("seal", None)
        seals = _seals(seal_tables, source) if seal_tables is not None else ()
        values = _flatten(document, source)
        settings = cls(
            crypto_backend=_get(values, "vault", "crypto_backend", "auto"),
            enable_pqc=_get(values, "crypto.oqs", "enable_pqc", True),
            hybrid_mode=_get(values, "crypto.oqs", "hybrid_mode", True),
            storage=_storage(values, source),
            server=dict(values.get("server", {})),
            seal=_active_seal(seals),
            seals=seals,
        )
        settings._check_backend(source)
        return settings

    def _check_backend(self, source: str) -> None:
        if self.crypto_backend not in CRYPTO_BACKENDS:
            raise ConfigError(
                f"{source}: [vault] crypto_backend = {self.crypto_backend!r} is not a backend; "
                f"set it to one of {', '.join(map(repr, CRYPTO_BACKENDS))}"
            )
        if pqc.backend_is_available(self.crypto_backend):
            return  # checked without loading the backends it does not name (start-up time)
        available = pqc.available_backends()
        if self.crypto_backend == "auto":
            if not available:
                raise ConfigError(
                    f'{source}: [vault] crypto_backend = "auto" found no usable backend; '
                    "install cryptography>=48 (openssl backend) or build with liboqs (oqs backend)"
                )
        elif self.crypto_backend not in available:
            fix = (
                'the native core was built without liboqs (see "Where liboqs comes from" in the '
                'README); rebuild it with liboqs, or set crypto_backend = "auto"'
                if self.crypto_backend == "oqs"
                else 'install cryptography>=48, or set crypto_backend = "auto"'
            )
            raise ConfigError(
                f"{source}: [vault] crypto_backend = {self.crypto_backend!r}, but that backend is not "
                f"available here (available: {', '.join(available) or 'none'}); {fix}"
            )

    # -- what the settings do ----------------------------------------------------

    def apply(self) -> None:
        """Make ``crypto_backend`` the process-wide default of :mod:`pqc` (for ``backend=None``)."""
        pqc.set_default_backend(self.crypto_backend)

    def crypto_policy(self) -> CryptoPolicy:
        """The policy engines ask for their KEM and signature scheme.

        Raises ConfigError when ``enable_pqc = false``: every KEM and signature
        scheme SecretumVault offers is post-quantum or hybrid.
        """
        from secretumvault.hybrid import CryptoPolicy

        if not self.enable_pqc:
            raise ConfigError(
                "post-quantum cryptography is disabled by [crypto.oqs] enable_pqc = false, and every "
                "KEM and signature scheme here is post-quantum or hybrid; set enable_pqc = true"
            )
        return CryptoPolicy(hybrid_mode=self.hybrid_mode, backend=self.crypto_backend)

    def kem(self) -> KemAlgorithm:
        """The configured KEM (hybrid X25519-ML-KEM-768 or pure ML-KEM-768, per hybrid_mode)."""
        return self.crypto_policy().kem()

    def signature(self) -> SignatureAlgorithm:
        """The configured signature scheme (Ed25519-ML-DSA-65 or ML-DSA-65, per hybrid_mode)."""
        return self.crypto_policy().signature()


# -- parsing helpers --------------------------------------------------------------


def _flatten(document: Mapping[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """``{"crypto": {"oqs": {...}}}`` -> ``{"crypto.oqs": {...}}``, refusing anything unknown."""
    flat: dict[str, dict[str, Any]] = {}
    for name, value in document.items():
        if "." in name:
            # ["crypto.oqs"] is a table named crypto.oqs, not [crypto.oqs]: beside it, one of the two
            # would be ignored. Refused, as every key that would not take effect is.
            raise ConfigError(
                f"{source}: the quoted table [{_quoted(name)}] is not [{name}]; "
                f"write the section name without quotes: [{name}]"
            )
        if name == "crypto":
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{source}: 'crypto' must be a table ([crypto.oqs]), not a {type(value).__name__}"
                )
            for sub, sub_value in value.items():
                _section(flat, f"crypto.{sub}", sub_value, source)
        else:
            _section(flat, name, value, source)
    return flat


def _quoted(name: str) -> str:
    import json

    return json.dumps(name)


def _section(flat: dict[str, dict[str, Any]], name: str, value: Any, source: str) -> None:
    if name not in _SCHEMA:
        known = ", ".join(f"[{s}]" for s in _SCHEMA)
        raise ConfigError(f"{source}: unknown section or key {name!r}; the known sections are {known}")
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {name!r} must be a table ([{name}]), not a {type(value).__name__}")
    for key, item in value.items():
        expected = _SCHEMA[name].get(key)
        if expected is None:
            known = ", ".join(_SCHEMA[name])
            raise ConfigError(f"{source}: unknown key [{name}] {key}; the keys of [{name}] are {known}")
        kinds = expected if isinstance(expected, tuple) else (expected,)
        if type(item) not in kinds:  # exact: TOML has no bool/int confusion, and neither do we
            raise ConfigError(
                f"{source}: [{name}] {key} must be {' or '.join(map(_a_type_name, kinds))}, "
                f"got {_type_name(type(item))}; for example {_example(kinds[0])}"
            )
    flat[name] = value


def _a_type_name(kind: type) -> str:
    name = _type_name(kind)
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _type_name(kind: type) -> str:
    return {str: "string", bool: "boolean", int: "integer", float: "number"}.get(kind, kind.__name__)


def _example(kind: type) -> str:
    return {str: '"text" in double quotes', int: "8 (no quotes)", float: "2.5 (no quotes)"}.get(
        kind, "true or false"
    )


def _get(values: dict[str, dict[str, Any]], section: str, key: str, default: Any) -> Any:
    return values.get(section, {}).get(key, default)


def _pool_settings(section: Mapping[str, Any], source: str) -> tuple[int, float]:
    max_connections = section.get("max_connections", DEFAULT_MAX_CONNECTIONS)
    if not 1 <= max_connections <= _MAX_CONNECTIONS_LIMIT:
        raise ConfigError(
            f"{source}: [storage] max_connections = {max_connections} is out of range; "
            f"set it from 1 to {_MAX_CONNECTIONS_LIMIT} (default {DEFAULT_MAX_CONNECTIONS})"
        )
    pool_timeout = float(section.get("pool_timeout", DEFAULT_POOL_TIMEOUT))
    if not 0 < pool_timeout <= _MAX_POOL_TIMEOUT:  # also refuses nan and inf
        raise ConfigError(
            f"{source}: [storage] pool_timeout = {pool_timeout} is out of range; set it to a number of "
            f"seconds above 0 and at most {_MAX_POOL_TIMEOUT:g} (default {DEFAULT_POOL_TIMEOUT:g})"
        )
    return max_connections, pool_timeout


def _seals(value: object, source: str) -> tuple[Mapping[str, Any], ...]:
    """``[seal]`` or ``[[seal]]``: at most one seal in use and one ``disabled = true`` (the store's
    old seal, during a migration), each type-checked."""
    tables = value if isinstance(value, list) else [value]
    seals = []
    for table in tables:
        flat: dict[str, dict[str, Any]] = {}
        _section(flat, "seal", table, source)
        section = flat["seal"]
        if not section:
            continue  # an empty [seal]: no seal, as before
        if section.get("type") not in ("transit", "pkcs11"):
            raise ConfigError(f'{source}: [seal] type must be "transit" or "pkcs11"')
        seals.append(MappingProxyType(dict(section)))
    disabled = [table for table in seals if table.get("disabled", False)]
    if len(seals) > 2 or len(disabled) > 1 or len(seals) - len(disabled) > 1:
        raise ConfigError(
            f"{source}: [[seal]] takes at most two seals: the new one, and the store's current one "
            "marked disabled = true (a migration); remove the others"
        )
    return tuple(seals)


def _active_seal(seals: tuple[Mapping[str, Any], ...]) -> Mapping[str, Any]:
    """The seal in use (not disabled); a lone disabled one stays, as before, for seal_from_table."""
    enabled = [table for table in seals if not table.get("disabled", False)]
    return enabled[0] if enabled else seals[0] if seals else _NO_SERVER_TABLE


def _storage(values: dict[str, dict[str, Any]], source: str) -> StorageSettings:
    section = values.get("storage", {})
    max_connections, pool_timeout = _pool_settings(section, source)
    backend = section.get("backend", "sqlite")
    if backend not in STORAGE_BACKENDS:
        raise ConfigError(
            f"{source}: [storage] backend = {backend!r} is not a storage backend; "
            f"set it to one of {', '.join(map(repr, STORAGE_BACKENDS))}"
        )
    if backend == "sqlite":
        if "dsn" in section:
            raise ConfigError(
                f'{source}: [storage] dsn is only used with backend = "postgresql"; '
                'remove it, or set backend = "postgresql"'
            )
        path = section.get("path", "secretumvault.db")
        if not path.strip():
            raise ConfigError(f'{source}: [storage] path is empty; set it to a file, e.g. "secretumvault.db"')
        return StorageSettings("sqlite", path, None, max_connections, pool_timeout)
    if "path" in section:
        raise ConfigError(
            f'{source}: [storage] path is only used with backend = "sqlite"; '
            'remove it, or set backend = "sqlite"'
        )
    dsn = section.get("dsn")
    if dsn is None:
        raise ConfigError(
            f'{source}: [storage] backend = "postgresql" needs a dsn; '
            'add dsn = "postgresql://user@host/dbname"'
        )
    if dsn.partition("://")[0].lower() not in _POSTGRES_SCHEMES or "://" not in dsn:
        # The DSN may embed a password: say what is wrong without echoing it.
        raise ConfigError(
            f"{source}: [storage] dsn must be a postgresql:// URL; "
            'write it as dsn = "postgresql://user@host/dbname"'
        )
    return StorageSettings("postgresql", None, dsn, max_connections, pool_timeout)
