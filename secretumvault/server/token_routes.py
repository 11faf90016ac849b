"""``auth/token/``: create, lookup, renew and revoke tokens.

A token can only make child tokens with a subset of its own policies (the
root token excepted), and revoking a token revokes its children.
"""

from __future__ import annotations

import re
from typing import Any

from secretumvault.server.envelope import Reply
from secretumvault.server.errors import HttpError, bad_request, permission_denied
from secretumvault.server.routing import Call, Router
from secretumvault.server.tokens import MAX_TTL, TokenEntry

__all__ = ["router"]

_POLICY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _auth(token: str | None, entry: TokenEntry, now: int) -> dict[str, Any]:
    policies = list(entry.policies)
    return {
        "client_token": token or "",
        "accessor": entry.accessor,
        "policies": policies,
        "token_policies": policies,
        "metadata": entry.meta or None,
        "lease_duration": 0 if entry.expire_time is None else max(0, entry.expire_time - now),
        "renewable": entry.renewable,
        "entity_id": "",
        "token_type": "service",
        "orphan": entry.parent is None,
        "num_uses": 0,
    }


def _requested_policies(call: Call, parent: TokenEntry) -> tuple[str, ...]:
    p = call.params
    asked = p.string_list("policies")
    for name in asked:
        if not _POLICY_NAME.fullmatch(name):
            raise bad_request("a policy name is 1-128 letters, digits, '.', '_' and '-'")
    names = [name.lower() for name in asked] or [n for n in parent.policies if n != "default"]
    if not p.boolean("no_default_policy") and "root" not in names and "default" not in names:
        names.append("default")
    if not parent.is_root:
        extra = set(names) - set(parent.policies) - {"default"}
        if extra:
            raise HttpError(403, "child policies must be subset of parent")
    return tuple(dict.fromkeys(names))


def create(call: Call) -> Reply:
    p = call.params
    parent = call.token
    assert parent is not None
    # An empty or zero value means "the default", as in Vault: HashiCorp's Go client always
    # sends type, display_name, num_uses and entity_alias, empty when the caller set nothing.
    num_uses = p.integer("num_uses", 0)
    if num_uses < 0:
        raise bad_request("number of uses cannot be negative")
    if num_uses != 0 or p.duration("period", 0) != 0:
        raise bad_request("num_uses and period are not supported by this server")
    kind = p.string("type")
    if kind == "batch":
        raise bad_request("batch tokens are not supported by this server")
    if kind not in ("", "service"):
        raise bad_request("invalid 'token_type' value")
    if p.string("entity_alias"):
        raise bad_request("'entity_alias' is only allowed in combination with token role")
    policies = _requested_policies(call, parent)
    orphan_path = call.path == "auth/token/create-orphan"  # that route needs sudo
    orphan = orphan_path or p.boolean("no_parent")
    token_id = p.string("id") or None
    if ((orphan and not orphan_path) or token_id is not None) and not parent.is_root:
        raise permission_denied()  # Vault: only root (or sudo) makes orphans or chooses ids
    # "lease" is the deprecated name of "ttl", still sent by older clients.
    ttl_name = "ttl" if p.raw("ttl") not in (None, "") else "lease"
    ttl = p.duration(ttl_name, 0 if "root" in policies else MAX_TTL)
    explicit_max_ttl = p.duration("explicit_max_ttl", 0)
    if ttl > MAX_TTL or explicit_max_ttl > MAX_TTL:
        raise bad_request(f"ttl and explicit_max_ttl are at most {MAX_TTL} seconds (32 days)")
    if explicit_max_ttl and ttl > explicit_max_ttl:
        ttl = explicit_max_ttl
    if ttl == 0 and "root" not in policies:
        ttl = MAX_TTL
    if ttl == 0 and parent.expire_time is not None:
        # Vault's rule: a token that expires cannot outlive itself through a root child.
        raise bad_request("expiring root tokens cannot create non-expiring root tokens")
    meta = p.mapping("meta")
    if not all(isinstance(v, str) for v in meta.values()):
        raise bad_request("meta must map names to strings")
    display_name = p.string("display_name")[:64]
    token, entry = call.core.tokens.create(
        policies=policies,
        ttl=ttl,
        renewable=p.boolean("renewable", True) and ttl != 0,
        display_name=f"token-{display_name}" if display_name else "token",
        parent=None if orphan else parent,
        explicit_max_ttl=explicit_max_ttl,
        meta=dict(meta),
        token_id=token_id,
    )
    return Reply(auth=_auth(token, entry, call.core.tokens.now()))


def lookup_self(call: Call) -> Reply:
    assert call.token is not None
    return Reply(data=call.token.lookup_data(call.core.tokens.now(), call.token_id))


def lookup(call: Call) -> Reply:
    token = call.params.string("token", required=True)
    entry = call.core.tokens.lookup(token)
    if entry is None:
        raise bad_request("bad token")
    return Reply(data=entry.lookup_data(call.core.tokens.now(), token))


def renew_self(call: Call) -> Reply:
    assert call.token is not None
    renewed = call.core.tokens.renew(call.token, call.params.optional_duration("increment"))
    return Reply(auth=_auth(call.token_id, renewed, call.core.tokens.now()))


def renew(call: Call) -> Reply:
    token = call.params.string("token", required=True)
    entry = call.core.tokens.lookup(token)
    if entry is None:
        raise bad_request("bad token")
    renewed = call.core.tokens.renew(entry, call.params.optional_duration("increment"))
    return Reply(auth=_auth(token, renewed, call.core.tokens.now()))


def revoke_self(call: Call) -> Reply:
    assert call.token is not None
    call.core.tokens.revoke(call.token)
    return Reply()


def revoke(call: Call) -> Reply:
    entry = call.core.tokens.lookup(call.params.string("token", required=True))
    if entry is not None:  # Vault: revoking an unknown token succeeds
        call.core.tokens.revoke(entry)
    return Reply()


router = Router()
router.add("auth/token/create", {"update": create})
router.add("auth/token/create-orphan", {"update": create}, sudo=True)
router.add("auth/token/lookup-self", {"read": lookup_self, "update": lookup_self}, inline=True)
router.add("auth/token/lookup", {"update": lookup})
router.add("auth/token/renew-self", {"update": renew_self})
router.add("auth/token/renew", {"update": renew})
router.add("auth/token/revoke-self", {"update": revoke_self})
router.add("auth/token/revoke", {"update": revoke})
