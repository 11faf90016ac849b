"""Response wrapping: Vault's ``X-Vault-Wrap-TTL`` and ``sys/wrapping/*``.

A request with ``X-Vault-Wrap-TTL`` gets, instead of its response, a
``wrap_info`` whose ``token`` is a single-use wrapping token: a real token
(policy ``response-wrapping``, no parent, expiring after the TTL) whose
response is kept under the keystore's encryption at
``sys/wrapping/<token hash>``. Unwrapping deletes that record with a
compare-and-set, so of two concurrent unwraps exactly one gets the response,
then revokes the token. The wrapping token itself is the authority to
unwrap, look up or rewrap: the routes need no other token, as Vault's lookup
needs none.

The response is stored before its token exists, so a token never lacks its
response; what a crash leaves (a response whose token never came, or
expired) is removed by ``auth/token/tidy``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from secretumvault.errors import ConflictError, KeyNotFound
from secretumvault.server import records
from secretumvault.server.envelope import Reply
from secretumvault.server.errors import bad_request
from secretumvault.server.params import parse_duration
from secretumvault.server.tokens import MAX_TTL, TokenEntry, new_token_id, token_hash

if TYPE_CHECKING:
    from secretumvault.server.core import ServerCore
    from secretumvault.server.routing import Call

__all__ = ["WRAPPING_POLICY", "parse_wrap_ttl", "tidy", "wrap"]

WRAPPING_POLICY = "response-wrapping"
_PREFIX = "sys/wrapping/"
_INVALID = "wrapping token is not valid or does not exist"
#: A response whose token is gone is removed only once it is older than a wrap can take.
_STALE_SECONDS = 60


def parse_wrap_ttl(header: str | None) -> int | None:
    """The ``X-Vault-Wrap-TTL`` header in seconds (None if absent); 400 if it is not a usable TTL."""
    if header is None or header == "":
        return None
    ttl = parse_duration(header, "X-Vault-Wrap-TTL")
    if not 1 <= ttl <= MAX_TTL:
        raise bad_request(f"X-Vault-Wrap-TTL must be from 1 second to {MAX_TTL} seconds (32 days)")
    return ttl


def wrap(core: ServerCore, reply: Reply, ttl: int, creation_path: str) -> Reply:
    """``reply`` stored under a new wrapping token; the answer carrying its ``wrap_info``."""
    if reply.body is not None or reply.empty or reply.status != 200:
        return reply  # nothing a client reads as a response (a PEM file, a 204): as it is
    now = core.tokens.now()
    response = {"data": reply.data, "auth": reply.auth, "warnings": reply.warnings or None}
    return _store_and_reply(core, response, ttl, creation_path, now)


def _store_and_reply(core: ServerCore, response: dict[str, Any], ttl: int, path: str, now: int) -> Reply:
    token = new_token_id()
    record = {"response": response, "creation_path": path, "created": now}
    core.keystore.cas(_PREFIX + token_hash(token), None, records.dump("wrapped-response", record))
    token, entry = core.tokens.create(
        policies=(WRAPPING_POLICY,),
        ttl=ttl,
        renewable=False,
        display_name="response-wrapping",
        parent=None,
        path=path,
        token_id=token,
    )
    info: dict[str, Any] = {
        "token": token,
        "accessor": entry.accessor,
        "ttl": ttl,
        "creation_time": _rfc3339(entry.creation_time),
        "creation_path": path,
    }
    auth = response.get("auth")
    if isinstance(auth, dict) and auth.get("accessor"):
        info["wrapped_accessor"] = auth["accessor"]
    return Reply(wrap_info=info)


def _wrapping_entry(call: Call) -> tuple[str, TokenEntry]:
    """The wrapping token given (the ``token`` parameter, else the request's token) and its entry."""
    token = call.params.string("token") or call.token_id or ""
    entry = call.core.tokens.lookup(token) if token else None
    if entry is None or entry.policies != (WRAPPING_POLICY,):
        if token:
            _forget(call.core, token_hash(token))
        raise bad_request(_INVALID)
    return token, entry


def _take(call: Call) -> tuple[TokenEntry, dict[str, Any]]:
    """Consume the wrapping token: its response, once (the record is deleted by compare-and-set)."""
    _, entry = _wrapping_entry(call)
    path = _PREFIX + entry.hash
    try:
        stored = call.core.keystore.get_entry(path)
        call.core.keystore.delete(path, expected_version=stored.version)
    except (KeyNotFound, ConflictError):
        raise bad_request(_INVALID) from None  # another request unwrapped it first
    call.core.tokens.revoke(entry)
    return entry, records.load(stored.value, "wrapped-response", "wrapped response")


def unwrap(call: Call) -> Reply:
    _, stored = _take(call)
    response = stored["response"]
    warnings = list(response.get("warnings") or [])
    return Reply(data=response.get("data"), auth=response.get("auth"), warnings=warnings)


def lookup(call: Call) -> Reply:
    _, entry = _wrapping_entry(call)
    return Reply(
        data={
            "creation_path": entry.path,
            "creation_time": _rfc3339(entry.creation_time),
            "creation_ttl": entry.ttl,
        }
    )


def rewrap(call: Call) -> Reply:
    """The same response under a new wrapping token with the same TTL; the old token is spent."""
    entry, stored = _take(call)
    now = call.core.tokens.now()
    return _store_and_reply(call.core, stored["response"], entry.ttl, str(stored["creation_path"]), now)


def wrap_data(call: Call) -> Reply:
    """``sys/wrapping/wrap``: the request's own parameters, wrapped by the header's TTL."""
    if call.wrap_ttl is None:
        raise bad_request("sys/wrapping/wrap needs the X-Vault-Wrap-TTL header")
    data = call.params.as_dict()
    for name in data:
        call.params.raw(name)  # every parameter is the payload: none is "unused"
    return Reply(data=data)  # an empty payload too: hvac's wrap() sends none by default


def tidy(core: ServerCore) -> int:
    """Remove responses whose wrapping token is gone (expired, or never made); how many."""
    removed = 0
    now = core.tokens.now()
    for path in core.keystore.list(_PREFIX):
        hashed = path[len(_PREFIX) :]
        if core.tokens.lookup_hash(hashed) is not None:
            continue
        try:
            stored = records.load(core.keystore.get(path), "wrapped-response", "wrapped response")
        except KeyNotFound:
            continue
        if now - int(stored["created"]) >= _STALE_SECONDS:
            removed += _forget(core, hashed)
    return removed


def _forget(core: ServerCore, hashed: str) -> int:
    """Delete the response of a wrapping token that is gone: nobody can unwrap it any more."""
    if core.tokens.lookup_hash(hashed) is not None:
        return 0
    try:
        core.keystore.delete(_PREFIX + hashed)
    except KeyNotFound:
        return 0
    return 1


def _rfc3339(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
