"""The transit seal: the KEK wrapped by a transit key on another server (SecretumVault, Vault,
OpenBao), through its ``<mount>/encrypt/<key>`` and ``<mount>/decrypt/<key>`` API.

Only the standard library's ``urllib`` and ``ssl``. With an ``ml-kem-768`` or
``hybrid-x25519-ml-kem-768`` key on a SecretumVault server the wrapping is
post-quantum. What is sent is SHA-256(associated data) || KEK, and the prefix is
checked on the way back, so a wrapped key cannot be replayed in another role.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.parse
from collections.abc import Mapping
from typing import Any

from secretumvault.errors import ConfigError, SealUnavailable, UnsealError
from secretumvault.keystore.seals._shared import bind_purpose, check_table, unbind_purpose

__all__ = ["TransitSeal"]

_MAX_REPLY = 1 << 20
_KEYS = (
    "address",
    "token",
    "token_file",
    "mount_path",
    "key_name",
    "tls_ca_cert",
    "tls_server_name",
    "tls_skip_verify",
    "timeout",
)


class TransitSeal:
    """A :class:`~secretumvault.keystore.seal.KeyWrapper` over a transit key. The token never
    appears in repr or in an error."""

    seal_type = "transit"

    def __init__(
        self,
        address: str,
        token: str,
        key_name: str,
        *,
        mount_path: str = "transit/",
        tls_ca_cert: str | None = None,
        tls_server_name: str | None = None,
        tls_skip_verify: bool = False,
        timeout: float = 10.0,
    ) -> None:
        if not address.startswith(("http://", "https://")):
            raise ConfigError(f"[seal] address must be an http:// or https:// URL, not {address!r}")
        if not key_name or "/" in key_name or not mount_path.strip("/"):
            raise ConfigError("[seal] key_name and mount_path must name a transit key (key_name without '/')")
        self._address = address.rstrip("/")
        self._token = token
        self._mount = mount_path.strip("/")
        self._key_name = key_name
        self._timeout = timeout
        self._tls_server_name = tls_server_name
        self._context: ssl.SSLContext | None = None
        if self._address.startswith("https://"):
            context = ssl.create_default_context(cafile=tls_ca_cert)
            if tls_skip_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._context = context

    @classmethod
    def from_table(cls, table: Mapping[str, Any], source: str) -> TransitSeal:
        from secretumvault.keystore.seals._secrets import read_secret

        check_table(table, "transit", _KEYS, ("address", "key_name"), source)
        return cls(
            table["address"],
            read_secret(table, "token", "token_file", "VAULT_TOKEN", source),
            table["key_name"],
            mount_path=table.get("mount_path", "transit/"),
            tls_ca_cert=table.get("tls_ca_cert"),
            tls_server_name=table.get("tls_server_name"),
            tls_skip_verify=bool(table.get("tls_skip_verify", False)),
            timeout=float(table.get("timeout", 10.0)),
        )

    def __repr__(self) -> str:
        return f"TransitSeal(address={self._address!r}, key_id={self.key_id!r}, token=<hidden>)"

    @property
    def key_id(self) -> str:
        # Not the address: the transit server may move (or sit behind a new name) and still hold the key.
        return f"{self._mount}/{self._key_name}"

    def wrap(self, plaintext: bytes, associated_data: bytes) -> bytes:
        body = {"plaintext": base64.b64encode(bind_purpose(plaintext, associated_data)).decode()}
        ciphertext = self._call("encrypt", body).get("ciphertext")
        if not isinstance(ciphertext, str):
            raise UnsealError(f"transit seal ({self.key_id}): encrypt answered no ciphertext")
        return ciphertext.encode("ascii")

    def unwrap(self, blob: bytes, associated_data: bytes) -> bytes:
        plaintext = self._call("decrypt", {"ciphertext": blob.decode("ascii", "replace")}).get("plaintext")
        try:
            data = base64.b64decode(str(plaintext), validate=True)
        except ValueError:
            raise UnsealError("the transit seal's server answered decrypt with no valid plaintext") from None
        return unbind_purpose(data, associated_data, "the transit seal")

    def _call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        where = f"transit seal {self._address} ({self.key_id})"
        parts = urllib.parse.urlsplit(self._address)
        connection: http.client.HTTPConnection
        if self._context is None:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=self._timeout)
        else:
            connection = _HTTPSConnection(
                parts.hostname or "", parts.port, self._tls_server_name, self._context, self._timeout
            )
        path = f"{parts.path}/v1/{self._mount}/{operation}/{self._key_name}"
        headers = {"X-Vault-Token": self._token, "Content-Type": "application/json"}
        try:
            connection.request("POST", path, json.dumps(body).encode(), headers)
            reply = connection.getresponse()
            status, raw = reply.status, reply.read(_MAX_REPLY)
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, TLS failure
            raise SealUnavailable(f"{where} cannot be reached: {exc or type(exc).__name__}") from None
        finally:
            connection.close()
        if status >= 500 or status == 429:  # sealed, standby, overloaded: try again later
            raise SealUnavailable(f"{where}: HTTP {status} {_errors(raw)}")
        if status != 200:
            raise UnsealError(f"{where} refused {operation}: HTTP {status} {_errors(raw)}")
        try:
            data = json.loads(raw)["data"]
        except (ValueError, KeyError, TypeError):
            raise UnsealError(f"{where}: the reply to {operation} is not Vault's JSON") from None
        if not isinstance(data, dict):
            raise UnsealError(f"{where}: the reply to {operation} has no data object")
        return data


class _HTTPSConnection(http.client.HTTPSConnection):
    """HTTPS whose certificate is checked for ``tls_server_name`` (SNI too) instead of the host."""

    def __init__(
        self, host: str, port: int | None, server_name: str | None, context: ssl.SSLContext, timeout: float
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._server_name = server_name or host
        self._tls = context

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._server_name)


def _errors(raw: bytes) -> str:
    try:
        errors = json.loads(raw).get("errors")
        return "; ".join(str(e)[:200] for e in errors)[:400] if isinstance(errors, list) else ""
    except (ValueError, AttributeError):
        return ""
