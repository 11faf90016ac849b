"""The ``[server]`` section of the configuration file, checked for what each value means.

.. code-block:: toml

    [server]
    address = "127.0.0.1:8200"       # host:port to listen on
    tls_cert_file = "server.pem"     # both TLS files, or neither (plain HTTP)
    tls_key_file = "server-key.pem"
    max_request_size = 33554432      # bytes; larger bodies get 413, as Vault's default (32 MiB)
    pq_defaults = false              # true: new PKI CAs/roles are ML-DSA-65, new transit keys ML-KEM-768

:mod:`secretumvault.config` checks the types; this module checks the values.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secretumvault.errors import ConfigError

__all__ = ["DEFAULT_ADDRESS", "DEFAULT_MAX_REQUEST_SIZE", "ServerSettings", "parse_address"]

DEFAULT_ADDRESS = "127.0.0.1:8200"
DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8200
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE
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
        return cls(host, port, cert, key, size, bool(table.get("pq_defaults", False)))


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
