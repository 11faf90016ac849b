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

import secrets
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from secretumvault.errors import KeyNotFound
from secretumvault.keystore import Keystore
from secretumvault.server.errors import bad_request
from secretumvault.server.state.path_table import PathTable, TableEntry, check_table_path, tune_changes

if TYPE_CHECKING:
    from secretumvault.server.state.tokens import TokenStore

__all__ = ["AUTH_PATH", "METHOD_TYPES", "AuthMethod", "AuthTable", "check_auth_path"]

AUTH_PATH = "sys/auth"
METHOD_TYPES = ("approle", "userpass")
_STORAGE_PREFIX = "sys/auth-method/"
#: Where a method records the hashes of the tokens its logins issued (revoked on disable).
ISSUED_PREFIX = "issued-tokens/"


@dataclass(frozen=True, kw_only=True)
class AuthMethod(TableEntry):
    """An enabled auth method; ``path`` is inside auth/, with the trailing '/': "approle/"."""

    @property
    def storage(self) -> str:
        """The keystore prefix of everything this method stores (ends with '/')."""
        return f"{_STORAGE_PREFIX}{self.uuid}/"

    def config(self) -> dict[str, Any]:
        return {**super().config(), "force_no_cache": False, "token_type": "default-service"}


def check_auth_path(path: object) -> str:
    """``"approle"`` or ``"approle/"`` -> ``"approle/"``; 400 for anything else."""
    return check_table_path(path, "an auth path")


class AuthTable(PathTable[AuthMethod]):
    def __init__(self, keystore: Keystore, tokens: TokenStore) -> None:
        super().__init__(
            keystore,
            record=AUTH_PATH,
            fmt="auth",
            key="methods",
            entry=AuthMethod,
            name="auth method table",
            shown="auth/",
            fixed=("token/",),
        )
        self._tokens = tokens

    def methods(self) -> dict[str, AuthMethod]:
        return self.entries()

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
        return self._add(
            normalized,
            lambda _table: AuthMethod(
                path=normalized,
                type=method_type,
                accessor=f"auth_{method_type}_{secrets.token_hex(4)}",
                uuid=str(uuid.uuid4()),
                description=description,
                default_lease_ttl=default_lease_ttl,
                max_lease_ttl=max_lease_ttl,
                options=dict(options or {}),
            ),
        )

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
        for table, store in self._attempts():
            method = table.get(normalized)
            if method is None:
                raise bad_request(f"cannot tune auth/{normalized}: no auth method is enabled there")
            tuned = replace(method, **tune_changes(description, default_lease_ttl, max_lease_ttl))
            if 0 < tuned.max_lease_ttl < tuned.default_lease_ttl:
                raise bad_request("default_lease_ttl cannot be greater than max_lease_ttl")
            if tuned == method:
                return method
            if store({**table, normalized: tuned}):
                return tuned
        raise self._conflict()

    def move(self, source: str, target: str) -> AuthMethod:
        """``sys/remount`` of ``auth/<source>`` to ``auth/<target>``: its roles and users stay
        (they are stored by the method's uuid). As Vault, which revokes the leases issued under
        the old path, the tokens its logins issued are revoked."""
        method, moved = self._move(check_auth_path(source), check_auth_path(target))
        # A login past its check when the path moved sees its method "not current" after
        # recording its token, and revokes that token itself (login.py).
        self._revoke_issued(method)
        return moved

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
        method = self._remove(normalized)
        if method is None:
            return
        # From here no login reaches the method; a login already past its check sees the
        # method gone after recording its token and revokes it itself (see ``issued``).
        self._revoke_issued(method)
        self._delete_under(method.storage)
