"""``auth/token/``: create (directly or through a role), lookup, renew and revoke tokens,
by token or by accessor; token roles; tidy.

A token can only make child tokens with a subset of its own policies (the
root token excepted, and a role's ``allowed_policies`` replace the rule), and
revoking a token revokes its children (``revoke-orphan`` excepted). As in
Vault, only root or sudo may make orphans or periodic tokens without a role.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from secretumvault.server import auth
from secretumvault.server.envelope import Reply, list_reply
from secretumvault.server.errors import HttpError, bad_request, not_found, permission_denied
from secretumvault.server.routing import Call, Router, name_pattern
from secretumvault.server.state import wrapping
from secretumvault.server.state.token_roles import TokenRole, TokenRoles
from secretumvault.server.state.tokens import MAX_TTL, TokenEntry

__all__ = ["router"]

_POLICY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _auth(token: str | None, entry: TokenEntry) -> dict[str, Any]:
    policies = list(entry.policies)
    return {
        "client_token": token or "",
        "accessor": entry.accessor,
        "policies": policies,
        "token_policies": policies,
        "metadata": entry.meta or None,
        "lease_duration": entry.granted,  # as Vault: what was granted, not what is left
        "renewable": entry.renewable,
        "entity_id": "",
        "token_type": "service",
        "orphan": entry.parent is None,
        "num_uses": 0,
    }


def _asked_policies(call: Call) -> list[str]:
    asked = call.params.string_list("policies")
    for name in asked:
        if not _POLICY_NAME.fullmatch(name):
            raise bad_request("a policy name is 1-128 letters, digits, '.', '_' and '-'")
    return [name.lower() for name in asked]


def _requested_policies(call: Call, parent: TokenEntry, role: TokenRole | None) -> tuple[str, ...]:
    p = call.params
    asked = _asked_policies(call)
    if role is not None:
        if p.boolean("no_default_policy"):
            role = replace(role, token_no_default_policy=True)
        return role.policies(asked, parent.policies, parent.is_root)
    names = asked or [n for n in parent.policies if n != "default"]
    if not p.boolean("no_default_policy") and "root" not in names and "default" not in names:
        names.append("default")
    if not parent.is_root:
        extra = set(names) - set(parent.policies) - {"default"}
        if extra:
            raise HttpError(403, "child policies must be subset of parent")
    return tuple(dict.fromkeys(names))


def _has_sudo(call: Call, entry: TokenEntry) -> bool:
    return entry.is_root or call.core.acl(entry).allows(call.path, "update", sudo=True)


def _roles(call: Call) -> TokenRoles:
    return TokenRoles(call.core.keystore)


def create(call: Call) -> Reply:
    p = call.params
    parent = call.token
    assert parent is not None
    role: TokenRole | None = None
    if "role_name" in call.groups:
        role = _roles(call).get(call.group("role_name"))
        if role is None:
            raise bad_request("unknown role")
    # An empty or zero value means "the default", as in Vault: HashiCorp's Go client always
    # sends type, display_name, num_uses and entity_alias, empty when the caller set nothing.
    num_uses = p.integer("num_uses", 0)
    if num_uses < 0:
        raise bad_request("number of uses cannot be negative")
    if num_uses != 0:
        raise bad_request("num_uses is not supported by this server")
    kind = p.string("type")
    if kind == "batch":
        raise bad_request("batch tokens are not supported by this server")
    if kind not in ("", "service"):
        raise bad_request("invalid 'token_type' value")
    if p.string("entity_alias"):
        if role is None:
            raise bad_request("'entity_alias' is only allowed in combination with token role")
        raise bad_request("entity aliases are not supported by this server (it has no identity store)")
    policies = _requested_policies(call, parent, role)
    orphan_path = call.path == "auth/token/create-orphan"  # that route needs sudo
    orphan = orphan_path or (role.orphan if role is not None else p.boolean("no_parent"))
    token_id = p.string("id") or None
    chosen = (orphan and not orphan_path and role is None) or token_id is not None
    if chosen and not _has_sudo(call, parent):
        raise permission_denied()  # Vault: only root or sudo makes orphans or chooses ids
    # A role's period needs no sudo (writing the role did); asking for one directly does.
    period = p.duration("period", 0)
    if period and role is None and not _has_sudo(call, parent):
        raise bad_request("root or sudo privileges required to create periodic token")
    if role is not None and role.token_period:
        period = role.token_period
    # "lease" is the deprecated name of "ttl", still sent by older clients.
    ttl_name = "ttl" if p.raw("ttl") not in (None, "") else "lease"
    ttl = p.duration(ttl_name, 0 if "root" in policies else MAX_TTL)
    explicit_max_ttl = p.duration("explicit_max_ttl", 0)
    if role is not None and role.token_explicit_max_ttl:
        explicit_max_ttl = min(filter(None, (explicit_max_ttl, role.token_explicit_max_ttl)))
    if ttl > MAX_TTL or explicit_max_ttl > MAX_TTL or period > MAX_TTL:
        raise bad_request(f"ttl, period and explicit_max_ttl are at most {MAX_TTL} seconds (32 days)")
    if period:
        ttl = period  # a periodic token lives one period at a time
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
    renewable = p.boolean("renewable", True) and ttl != 0 and (role is None or role.renewable)
    path = call.path
    if role is not None and role.path_suffix:
        path = f"{path}/{role.path_suffix}"
    token, entry = call.core.tokens.create(
        policies=policies,
        ttl=ttl,
        renewable=renewable,
        display_name=f"token-{display_name}" if display_name else "token",
        parent=None if orphan else parent,
        explicit_max_ttl=explicit_max_ttl,
        meta=dict(meta),
        token_id=token_id,
        period=period,
        role="" if role is None else role.name,
        path=path,
    )
    return Reply(auth=_auth(token, entry))


def lookup_self(call: Call) -> Reply:
    assert call.token is not None
    return Reply(data=call.token.lookup_data(call.core.tokens.now(), call.token_id))


def lookup(call: Call) -> Reply:
    # As Vault: no token given looks up the caller's own; an unknown one is a 403 "bad token".
    token = call.params.string("token") or call.token_id or ""
    entry = call.core.tokens.lookup(token)
    if entry is None:
        raise HttpError(403, "bad token")
    return Reply(data=entry.lookup_data(call.core.tokens.now(), token))


def renew_self(call: Call) -> Reply:
    assert call.token is not None
    increment = auth.renewal_increment(call.core, call.token, call.params.optional_duration("increment"))
    renewed = call.core.tokens.renew(call.token, increment)
    return Reply(auth=_auth(call.token_id, renewed))


def renew(call: Call) -> Reply:
    token = call.params.string("token", required=True)
    entry = call.core.tokens.lookup(token)
    if entry is None:
        raise bad_request("token not found")  # Vault's words
    increment = auth.renewal_increment(call.core, entry, call.params.optional_duration("increment"))
    renewed = call.core.tokens.renew(entry, increment)
    return Reply(auth=_auth(token, renewed))


def revoke_self(call: Call) -> Reply:
    assert call.token is not None
    call.core.tokens.revoke(call.token)
    return Reply()


def revoke(call: Call) -> Reply:
    entry = call.core.tokens.lookup(call.params.string("token", required=True))
    if entry is not None:  # Vault: revoking an unknown token succeeds
        call.core.tokens.revoke(entry)
    return Reply()


def revoke_orphan(call: Call) -> Reply:
    entry = call.core.tokens.lookup(call.params.string("token", required=True))
    if entry is None:
        raise bad_request("token to revoke not found")  # Vault's answer, unlike revoke's
    call.core.tokens.revoke_orphan(entry)
    return Reply()


# -- by accessor ---------------------------------------------------------------------------------


def _accessor(call: Call) -> str:
    """The accessor from the body or, as Vault before 1.0 took it, from the URL
    (``lookup-accessor/<accessor>``): old clients still send that form."""
    in_url = call.groups.get("url_accessor")
    if in_url is None:
        return call.params.string("accessor", required=True)
    in_body = call.params.string("accessor")
    if in_body and in_body != in_url:
        raise bad_request("the accessor in the URL and the one in the body differ")
    return in_url


def _by_accessor(call: Call) -> TokenEntry:
    entry = call.core.tokens.lookup_accessor(_accessor(call))
    if entry is None:
        raise bad_request("invalid accessor")
    return entry


def lookup_accessor(call: Call) -> Reply:
    return Reply(data=_by_accessor(call).lookup_data(call.core.tokens.now()))


def renew_accessor(call: Call) -> Reply:
    entry = _by_accessor(call)
    increment = auth.renewal_increment(call.core, entry, call.params.optional_duration("increment"))
    renewed = call.core.tokens.renew(entry, increment)
    return Reply(auth=_auth(None, renewed))


def revoke_accessor(call: Call) -> Reply:
    call.core.tokens.revoke(_by_accessor(call))
    return Reply()


def list_accessors(call: Call) -> Reply:
    return list_reply(call.core.tokens.accessors())


def tidy(call: Call) -> Reply:
    done = call.core.tokens.tidy()
    done["wrapped_responses_removed"] = wrapping.tidy(call.core)
    # Vault answers 202 and tidies in the background; this tidy has finished when it answers.
    return Reply(data={"tidied": done}, status=202, warnings=["Tidy operation successfully completed."])


# -- roles ---------------------------------------------------------------------------------------


def list_roles(call: Call) -> Reply:
    return list_reply(_roles(call).names())


def read_role(call: Call) -> Reply:
    role = _roles(call).get(call.group("role_name"))
    if role is None:
        raise not_found()
    return Reply(data=role.read_data())


def write_role(call: Call) -> Reply:
    _roles(call).write(call.group("role_name"), call.params)
    return Reply()


def delete_role(call: Call) -> Reply:
    _roles(call).delete(call.group("role_name"))
    return Reply()


router = Router()
router.add("auth/token/create", {"update": create})
router.add("auth/token/create-orphan", {"update": create}, sudo=True)
router.add("auth/token/lookup-self", {"read": lookup_self, "update": lookup_self}, inline=True)
router.add("auth/token/lookup", {"read": lookup, "update": lookup})
router.add("auth/token/renew-self", {"update": renew_self})
router.add("auth/token/renew", {"update": renew})
router.add("auth/token/revoke-self", {"update": revoke_self})
router.add("auth/token/revoke", {"update": revoke})
router.add("auth/token/revoke-orphan", {"update": revoke_orphan}, sudo=True)
# Vault before 1.0 also took the accessor in the URL; tokens are never taken there (URLs get logged).
_URL_ACCESSOR = "(?:/" + name_pattern("url_accessor") + ")?"
router.add("auth/token/lookup-accessor" + _URL_ACCESSOR, {"update": lookup_accessor})
router.add("auth/token/renew-accessor", {"update": renew_accessor})
router.add("auth/token/revoke-accessor" + _URL_ACCESSOR, {"update": revoke_accessor})
router.add("auth/token/accessors/?", {"list": list_accessors}, sudo=True)
router.add("auth/token/tidy", {"update": tidy})
router.add("auth/token/roles/?", {"list": list_roles})
router.add(
    "auth/token/roles/" + name_pattern("role_name"),
    {"read": read_role, "update": write_role, "delete": delete_role},
)
router.add("auth/token/create/" + name_pattern("role_name"), {"update": create})
