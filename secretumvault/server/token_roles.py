"""Token roles (``auth/token/roles/:name``): what ``auth/token/create/:role`` may make.

As in Vault, a role's ``allowed_policies`` (and ``_glob``) replace the usual
rule that a child's policies are a subset of its parent's; without them the
usual rule holds. ``disallowed_policies`` (and ``_glob``) are never granted,
and naming ``default`` there keeps it off the token. A role may make orphans,
periodic tokens (``token_period``) and cap tokens (``token_explicit_max_ttl``)
without the caller holding sudo: writing the role needed that trust already.

Unsupported settings are refused with a 400 that says so, never ignored:
batch tokens, use counts, CIDR binding and entity aliases (this server has no
identity store).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from secretumvault.errors import KeyNotFound
from secretumvault.keystore import Keystore
from secretumvault.server import records
from secretumvault.server.errors import bad_request
from secretumvault.server.params import Params

__all__ = ["TokenRole", "TokenRoles"]

_PREFIX = "sys/token/role/"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_LISTS = ("allowed_policies", "disallowed_policies", "allowed_policies_glob", "disallowed_policies_glob")


@dataclass(frozen=True)
class TokenRole:
    name: str
    allowed_policies: tuple[str, ...] = ()
    disallowed_policies: tuple[str, ...] = ()
    allowed_policies_glob: tuple[str, ...] = ()
    disallowed_policies_glob: tuple[str, ...] = ()
    orphan: bool = False
    renewable: bool = True
    path_suffix: str = ""
    token_period: int = 0
    token_explicit_max_ttl: int = 0
    token_no_default_policy: bool = False
    token_type: str = "default-service"  # noqa: S105 - a token kind, not a secret

    def read_data(self) -> dict[str, Any]:
        """What ``GET auth/token/roles/:name`` shows, with Vault's field names."""
        return {
            "name": self.name,
            "allowed_policies": list(self.allowed_policies),
            "disallowed_policies": list(self.disallowed_policies),
            "allowed_policies_glob": list(self.allowed_policies_glob),
            "disallowed_policies_glob": list(self.disallowed_policies_glob),
            "orphan": self.orphan,
            "renewable": self.renewable,
            "path_suffix": self.path_suffix,
            "allowed_entity_aliases": [],
            "token_bound_cidrs": [],
            "token_period": self.token_period,
            "period": self.token_period,  # the deprecated name, still read by older clients
            "token_explicit_max_ttl": self.token_explicit_max_ttl,
            "explicit_max_ttl": self.token_explicit_max_ttl,
            "token_no_default_policy": self.token_no_default_policy,
            "token_num_uses": 0,
            "token_type": self.token_type,
        }

    def policies(
        self, asked: list[str], parent_policies: tuple[str, ...], parent_is_root: bool
    ) -> tuple[str, ...]:
        """The token's policies, sorted as Vault sorts them; 400 if the role forbids any."""
        with_default = not self.token_no_default_policy and not self._disallows("default")
        if self.allowed_policies or self.allowed_policies_glob:
            names = asked or list(self.allowed_policies)
            refused = [n for n in names if n != "default" and not self._allows(n)]
            if refused:
                raise bad_request(
                    f"token policies ({sorted(set(names))}) must be subset of the role's allowed policies "
                    f"({list(self.allowed_policies)}) or glob policies ({list(self.allowed_policies_glob)})"
                )
        else:
            names = asked or [n for n in parent_policies if n != "default"]
            extra = set(names) - set(parent_policies) - {"default"}
            if extra and not parent_is_root:
                raise bad_request(
                    f"token policies ({sorted(set(names))}) must be subset of the parent token's policies "
                    f"({sorted(parent_policies)})"
                )
        if with_default and "root" not in names:
            names = [*names, "default"]
        for name in names:
            if self._disallows(name):
                raise bad_request(f"token policy {name!r} is disallowed by this role")
        return tuple(sorted(set(names)))

    def _allows(self, name: str) -> bool:
        return name in self.allowed_policies or any(
            fnmatch.fnmatchcase(name, g) for g in self.allowed_policies_glob
        )

    def _disallows(self, name: str) -> bool:
        return name in self.disallowed_policies or any(
            fnmatch.fnmatchcase(name, g) for g in self.disallowed_policies_glob
        )

    def encode(self) -> bytes:
        fields = asdict(self)
        for name in _LISTS:
            fields[name] = list(fields[name])
        return records.dump("token-role", fields)

    @classmethod
    def decode(cls, data: bytes, where: str) -> TokenRole:
        obj = records.load(data, "token-role", where)
        obj.pop("format", None)
        obj.pop("version", None)
        for name in _LISTS:
            obj[name] = tuple(obj.get(name, ()))
        return cls(**obj)


def _policy_list(p: Params, name: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip().lower() for n in p.string_list(name) if n.strip()))
    pattern = re.compile(r"[A-Za-z0-9*][A-Za-z0-9._*-]{0,127}" if name.endswith("_glob") else _NAME.pattern)
    for n in names:
        if not pattern.fullmatch(n):
            raise bad_request(f"{name}: a policy name is 1-128 letters, digits, '.', '_' and '-'")
    return names


def _duration(p: Params, name: str, legacy: str, current: int) -> int:
    """Vault's ``token_*`` field, or its deprecated name; unchanged if neither is given."""
    for key in (name, legacy):
        if p.raw(key) not in (None, ""):
            return p.duration(key, 0)
    return current


class TokenRoles:
    def __init__(self, keystore: Keystore) -> None:
        self._keystore = keystore

    @staticmethod
    def check_name(name: str) -> str:
        if not _NAME.fullmatch(name):
            raise bad_request("a role name is 1-128 letters, digits, '.', '_' and '-'")
        return name

    def get(self, name: str) -> TokenRole | None:
        path = _PREFIX + self.check_name(name)
        try:
            return TokenRole.decode(self._keystore.get(path), path)
        except KeyNotFound:
            return None

    def names(self) -> list[str]:
        return sorted(path[len(_PREFIX) :] for path in self._keystore.list(_PREFIX))

    def delete(self, name: str) -> None:
        try:
            self._keystore.delete(_PREFIX + self.check_name(name))
        except KeyNotFound:
            pass  # Vault: deleting a missing role succeeds

    def write(self, name: str, p: Params) -> TokenRole:
        """Create the role or update the fields given; every field is checked before anything is stored."""
        self._refuse_unsupported(p)
        role = self.get(name) or TokenRole(name=name)
        changes: dict[str, Any] = {}
        for list_name in _LISTS:
            if p.raw(list_name) is not None:
                changes[list_name] = _policy_list(p, list_name)
        for flag in ("orphan", "renewable", "token_no_default_policy"):
            if p.raw(flag) is not None:
                changes[flag] = p.boolean(flag)
        if p.raw("path_suffix") is not None:
            suffix = p.string("path_suffix").strip("/")
            if ".." in suffix or not all(_NAME.fullmatch(part) for part in suffix.split("/") if suffix):
                raise bad_request("path_suffix is segments of letters, digits, '.', '_' and '-'; no '..'")
            changes["path_suffix"] = suffix
        changes["token_period"] = _duration(p, "token_period", "period", role.token_period)
        changes["token_explicit_max_ttl"] = _duration(
            p, "token_explicit_max_ttl", "explicit_max_ttl", role.token_explicit_max_ttl
        )
        kind = p.string("token_type")
        if kind in ("batch", "default-batch"):
            raise bad_request("batch tokens are not supported by this server: token_type must be service")
        if kind not in ("", "service", "default-service", "default"):
            raise bad_request(f"invalid 'token_type' value {kind!r}")
        if kind:
            changes["token_type"] = "default-service" if kind == "default" else kind
        updated = replace(role, **changes)
        self._keystore.put(_PREFIX + self.check_name(name), updated.encode())
        return updated

    @staticmethod
    def _refuse_unsupported(p: Params) -> None:
        if p.string_list("allowed_entity_aliases"):
            raise bad_request("allowed_entity_aliases is not supported by this server (no identity store)")
        for name in ("token_bound_cidrs", "bound_cidrs"):
            if p.string_list(name):
                raise bad_request(f"{name} is not supported by this server")
        if p.integer("token_num_uses", 0) != 0:
            raise bad_request("token_num_uses is not supported by this server")
