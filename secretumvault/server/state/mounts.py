"""The mount table: which secrets engine serves which path prefix.

The table is one keystore record (``sys/mounts``), changed only by
compare-and-set and proved current before every request (``cached.py``), so
server processes sharing a store agree on it: once one process has disabled
a mount, no process serves it. Each mount keeps its data under its own
storage name; disabling a mount deletes that data, so enabling the path
again starts empty, as in Vault. A write that another process had already
begun when the mount was disabled can land after that deletion; enabling a
mount therefore first deletes anything left under its storage name.

A mount at ``transit/`` or ``pki/`` stores under ``transit`` or ``pki``: the
names the command line's ``secretumvault transit|pki`` use, so keys and CAs
made there are served here and the other way round.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, replace
from typing import Any, Self

from secretumvault.keystore import Keystore
from secretumvault.server.errors import bad_request
from secretumvault.server.state import kv_v1_store as kv_v1
from secretumvault.server.state.path_table import PathTable, TableEntry, check_table_path, tune_changes

__all__ = ["ENGINE_TYPES", "MOUNTS_PATH", "SYSTEM_MAX_LEASE_TTL", "Mount", "MountTable", "string_options"]

MOUNTS_PATH = "sys/mounts"
ENGINE_TYPES = ("transit", "pki", "kv", "generic")
#: Vault's kv engine names: ``generic`` is kv's old name; ``kv-v1`` and ``kv-v2`` set the version.
_KV_TYPES = ("kv", "generic")
_RESERVED = ("sys/", "auth/", "cubbyhole/", "identity/")
#: Also one of Vault's protected mount prefixes: refused for a new mount (or a move's target:
#: routes/sys.py), never for one a store made before, which can still be tuned or disabled.
_NOT_FOR_NEW_MOUNTS = "audit/"
_STORAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
#: Vault's system default and maximum lease TTL (32 days): what a mount's 0 stands for.
SYSTEM_MAX_LEASE_TTL = 32 * 86400


@dataclass(frozen=True, kw_only=True)
class Mount(TableEntry):
    storage: str
    force_no_cache: bool = False

    @property
    def engine_kind(self) -> str:
        """Which engine serves the mount: its type, but ``kv-v1`` for a kv (or generic) mount
        that is not version 2 (no version, as Vault reads it, is version 1)."""
        if self.type in _KV_TYPES:
            return "kv" if self.options.get("version") == "2" else "kv-v1"
        return self.type

    @classmethod
    def from_dict(cls, path: str, stored: dict[str, Any]) -> Self:
        return cls(
            **cls.fields_from(path, stored),
            storage=stored["storage"],
            force_no_cache=bool(stored.get("force_no_cache", False)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "storage": self.storage, "force_no_cache": self.force_no_cache}

    def config(self) -> dict[str, Any]:
        return {**super().config(), "force_no_cache": self.force_no_cache}

    def tuning(self) -> dict[str, Any]:
        """As ``GET sys/mounts/<path>/tune`` shows it: the TTLs in force, 0 replaced by the system's."""
        tuning: dict[str, Any] = {
            "description": self.description,
            "default_lease_ttl": self.default_lease_ttl or SYSTEM_MAX_LEASE_TTL,
            "max_lease_ttl": self.max_lease_ttl or SYSTEM_MAX_LEASE_TTL,
            "force_no_cache": self.force_no_cache,
        }
        if self.options:
            tuning["options"] = self.options
        return tuning


def string_options(value: object, name: str = "options") -> dict[str, str]:
    """Vault's weakly typed string map: ``{"version": 2}`` is ``{"version": "2"}``.

    As Go's weak decoding does it: a number is written in decimal, a boolean is
    "1" or "0", null is "". A list or an object is refused: it has no string form.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"{name} must be a JSON object mapping names to strings")
    result: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool):
            result[key] = "1" if item else "0"
        elif isinstance(item, int):
            result[key] = str(item)
        elif isinstance(item, float) and math.isfinite(item):
            result[key] = repr(item)
        elif isinstance(item, str):
            result[key] = item
        elif item is None:
            result[key] = ""
        else:
            raise bad_request(f"{name}.{key} must be a string, a number or a boolean")
    return result


def check_mount_path(path: object) -> str:
    """``"transit"`` or ``"transit/"`` -> ``"transit/"``; 400 for anything else."""
    normalized = check_table_path(path, "a mount path")
    if normalized.startswith(_RESERVED):
        raise bad_request(f"cannot mount at {normalized!r}: the prefix is reserved")
    return normalized


def _check_ttls(default_lease_ttl: int, max_lease_ttl: int) -> None:
    effective_default = default_lease_ttl or SYSTEM_MAX_LEASE_TTL
    effective_max = max_lease_ttl or SYSTEM_MAX_LEASE_TTL
    if effective_default > effective_max:
        raise bad_request("default_lease_ttl cannot be greater than max_lease_ttl")


def _tuned_options(mount: Mount, options: dict[str, str]) -> dict[str, str]:
    """The mount's options with ``options`` laid over them, as Vault's tune merges them.
    A kv version may go from 1 to 2 (``tune`` then moves the data), never back."""
    if mount.type in _KV_TYPES and "version" in options:
        current = mount.options.get("version", "1")
        wanted = options["version"] or current
        if wanted not in ("1", "2"):
            raise bad_request(f"invalid kv version {wanted!r}: 1 or 2")
        if wanted < current:
            raise bad_request(f"cannot downgrade mount from kv version {current} to {wanted}")
        options = {**options, "version": wanted}
    elif "version" in options and options["version"] not in ("", mount.options.get("version", "")):
        raise bad_request(f"a {mount.type} mount has no version to change")
    return {**mount.options, **options}


class MountTable(PathTable[Mount]):
    def __init__(self, keystore: Keystore, backend: str | None) -> None:
        super().__init__(
            keystore, record=MOUNTS_PATH, fmt="mounts", key="mounts", entry=Mount, name="mount table"
        )
        self._backend = backend
        #: By (uuid, engine kind): a kv mount upgraded to version 2 gets a new engine.
        self._engines: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def mounts(self) -> dict[str, Mount]:
        return self.entries()

    def engine(self, mount: Mount) -> Any:
        """The engine object of ``mount``, made once per process (engines keep key caches)."""
        key = (mount.uuid, mount.engine_kind)
        with self._lock:
            found = self._engines.get(key)
            if found is None:
                found = self._make_engine(mount)
                self._engines[key] = found
            return found

    def _make_engine(self, mount: Mount) -> Any:
        if mount.type == "transit":
            from secretumvault.transit import Transit

            return Transit(self._keystore, backend=self._backend, mount=mount.storage)
        if mount.type == "pki":
            from secretumvault.pki import PkiEngine

            return PkiEngine(self._keystore, backend=self._backend, mount=mount.storage)
        if mount.engine_kind == "kv-v1":
            from secretumvault.server.state.kv_v1_store import KvV1Store

            return KvV1Store(self._keystore, mount.storage)
        from secretumvault.server.state.kv_store import KvStore

        return KvStore(self._keystore, mount.storage)

    def enable(
        self,
        path: str,
        engine_type: str,
        description: str,
        options: dict[str, str],
        *,
        default_lease_ttl: int = 0,
        max_lease_ttl: int = 0,
        force_no_cache: bool = False,
    ) -> Mount:
        normalized = check_mount_path(path)
        if normalized.startswith(_NOT_FOR_NEW_MOUNTS):
            raise bad_request(f"cannot mount at {normalized!r}: the prefix is reserved")
        _check_ttls(default_lease_ttl, max_lease_ttl)
        if engine_type in ("kv-v1", "kv-v2"):
            engine_type, options = "kv", {**options, "version": engine_type[-1]}
        if engine_type not in ENGINE_TYPES:
            raise bad_request(
                f"unknown secrets engine type {engine_type!r}; use one of {', '.join(ENGINE_TYPES)}"
            )
        kv_version = options.get("version", "")
        if engine_type == "kv" and kv_version not in ("", "1", "2"):
            raise bad_request(f"invalid kv version {kv_version!r}: 1 or 2")
        if engine_type != "kv" and kv_version:
            raise bad_request(f"secrets engine {engine_type!r} does not allow setting a version")

        def make(table: dict[str, Mount]) -> Mount:
            storage = self._storage_name(normalized, table)
            # No mount uses this storage name now, so anything under it is left over (a write
            # that raced a disable in another process): the new mount must start empty.
            self._purge(storage)
            return Mount(
                path=normalized,
                type=engine_type,
                storage=storage,
                accessor=f"{engine_type}_{secrets.token_hex(4)}",
                uuid=str(uuid.uuid4()),
                description=description,
                options=options,
                default_lease_ttl=default_lease_ttl,
                max_lease_ttl=max_lease_ttl,
                force_no_cache=force_no_cache,
            )

        return self._add(normalized, make)

    def tune(
        self,
        path: str,
        *,
        description: str | None = None,
        default_lease_ttl: int | None = None,
        max_lease_ttl: int | None = None,
        options: dict[str, str] | None = None,
    ) -> Mount:
        """Change a mount's settings (``None``: keep); 400 before anything is stored if one is refused."""
        normalized = check_mount_path(path)
        copied: kv_v1.Copied | None = None
        for table, store in self._attempts():
            mount = table.get(normalized)
            if mount is None:
                raise bad_request(f"no mount at {normalized}")
            changes = tune_changes(description, default_lease_ttl, max_lease_ttl)
            if options is not None:
                changes["options"] = _tuned_options(mount, options)
            tuned = replace(mount, **changes)
            _check_ttls(tuned.default_lease_ttl, tuned.max_lease_ttl)
            if tuned == mount:
                return mount
            upgrade = mount.engine_kind == "kv-v1" and tuned.engine_kind == "kv"
            if upgrade and copied is None:
                # kv_v1.py: copy beside the v1 data, switch the table, then remove the v1 data;
                # the mount serves all its secrets before, during and after.
                copied = kv_v1.copy_to_v2(self._keystore, mount.storage)
            if not store({**table, normalized: tuned}):
                continue
            if upgrade:
                assert copied is not None
                kv_v1.finish_upgrade(self._keystore, mount.storage, copied)
            return tuned
        raise self._conflict()

    def move(self, source: str, target: str) -> Mount:
        """``sys/remount``: serve the mount at ``source`` from ``target`` instead. Its data stays
        where it is (under its storage name, which does not follow the path), so everything
        stored through the old path reads through the new one; nothing is copied."""
        return self._move(check_mount_path(source), check_mount_path(target))[1]

    def disable(self, path: str) -> None:
        """Remove the mount and delete everything its engine stored. Vault: no error if absent."""
        normalized = check_mount_path(path)
        mount = self._remove(normalized)
        if mount is None:
            return
        with self._lock:
            for key in [key for key in self._engines if key[0] == mount.uuid]:
                del self._engines[key]
        self._purge(mount.storage)

    def _purge(self, storage: str) -> None:
        """Delete every record stored under a storage name no mount uses."""
        self._delete_under(storage + "/")

    @staticmethod
    def _storage_name(path: str, table: dict[str, Mount]) -> str:
        used = {m.storage for m in table.values()}
        simple = path.rstrip("/")
        if _STORAGE_NAME.fullmatch(simple) and simple not in used and simple != "sys":
            return simple
        return f"mount-{uuid.uuid4().hex}"

    def clear(self) -> None:
        with self._lock:
            self._engines.clear()
        super().clear()
