"""What the mount table (``mounts.py``) and the auth method table (``auth/table.py``) share.

Each is one keystore record mapping path prefixes to entries of the same
shape (type, accessor, uuid, description, options, lease TTLs), changed only
by compare-and-set and proved current before every request (``cached.py``).
The tables keep only what differs: their extra fields, their checks, and
what follows a change (deleting a mount's data, revoking an auth method's tokens).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Self, TypeVar

from secretumvault.errors import ConflictError, KeyNotFound
from secretumvault.keystore import Keystore
from secretumvault.server.errors import bad_request
from secretumvault.server.state import records
from secretumvault.server.state.cached import CachedRecord

__all__ = ["PathTable", "TableEntry", "check_table_path", "tune_changes"]

_TABLE_PATH = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]{0,63}/){1,8}")
_UPDATE_ATTEMPTS = 16


def check_table_path(path: object, noun: str) -> str:
    """``"transit"`` or ``"transit/"`` -> ``"transit/"``; 400 for anything else (``noun``: "a mount path")."""
    if not isinstance(path, str):
        raise bad_request(f"{noun} must be a string")
    normalized = path.strip("/") + "/"
    if not _TABLE_PATH.fullmatch(normalized):
        raise bad_request(
            f"{noun} is 1 to 8 segments of letters, digits, '.', '_' and '-', each starting "
            "with a letter or digit"
        )
    return normalized


@dataclass(frozen=True, kw_only=True)
class TableEntry:
    path: str  # with the trailing '/'
    type: str
    accessor: str
    uuid: str
    description: str = ""
    options: dict[str, str] = field(default_factory=dict)
    #: Seconds; 0 means the system's (32 days).
    default_lease_ttl: int = 0
    max_lease_ttl: int = 0

    @staticmethod
    def fields_from(path: str, stored: dict[str, Any]) -> dict[str, Any]:
        """The shared fields of an entry as ``to_dict`` stored them."""
        return {
            "path": path,
            "type": stored["type"],
            "accessor": stored["accessor"],
            "uuid": stored["uuid"],
            "description": stored.get("description", ""),
            "options": dict(stored.get("options") or {}),
            "default_lease_ttl": int(stored.get("default_lease_ttl", 0)),
            "max_lease_ttl": int(stored.get("max_lease_ttl", 0)),
        }

    @classmethod
    def from_dict(cls, path: str, stored: dict[str, Any]) -> Self:
        return cls(**cls.fields_from(path, stored))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "accessor": self.accessor,
            "uuid": self.uuid,
            "description": self.description,
            "options": self.options,
            "default_lease_ttl": self.default_lease_ttl,
            "max_lease_ttl": self.max_lease_ttl,
        }

    def config(self) -> dict[str, Any]:
        """The ``config`` object of :meth:`describe`."""
        return {"default_lease_ttl": self.default_lease_ttl, "max_lease_ttl": self.max_lease_ttl}

    def describe(self) -> dict[str, Any]:
        """As ``GET sys/mounts`` or ``GET sys/auth`` shows the entry."""
        return {
            "type": self.type,
            "description": self.description,
            "accessor": self.accessor,
            "uuid": self.uuid,
            "config": self.config(),
            "options": self.options or None,
            "local": False,
            "seal_wrap": False,
            "external_entropy_access": False,
        }


E = TypeVar("E", bound=TableEntry)


def tune_changes(
    description: str | None, default_lease_ttl: int | None, max_lease_ttl: int | None
) -> dict[str, Any]:
    """The fields a tune sets, for :func:`dataclasses.replace` (``None``: keep)."""
    changes: dict[str, Any] = {}
    if description is not None:
        changes["description"] = description
    if default_lease_ttl is not None:
        changes["default_lease_ttl"] = default_lease_ttl
    if max_lease_ttl is not None:
        changes["max_lease_ttl"] = max_lease_ttl
    return changes


class PathTable(Generic[E]):
    """One table record of ``entry`` values, under ``key`` in a ``fmt`` record at ``record``.

    ``shown`` prefixes a path in messages (``"auth/"``); ``fixed`` are paths always
    taken that the record does not hold (the auth table's ``token/``).
    """

    def __init__(
        self,
        keystore: Keystore,
        *,
        record: str,
        fmt: str,
        key: str,
        entry: type[E],
        name: str,
        shown: str = "",
        fixed: tuple[str, ...] = (),
    ) -> None:
        self._keystore = keystore
        self._fmt, self._key, self._entry = fmt, key, entry
        self._record = record
        self._name, self._shown, self._fixed = name, shown, fixed
        self._table = CachedRecord(keystore, record, self._parse)

    def _parse(self, raw: bytes | None) -> dict[str, E]:
        if raw is None:
            return {}
        obj = records.load(raw, self._fmt, self._record)
        return {path: self._entry.from_dict(path, stored) for path, stored in obj[self._key].items()}

    def _store(self, version: int | None, table: dict[str, E]) -> bool:
        encoded = records.dump(self._fmt, {self._key: {path: e.to_dict() for path, e in table.items()}})
        return self._table.store(version, encoded)

    def _attempts(self) -> Iterator[tuple[dict[str, E], Callable[[dict[str, E]], bool]]]:
        """The compare-and-set loop: each turn, the current table and a ``store(new_table)`` that
        is False when another writer changed the table first (the caller then goes round again).
        Once they run out, the caller raises :meth:`_conflict`."""
        for _ in range(_UPDATE_ATTEMPTS):
            table, version = self._table.get()
            yield table, functools.partial(self._store, version)

    def _conflict(self) -> ConflictError:
        return ConflictError(f"the {self._name} kept changing; try again")

    def entries(self) -> dict[str, E]:
        return self._table.get()[0]

    def resolve(self, path: str) -> tuple[E, str] | None:
        """The entry serving ``path`` (longest prefix) and the path inside it."""
        best: E | None = None
        for entry_path, entry in self.entries().items():
            if (path + "/").startswith(entry_path) and (best is None or len(entry_path) > len(best.path)):
                best = entry
        if best is None:
            return None
        return best, path[len(best.path) :]

    def _overlap(self, table: dict[str, E], path: str) -> str | None:
        """The taken path that ``path`` would nest in or under, if any."""
        for existing in [*self._fixed, *table]:
            if existing.startswith(path) or path.startswith(existing):
                return existing
        return None

    def _add(self, path: str, make: Callable[[dict[str, E]], E]) -> E:
        """Store ``make(table)`` at ``path`` (normalized); 400 if the path overlaps a taken one."""
        for table, store in self._attempts():
            existing = self._overlap(table, path)
            if existing is not None:
                raise bad_request(f"path is already in use at {self._shown}{existing}")
            entry = make(table)
            if store({**table, path: entry}):
                return entry
        raise self._conflict()

    def _move(self, source: str, target: str) -> tuple[E, E]:
        """``sys/remount`` (paths normalized): the entry as it was and as it is now."""
        for table, store in self._attempts():
            entry = table.get(source)
            if entry is None:
                raise bad_request(f"no matching mount at '{self._shown}{source}'")
            existing = self._overlap(table, target)
            if existing is not None:
                raise bad_request(f"path already in use at '{self._shown}{existing}'")
            moved = replace(entry, path=target)
            remaining = {p: e for p, e in table.items() if p != source}
            if store({**remaining, target: moved}):
                return entry, moved
        raise self._conflict()

    def _remove(self, path: str) -> E | None:
        """Take the entry at ``path`` (normalized) out of the table: the entry, or None if none was there."""
        for table, store in self._attempts():
            entry = table.get(path)
            if entry is None:
                return None
            if store({p: e for p, e in table.items() if p != path}):
                return entry
        raise self._conflict()

    def _delete_under(self, prefix: str) -> None:
        """Delete every record under ``prefix`` (one a concurrent deletion took is no error)."""
        for record in self._keystore.list(prefix):
            try:
                self._keystore.delete(record)
            except KeyNotFound:
                continue

    def clear(self) -> None:
        self._table.clear()
