"""The file audit device: one JSON line per request and per response, appended and fsynced.

As in Vault, every string in request and response data, and every token and
accessor, is written as ``hmac-sha256:<hex>`` under a random salt kept in
the keystore; ``sys/audit-hash/<path>`` gives the same hash of a known value,
so a log can be searched without ever holding a secret. Keys, paths,
operations, policy names, numbers and booleans stay readable.

A request is refused (500) when audit devices are enabled and none of them
could write its entry, so nothing happens that the log does not show.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from secretumvault._files import create_new_file
from secretumvault.encoding import tagged_json as tagged
from secretumvault.keystore import Keystore
from secretumvault.server.errors import HttpError, bad_request
from secretumvault.server.state import records

__all__ = ["AUDIT_PATH", "AuditBroker", "AuditTable", "FileDevice", "hash_value", "parse_audit_table"]

AUDIT_PATH = "sys/audit"
_SALT_SIZE = 32


def hash_value(salt: bytes, value: str) -> str:
    return "hmac-sha256:" + hmac.new(salt, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _hash_strings(salt: bytes, value: Any) -> Any:
    """A copy of ``value`` with every string replaced by its HMAC.

    Built with a stack, not by recursion: a request may nest as deep as the
    listener's ``max_json_depth`` allows, and an audit failure refuses the request.
    """
    if isinstance(value, str):
        return hash_value(salt, value)
    if not isinstance(value, (Mapping, list, tuple)):
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]  # (source, container to fill, key in it)
    while stack:
        source, target, key = stack.pop()
        if isinstance(source, str):
            target[key] = hash_value(salt, source)
        elif isinstance(source, Mapping):
            copied: dict[Any, Any] = dict.fromkeys(source)
            target[key] = copied
            stack.extend((item, copied, name) for name, item in source.items())
        elif isinstance(source, (list, tuple)):
            items: list[Any] = [None] * len(source)
            target[key] = items
            stack.extend((item, items, index) for index, item in enumerate(source))
        else:
            target[key] = source
    return root[0]


@dataclass(frozen=True)
class DeviceConfig:
    path: str
    type: str
    file_path: str
    description: str


@dataclass(frozen=True)
class AuditTable:
    salt: bytes | None
    devices: tuple[DeviceConfig, ...]

    def encode(self) -> bytes:
        return records.dump(
            "audit",
            {
                "salt": None if self.salt is None else tagged.b64encode(self.salt),
                "devices": [
                    {"path": d.path, "type": d.type, "file_path": d.file_path, "description": d.description}
                    for d in self.devices
                ],
            },
        )

    def with_device(self, device: DeviceConfig) -> AuditTable:
        return AuditTable(self.salt or secrets.token_bytes(_SALT_SIZE), (*self.devices, device))

    def without(self, path: str) -> AuditTable:
        return AuditTable(self.salt, tuple(d for d in self.devices if d.path != path))


def parse_audit_table(raw: bytes | None) -> AuditTable:
    if raw is None:
        return AuditTable(None, ())
    obj = records.load(raw, "audit", AUDIT_PATH)
    salt = obj.get("salt")
    return AuditTable(
        None if salt is None else tagged.b64decode(salt),
        tuple(
            DeviceConfig(d["path"], d["type"], d["file_path"], d.get("description", ""))
            for d in obj.get("devices", [])
        ),
    )


class FileDevice:
    """Appends lines to one file, created 0600, never through a symlink; each line fsynced."""

    def __init__(self, file_path: str) -> None:
        try:
            try:
                fd = create_new_file(file_path, append=True)
            except FileExistsError:  # an existing log: appended to, never through a link
                fd = os.open(file_path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise bad_request(f"cannot open audit file {file_path!r}: {exc.strerror}") from None
        info = os.fstat(fd)
        # Append only to a private regular file of our own: never to a device, or someone else's file.
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            os.close(fd)
            raise bad_request(
                f"audit file {file_path!r} must be a regular file owned by the server, mode 0600"
            )
        self._fd = fd
        self.file_path = file_path
        self._lock = threading.Lock()

    def write(self, line: bytes) -> None:
        with self._lock:
            # One write call per line: O_APPEND keeps lines from several processes whole.
            written = os.write(self._fd, line)
            if written != len(line):
                raise OSError("short write to the audit log")
            os.fsync(self._fd)

    def close(self) -> None:
        with self._lock:
            os.close(self._fd)


class AuditBroker:
    """Writes entries to the devices of the current audit table (opened once per file)."""

    def __init__(self) -> None:
        self._devices: dict[str, FileDevice] = {}
        self._lock = threading.Lock()

    def _device(self, config: DeviceConfig) -> FileDevice:
        with self._lock:
            device = self._devices.get(config.file_path)
            if device is None:
                device = FileDevice(config.file_path)
                self._devices[config.file_path] = device
            return device

    def check_writable(self, file_path: str) -> None:
        self._device(DeviceConfig("", "file", file_path, ""))

    def log(self, table: AuditTable, entry: dict[str, Any]) -> None:
        if not table.devices:
            return
        line = (json.dumps(entry, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")
        written = 0
        for config in table.devices:
            try:
                self._device(config).write(line)
                written += 1
            except (OSError, HttpError):
                continue
        if written == 0:
            raise HttpError(500, "no audit device could record the request; it was refused")

    def close(self) -> None:
        with self._lock:
            for device in self._devices.values():
                device.close()
            self._devices.clear()


def request_entry(
    salt: bytes,
    *,
    kind: str,
    request_id: str,
    operation: str,
    path: str,
    mount_type: str,
    remote_address: str,
    token: str | None,
    auth: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    response: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """One audit line; every secret is hashed before it is put in."""
    entry: dict[str, Any] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "type": kind,
        "auth": _hash_auth(salt, auth) if auth else {},
        "request": {
            "id": request_id,
            "operation": operation,
            "path": path,
            "mount_type": mount_type,
            "remote_address": remote_address,
            "client_token": "" if token is None else hash_value(salt, token),
            "data": None if data is None else _hash_strings(salt, data),
        },
    }
    if kind == "response":
        entry["response"] = None if response is None else _hash_response(salt, response)
    if error is not None:
        entry["error"] = error
    return entry


def _hash_auth(salt: bytes, auth: Mapping[str, Any]) -> dict[str, Any]:
    hashed = dict(auth)
    for secret_field in ("client_token", "accessor"):
        if isinstance(hashed.get(secret_field), str) and hashed[secret_field]:
            hashed[secret_field] = hash_value(salt, hashed[secret_field])
    return hashed


def _hash_response(salt: bytes, response: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "data": _hash_strings(salt, response.get("data")),
        "auth": _hash_auth(salt, response["auth"]) if response.get("auth") else None,
    }


def load_table(keystore: Keystore) -> AuditTable:
    from secretumvault.errors import KeyNotFound

    try:
        return parse_audit_table(keystore.get(AUDIT_PATH))
    except KeyNotFound:
        return AuditTable(None, ())
