"""What AppRole roles and userpass users share: Vault's ``token_*`` settings and the login token.

The settings are Vault's common token fields (``token_policies``, ``token_ttl``,
``token_max_ttl`` ...). Those this server's tokens cannot honour (use counts,
periods, CIDR-bound tokens, batch tokens) are refused with a 400 saying so when
set to anything but their "off" value, never silently dropped.

A login's token is an orphan (Vault: login tokens have no parent) made through
the TokenStore, with the path of the login request recorded in it, and its hash
recorded under the method's storage so disabling the method revokes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from secretumvault.server.auth.table import ISSUED_PREFIX, AuthMethod
from secretumvault.server.errors import HttpError, bad_request
from secretumvault.server.params import Params
from secretumvault.server.routing import Call
from secretumvault.server.state.tokens import MAX_TTL

__all__ = ["NAME", "TokenSettings", "check_name", "issue_token", "token_settings"]

#: A role or user name, as Vault's GenericNameRegex (plus '@' for AppRole); stored lowercased.
NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.@-]{0,126}[A-Za-z0-9_])?")
_POLICY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_name(value: str, what: str) -> str:
    if not NAME.fullmatch(value):
        raise bad_request(f"a {what} is 1-128 letters, digits, '_', '.', '@' and '-'")
    return value.lower()


@dataclass(frozen=True)
class TokenSettings:
    policies: tuple[str, ...] = ()
    ttl: int = 0
    max_ttl: int = 0
    explicit_max_ttl: int = 0
    no_default_policy: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "policies": list(self.policies),
            "ttl": self.ttl,
            "max_ttl": self.max_ttl,
            "explicit_max_ttl": self.explicit_max_ttl,
            "no_default_policy": self.no_default_policy,
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> TokenSettings:
        return cls(
            policies=tuple(obj["policies"]),
            ttl=int(obj["ttl"]),
            max_ttl=int(obj["max_ttl"]),
            explicit_max_ttl=int(obj["explicit_max_ttl"]),
            no_default_policy=bool(obj["no_default_policy"]),
        )

    def describe(self) -> dict[str, Any]:
        """Vault's token fields of a role or user read."""
        return {
            "token_policies": list(self.policies),
            "policies": list(self.policies),
            "token_ttl": self.ttl,
            "token_max_ttl": self.max_ttl,
            "token_explicit_max_ttl": self.explicit_max_ttl,
            "token_no_default_policy": self.no_default_policy,
            "token_num_uses": 0,
            "token_period": 0,
            "token_bound_cidrs": [],
            "token_type": "default",
        }


def policy_list(params: Params, name: str) -> tuple[str, ...]:
    names = params.string_list(name)
    for policy in names:
        if not _POLICY_NAME.fullmatch(policy):
            raise bad_request("a policy name is 1-128 letters, digits, '.', '_' and '-'")
    return tuple(dict.fromkeys(p.lower() for p in names))


def token_settings(params: Params, current: TokenSettings, *, legacy_ttls: bool = False) -> TokenSettings:
    """``current`` with the token fields given in ``params``; 400 for what is not served.

    ``legacy_ttls``: also read ``ttl`` and ``max_ttl``, the names userpass had before Vault 1.2
    (``token_ttl`` and ``token_max_ttl`` win when both are given, as in Vault; hvac still sends them).
    """
    if params.integer("token_num_uses", 0) != 0:
        raise bad_request("token_num_uses is not supported by this server: its tokens have no use count")
    for name in ("token_period", "period"):
        if params.duration(name, 0) != 0:
            raise bad_request(f"{name} is not supported by this server: it has no periodic tokens")
    if params.string_list("token_bound_cidrs"):
        raise bad_request("token_bound_cidrs is not supported by this server: its tokens are not CIDR-bound")
    kind = params.string("token_type")
    if kind in ("batch", "default-batch"):
        raise bad_request("batch tokens are not supported by this server")
    if kind not in ("", "default", "service", "default-service"):
        raise bad_request(f"unsupported token_type {kind!r}")
    changes: dict[str, Any] = {}
    # "policies" is Vault's deprecated name of token_policies; token_policies wins if both are given.
    for name in ("policies", "token_policies"):
        if name in params:
            changes["policies"] = policy_list(params, name)
    for field_name, param in (("ttl", "token_ttl"), ("max_ttl", "token_max_ttl")):
        legacy = param.removeprefix("token_")
        if param in params:
            changes[field_name] = params.duration(param, 0)
        elif legacy_ttls and legacy in params:
            changes[field_name] = params.duration(legacy, 0)
    if "token_explicit_max_ttl" in params:
        changes["explicit_max_ttl"] = params.duration("token_explicit_max_ttl", 0)
    if "token_no_default_policy" in params:
        changes["no_default_policy"] = params.boolean("token_no_default_policy")
    settings = replace(current, **changes)
    for value in (settings.ttl, settings.max_ttl, settings.explicit_max_ttl):
        if value > MAX_TTL:
            raise bad_request(f"token TTLs are at most {MAX_TTL} seconds (32 days)")
    if settings.max_ttl and settings.ttl > settings.max_ttl:
        raise bad_request("token_ttl cannot be greater than token_max_ttl")
    return settings


def issue_token(
    call: Call,
    method: AuthMethod,
    settings: TokenSettings,
    *,
    display_name: str,
    meta: dict[str, str],
) -> dict[str, Any]:
    """A new orphan token for a successful login; Vault's ``auth`` block of the reply."""
    core = call.core
    names = list(settings.policies)
    if not settings.no_default_policy and "default" not in names:
        names.append("default")
    policies = tuple(sorted(names))
    # The most restrictive of the limits that apply, 0 for "none" (then the system's 32 days).
    limits = [t for t in (settings.max_ttl, settings.explicit_max_ttl, method.max_lease_ttl) if t]
    max_ttl = min([*limits, MAX_TTL])
    ttl = min(settings.ttl or method.default_lease_ttl or MAX_TTL, max_ttl)
    token, entry = core.tokens.create(
        policies=policies,
        ttl=ttl,
        renewable=True,
        display_name=display_name[:64],
        parent=None,
        explicit_max_ttl=max_ttl if limits else 0,
        meta=meta,
        path=call.path,
    )
    core.keystore.put(method.storage + ISSUED_PREFIX + entry.hash, b"")
    if not core.auth_methods.current(method):
        # Disabled while this login ran: its walk of the issued tokens may have missed this one.
        core.tokens.revoke(entry)
        raise HttpError(403, "permission denied")
    return {
        "client_token": token,
        "accessor": entry.accessor,
        "policies": list(policies),
        "token_policies": list(policies),
        "metadata": dict(meta),
        "lease_duration": ttl,
        "renewable": True,
        "entity_id": "",
        "token_type": "service",
        "orphan": True,
        "num_uses": 0,
    }
