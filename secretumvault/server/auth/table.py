"""The auth method table: which auth method serves which ``auth/<path>/`` prefix.

One keystore record (``sys/auth``), changed only by compare-and-set and proved
current before every request (``cached.py``), as the mount table is, so server
processes sharing a store agree on it. Each method keeps its data under its own
storage prefix (``sys/auth-method/<uuid>/``); disabling a method revokes every
token its logins issued (each login records its token's hash under that prefix)
and then deletes the prefix, so enabling the path again starts empty.

``token/`` is always there and is not in the record: it cannot be disabled.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from secretumvault.errors import ConflictError, KeyNotFound
from secretumvault.keystore import Keystore
from secretumvault.server.errors import bad_request
from secretumvault.server.state import records
from secretumvault.server.state.cached import CachedRecord

if TYPE_CHECKING:
    from secretumvault.server.state.tokens import TokenStore

__all__ = ["AUTH_PATH", "METHOD_TYPES", "AuthMethod", "AuthTable", "check_auth_path"]

AUTH_PATH = "sys/auth"
METHOD_TYPES = ("approle", "userpass")
_STORAGE_PREFIX = "sys/auth-method/"
_AUTH_MOUNT_PATH = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]{0,63}/){1,8}")
_UPDATE_ATTEMPTS = 16
#: Where a method records the hashes of the tokens its logins issued (revoked on disable).
ISSUED_PREFIX = "issued-tokens/"


@dataclass(frozen=True)
class AuthMethod:
    path: str  # inside auth/, with the trailing '/': "approle/"
    type: str
    accessor: str
    uuid: str
    description: str = ""
    #: Seconds; 0 means the system's (32 days).
    default_lease_ttl: int = 0
    max_lease_ttl: int = 0
    options: dict[str, str] = field(default_factory=dict)

    @property
    def storage(self) -> str:
        """The keystore prefix of everything this method stores (ends with '/')."""
        return f"{_STORAGE_PREFIX}{self.uuid}/"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "accessor": self.accessor,
            "uuid": self.uuid,
            "description": self.description,
            "default_lease_ttl": self.default_lease_ttl,
            "max_lease_ttl": self.max_lease_ttl,
            "options": self.options,
        }

    def describe(self) -> dict[str, Any]:
        """As ``GET sys/auth`` shows a method."""
        return {
            "type": self.type,
            "description": self.description,
            "accessor": self.accessor,
            "uuid": self.uuid,
            "config": {
                "default_lease_ttl": self.default_lease_ttl,
                "max_lease_ttl": self.max_lease_ttl,
                "force_no_cache": False,
                "token_type": "default-service",
            },
            "options": self.options or None,
            "local": False,
            "seal_wrap": False,
            "external_entropy_access": False,
        }


def check_auth_path(path: object) -> str:
    """``"approle"`` or ``"approle/"`` -> ``"approle/"``; 400 for anything else."""
    if not isinstance(path, str):
        raise bad_request("an auth path must be a string")
    normalized = path.strip("/") + "/"
    if not _AUTH_MOUNT_PATH.fullmatch(normalized):
        raise bad_request(
            "an auth path is 1 to 8 segments of letters, digits, '.', '_' and '-', each starting "
            "with a letter or digit"
        )
    return normalized


def _parse_table(raw: bytes | None) -> dict[str, AuthMethod]:
    if raw is None:
        return {}
    obj = records.load(raw, "auth", AUTH_PATH)
    return {
        path: AuthMethod(
            path=path,
            type=m["type"],
            accessor=m["accessor"],
            uuid=m["uuid"],
            description=m.get("description", ""),
            default_lease_ttl=int(m.get("default_lease_ttl", 0)),
            max_lease_ttl=int(m.get("max_lease_ttl", 0)),
            options=dict(m.get("options") or {}),
        )
        for path, m in obj["methods"].items()
    }


def _encode_table(methods: dict[str, AuthMethod]) -> bytes:
    return records.dump("auth", {"methods": {path: m.to_dict() for path, m in methods.items()}})


class AuthTable:
    def __init__(self, keystore: Keystore, tokens: TokenStore) -> None:
        self._keystore = keystore
        self._tokens = tokens
        self._table = CachedRecord(keystore, AUTH_PATH, _parse_table)

    def methods(self) -> dict[str, AuthMethod]:
        return self._table.get()[0]

    def resolve(self, path: str) -> tuple[AuthMethod, str] | None:
        """For ``path`` inside ``auth/``: the method serving it (longest prefix) and the rest."""
        best: AuthMethod | None = None
        for method_path, method in self.methods().items():
            if (path + "/").startswith(method_path) and (best is None or len(method_path) > len(best.path)):
                best = method
        if best is None:
            return None
        return best, path[len(best.path) :]

    def current(self, method: AuthMethod) -> bool:
        """Whether ``method`` is still enabled (the same one: not disabled and enabled again)."""
        found = self.methods().get(method.path)
        return found is not None and found.uuid == method.uuid

    def enable(
        self,
        path: str,
        method_type: str,
        description: str,
        *,
        default_lease_ttl: int = 0,
        max_lease_ttl: int = 0,
        options: dict[str, str] | None = None,
    ) -> AuthMethod:
        normalized = check_auth_path(path)
        if method_type == "token":
            raise bad_request("token auth method is always enabled at token/ and cannot be enabled again")
        if method_type not in METHOD_TYPES:
            raise bad_request(
                f"unknown auth method type {method_type!r}: this server serves "
                f"{', '.join(METHOD_TYPES)} (and token, always at token/)"
            )
        if 0 < max_lease_ttl < default_lease_ttl:
            raise bad_request("default_lease_ttl cannot be greater than max_lease_ttl")
        for _ in range(_UPDATE_ATTEMPTS):
            table, version = self._table.get()
            for existing in ["token/", *table]:
                if existing.startswith(normalized) or normalized.startswith(existing):
                    raise bad_request(f"path is already in use at auth/{existing}")
            method = AuthMethod(
                path=normalized,
                type=method_type,
                accessor=f"auth_{method_type}_{secrets.token_hex(4)}",
                uuid=str(uuid.uuid4()),
                description=description,
                default_lease_ttl=default_lease_ttl,
                max_lease_ttl=max_lease_ttl,
                options=dict(options or {}),
            )
            if not self._table.store(version, _encode_table({**table, normalized: method})):
                continue
            return method
        raise ConflictError("the auth method table kept changing; try again")

    def tune(
        self,
        path: str,
        *,
        description: str | None = None,
        default_lease_ttl: int | None = None,
        max_lease_ttl: int | None = None,
    ) -> AuthMethod:
        """Change a method's description or TTLs (``None``: keep); 400 before anything is stored."""
        normalized = check_auth_path(path)
        for _ in range(_UPDATE_ATTEMPTS):
            table, version = self._table.get()
            method = table.get(normalized)
            if method is None:
                raise bad_request(f"cannot tune auth/{normalized}: no auth method is enabled there")
            changes: dict[str, Any] = {}
            if description is not None:
                changes["description"] = description
            if default_lease_ttl is not None:
                changes["default_lease_ttl"] = default_lease_ttl
            if max_lease_ttl is not None:
                changes["max_lease_ttl"] = max_lease_ttl
            tuned = replace(method, **changes)
            if 0 < tuned.max_lease_ttl < tuned.default_lease_ttl:
                raise bad_request("default_lease_ttl cannot be greater than max_lease_ttl")
            if tuned == method:
                return method
            if not self._table.store(version, _encode_table({**table, normalized: tuned})):
                continue
            return tuned
        raise ConflictError("the auth method table kept changing; try again")

    def move(self, source: str, target: str) -> AuthMethod:
        """``sys/remount`` of ``auth/<source>`` to ``auth/<target>``: its roles and users stay
        (they are stored by the method's uuid). As Vault, which revokes the leases issued under
        the old path, the tokens its logins issued are revoked."""
        src, dst = check_auth_path(source), check_auth_path(target)
        for _ in range(_UPDATE_ATTEMPTS):
            table, version = self._table.get()
            method = table.get(src)
            if method is None:
                raise bad_request(f"no matching mount at 'auth/{src}'")
            for existing in ["token/", *table]:
                if existing.startswith(dst) or dst.startswith(existing):
                    raise bad_request(f"path already in use at 'auth/{existing}'")
            moved = replace(method, path=dst)
            remaining = {p: m for p, m in table.items() if p != src}
            if not self._table.store(version, _encode_table({**remaining, dst: moved})):
                continue
            # A login past its check when the path moved sees its method "not current" after
            # recording its token, and revokes that token itself (login.py).
            self._revoke_issued(method)
            return moved
        raise ConflictError("the auth method table kept changing; try again")

    def _revoke_issued(self, method: AuthMethod) -> None:
        issued = method.storage + ISSUED_PREFIX
        for record in self._keystore.list(issued):
            entry = self._tokens.lookup_hash(record[len(issued) :])
            if entry is not None:
                self._tokens.revoke(entry)
            try:
                self._keystore.delete(record)
            except KeyNotFound:
                continue

    def disable(self, path: str) -> None:
        """Remove the method, revoke the tokens it issued, delete its data. Vault: no error if absent."""
        normalized = check_auth_path(path)
        if normalized == "token/":
            raise bad_request("token credential backend cannot be disabled")
        for _ in range(_UPDATE_ATTEMPTS):
            table, version = self._table.get()
            method = table.get(normalized)
            if method is None:
                return
            remaining = {p: m for p, m in table.items() if p != normalized}
            if not self._table.store(version, _encode_table(remaining)):
                continue
            # From here no login reaches the method; a login already past its check sees the
            # method gone after recording its token and revokes it itself (see ``issued``).
            self._revoke_issued(method)
            for record in self._keystore.list(method.storage):
                try:
                    self._keystore.delete(record)
                except KeyNotFound:
                    continue
            return
        raise ConflictError("the auth method table kept changing; try again")

    def clear(self) -> None:
        self._table.clear()
