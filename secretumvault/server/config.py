"""The ``[server]`` section of the configuration file, checked for what each value means.

.. code-block:: toml

    [server]
    address = "127.0.0.1:8200"       # host:port to listen on
    tls_cert_file = "server.pem"     # both TLS files, or neither (plain HTTP)
    tls_key_file = "server-key.pem"
    max_request_size = 33554432      # bytes; larger bodies get 413, as Vault's default (32 MiB)
    # The listener (secretumvault.server.listener), with Vault's names and defaults. Durations are
    # seconds (10, 2.5) or Go duration strings ("10s", "1m30s", "500ms").
    http_read_header_timeout = "10s" # request line and headers must be in by then, else closed
    http_read_timeout = "30s"        # the whole request, body included, else closed
    http_idle_timeout = "5m"         # an idle keep-alive connection is closed after this
    max_request_duration = "90s"     # a request still running then gets 503
    max_connections = 4096           # per server process; more are answered 503 and closed at once
    # What one request may ask (read by secretumvault.server.app):
    max_json_depth = 500
    max_json_string_value_length = 1048576   # bytes
    max_json_object_entry_count = 10000
    max_json_array_element_count = 10000
    max_batch_items = 10000
    pq_defaults = false              # true: new PKI CAs/roles are ML-DSA-65, new transit keys ML-KEM-768

:mod:`secretumvault.config` checks the types; this module checks the values.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secretumvault.errors import ConfigError

__all__ = [
    "DEFAULT_ADDRESS",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_REQUEST_SIZE",
    "ServerSettings",
    "parse_address",
    "parse_duration_setting",
]

DEFAULT_ADDRESS = "127.0.0.1:8200"
DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024
#: Concurrent connections per server process when ``max_connections`` is not set. Each holds a
#: file descriptor; 4096 plus the accept backlog (2048) and the store's own descriptors stays
#: under the hard RLIMIT_NOFILE of common systems (4096 on old ones, 524288 under systemd), to
#: which the server raises its soft limit at start; run.py lowers it further if the limit is lower.
DEFAULT_MAX_CONNECTIONS = 4096

# name -> (default, lowest, highest), seconds. A timeout under a second would cut off honest
# clients on any real network; over a day it no longer protects anything.
_DURATIONS: dict[str, tuple[float, float, float]] = {
    "http_read_header_timeout": (10.0, 1.0, 3600.0),
    "http_read_timeout": (30.0, 1.0, 3600.0),
    "http_idle_timeout": (300.0, 1.0, 86400.0),
    "max_request_duration": (90.0, 1.0, 86400.0),
}
# name -> (default, lowest, highest).
_COUNTS: dict[str, tuple[int, int, int]] = {
    # Python's own JSON parser stops near 1000 levels (its recursion limit), whatever is set here.
    "max_json_depth": (500, 1, 1000),
    "max_json_string_value_length": (1024 * 1024, 1, 2**31),
    "max_json_object_entry_count": (10_000, 1, 10_000_000),
    "max_json_array_element_count": (10_000, 1, 10_000_000),
    "max_batch_items": (10_000, 1, 10_000_000),
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8200
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE
    http_read_header_timeout: float = 10.0
    http_read_timeout: float = 30.0
    http_idle_timeout: float = 300.0
    max_request_duration: float = 90.0
    #: None: DEFAULT_MAX_CONNECTIONS, or fewer if the descriptor limit is lower (see run.py).
    max_connections: int | None = None
    max_json_depth: int = 500
    max_json_string_value_length: int = 1024 * 1024
    max_json_object_entry_count: int = 10_000
    max_json_array_element_count: int = 10_000
    max_batch_items: int = 10_000
    #: Post-quantum defaults where a request names no key type (off: Vault's defaults).
    pq_defaults: bool = False

    @property
    def tls(self) -> bool:
        return self.tls_cert_file is not None

    def url(self, port: int | None = None) -> str:
        """The address clients use (``port``: the one actually bound, when 0 was asked for)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port if port is None else port}"

    @classmethod
    def from_table(cls, table: Mapping[str, Any], source: str = "<config>") -> ServerSettings:
        """Settings from the ``[server]`` table (already type-checked); ConfigError if a value is wrong."""
        host, port = parse_address(table.get("address", DEFAULT_ADDRESS), f"{source}: [server] address")
        cert, key = table.get("tls_cert_file"), table.get("tls_key_file")
        if (cert is None) != (key is None):
            raise ConfigError(f"{source}: [server] needs both tls_cert_file and tls_key_file, or neither")
        for name, path in (("tls_cert_file", cert), ("tls_key_file", key)):
            if path is not None and not Path(path).is_file():
                raise ConfigError(f"{source}: [server] {name} = {path!r} is not a readable file")
        size = table.get("max_request_size", DEFAULT_MAX_REQUEST_SIZE)
        if not 1024 <= size <= 2**31:
            raise ConfigError(f"{source}: [server] max_request_size must be from 1024 to 2**31 bytes")
        durations = {
            name: _duration_in(table, name, default, low, high, source)
            for name, (default, low, high) in _DURATIONS.items()
        }
        if durations["http_read_header_timeout"] > durations["http_read_timeout"]:
            raise ConfigError(
                f"{source}: [server] http_read_header_timeout must not exceed http_read_timeout "
                "(the read timeout covers the headers too)"
            )
        counts = {name: _count_in(table, name, *bounds, source) for name, bounds in _COUNTS.items()}
        connections = table.get("max_connections")
        if connections is not None and not 1 <= connections <= 1_048_576:
            raise ConfigError(f"{source}: [server] max_connections must be from 1 to 1048576")
        return cls(
            host,
            port,
            cert,
            key,
            size,
            http_read_header_timeout=durations["http_read_header_timeout"],
            http_read_timeout=durations["http_read_timeout"],
            http_idle_timeout=durations["http_idle_timeout"],
            max_request_duration=durations["max_request_duration"],
            max_connections=connections,
            max_json_depth=counts["max_json_depth"],
            max_json_string_value_length=counts["max_json_string_value_length"],
            max_json_object_entry_count=counts["max_json_object_entry_count"],
            max_json_array_element_count=counts["max_json_array_element_count"],
            max_batch_items=counts["max_batch_items"],
            pq_defaults=bool(table.get("pq_defaults", False)),
        )


def parse_duration_setting(value: object, what: str) -> float:
    """Seconds from a number or a Go duration string ("10s", "1m30s", "1.5h", "250ms")."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f'{what} must be a number of seconds or a duration such as "10s" or "1m30s"')
    if isinstance(value, str):
        text = value
        parts = _DURATION_PART.findall(text)
        if not text or "".join(number + unit for number, unit in parts) != text:
            raise ConfigError(
                f'{what} = {value!r} is not a duration; write seconds (30) or a duration such as "30s", '
                '"1m30s" or "500ms" (units h, m, s, ms, us, ns)'
            )
        return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    seconds = float(value)
    if not math.isfinite(seconds):
        raise ConfigError(f"{what} must be a finite number of seconds")
    return seconds


def _duration_in(
    table: Mapping[str, Any], name: str, default: float, low: float, high: float, source: str
) -> float:
    if name not in table:
        return default
    seconds = parse_duration_setting(table[name], f"{source}: [server] {name}")
    if not low <= seconds <= high:
        raise ConfigError(f"{source}: [server] {name} must be from {low:g} to {high:g} seconds")
    return seconds


def _count_in(table: Mapping[str, Any], name: str, default: int, low: int, high: int, source: str) -> int:
    value = table.get(name, default)
    if not low <= value <= high:
        raise ConfigError(f"{source}: [server] {name} must be from {low} to {high}")
    return int(value)


def parse_address(text: object, what: str) -> tuple[str, int]:
    """``"127.0.0.1:8200"`` or ``"[::1]:8200"`` -> (host, port); ConfigError naming ``what`` otherwise."""
    if not isinstance(text, str):
        raise ConfigError(f"{what} must be text such as {DEFAULT_ADDRESS!r}")
    host, separator, port_text = text.rpartition(":")
    if not separator or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"{what} must be host:port, such as {DEFAULT_ADDRESS!r}")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            raise ConfigError(f"{what}: the host must be an IP address or localhost") from None
    return host, int(port_text)
