"""The AppRole auth method: roles, their role IDs and secret IDs, and login with both.

Secret IDs are stored only as HMAC-SHA256 under a random per-method key (a
secret ID is 122 random bits, but the key keeps a stolen store from confirming
a guessed one offline), and compared in constant time. A secret ID's use count
is consumed by compare-and-set on its record (the last use deletes it with an
expected version), so under any concurrency a secret ID with N uses logs in at
most N times. CIDR bindings are checked against the client's address.

Layout under the method's storage prefix::

    hmac-key                         32 random bytes (made with the first role)
    role/<name>                      a role (its role ID in clear: Vault shows it to readers)
    role-id/<hmac of role ID>        the role's name: login finds the role by its ID
    secret-id/<name>/<hmac>          a secret ID's record
    accessor/<name>/<accessor>       the hmac of that accessor's secret ID
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from secretumvault.errors import ConflictError, KeyNotFound
from secretumvault.server.auth.login import (
    TokenSettings,
    check_name,
    issue_token,
    policy_list,
    token_settings,
)
from secretumvault.server.auth.table import AuthMethod
from secretumvault.server.envelope import Reply, list_reply
from secretumvault.server.errors import HttpError, bad_request, not_found, unsupported_operation
from secretumvault.server.params import Params
from secretumvault.server.routing import Call, Router, name_pattern
from secretumvault.server.state import records
from secretumvault.server.state.tokens import MAX_TTL

if TYPE_CHECKING:
    from secretumvault.keystore import Keystore
    from secretumvault.server.state.tokens import TokenEntry

__all__ = ["check_renewal", "router"]

_INVALID = "invalid role or secret ID"
_MAX_ID = 512
_ATTEMPTS = 16
_NO_TIME = "0001-01-01T00:00:00Z"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)) if epoch else _NO_TIME


def _cidrs(params: Params, name: str) -> tuple[str, ...]:
    result = []
    for text in params.string_list(name):
        try:
            result.append(str(ipaddress.ip_network(text, strict=False)))
        except ValueError:
            raise bad_request(f"{name}: {text!r} is not a CIDR block or IP address") from None
    return tuple(result)


def _allowed(address: str, cidrs: tuple[str, ...]) -> bool:
    """Whether ``address`` is in one of ``cidrs`` (no binding: always)."""
    if not cidrs:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(cidr) for cidr in cidrs)


@dataclass(frozen=True)
class _Role:
    role_id: str
    bind_secret_id: bool
    secret_id_bound_cidrs: tuple[str, ...]
    secret_id_num_uses: int
    secret_id_ttl: int
    token: TokenSettings

    def encode(self) -> bytes:
        return records.dump(
            "approle.role",
            {
                "role_id": self.role_id,
                "bind_secret_id": self.bind_secret_id,
                "secret_id_bound_cidrs": list(self.secret_id_bound_cidrs),
                "secret_id_num_uses": self.secret_id_num_uses,
                "secret_id_ttl": self.secret_id_ttl,
                "token": self.token.to_dict(),
            },
        )

    @classmethod
    def decode(cls, raw: bytes) -> _Role:
        obj = records.load(raw, "approle.role", "approle role")
        return cls(
            role_id=str(obj["role_id"]),
            bind_secret_id=bool(obj["bind_secret_id"]),
            secret_id_bound_cidrs=tuple(obj["secret_id_bound_cidrs"]),
            secret_id_num_uses=int(obj["secret_id_num_uses"]),
            secret_id_ttl=int(obj["secret_id_ttl"]),
            token=TokenSettings.from_dict(obj["token"]),
        )

    def describe(self) -> dict[str, Any]:
        return {
            "bind_secret_id": self.bind_secret_id,
            "local_secret_ids": False,
            "secret_id_bound_cidrs": list(self.secret_id_bound_cidrs),
            "secret_id_num_uses": self.secret_id_num_uses,
            "secret_id_ttl": self.secret_id_ttl,
            **self.token.describe(),
        }


@dataclass(frozen=True)
class _SecretId:
    hmac: str
    accessor: str
    metadata: dict[str, str]
    cidr_list: tuple[str, ...]
    creation_time: int
    expiration_time: int  # 0: never
    num_uses: int  # uses left; 0: unlimited
    ttl: int

    def encode(self) -> bytes:
        return records.dump(
            "approle.secret_id",
            {
                "hmac": self.hmac,
                "accessor": self.accessor,
                "metadata": self.metadata,
                "cidr_list": list(self.cidr_list),
                "creation_time": self.creation_time,
                "expiration_time": self.expiration_time,
                "num_uses": self.num_uses,
                "ttl": self.ttl,
            },
        )

    @classmethod
    def decode(cls, raw: bytes) -> _SecretId:
        obj = records.load(raw, "approle.secret_id", "approle secret ID")
        return cls(
            hmac=str(obj["hmac"]),
            accessor=str(obj["accessor"]),
            metadata=dict(obj["metadata"]),
            cidr_list=tuple(obj["cidr_list"]),
            creation_time=int(obj["creation_time"]),
            expiration_time=int(obj["expiration_time"]),
            num_uses=int(obj["num_uses"]),
            ttl=int(obj["ttl"]),
        )

    def expired(self, now: int) -> bool:
        return self.expiration_time != 0 and self.expiration_time <= now

    def describe(self) -> dict[str, Any]:
        return {
            "secret_id_accessor": self.accessor,
            "metadata": dict(self.metadata),
            "cidr_list": list(self.cidr_list),
            "token_bound_cidrs": [],
            "creation_time": _iso(self.creation_time),
            "last_updated_time": _iso(self.creation_time),
            "expiration_time": _iso(self.expiration_time),
            "secret_id_num_uses": self.num_uses,
            "secret_id_ttl": self.ttl,
        }


class _AppRole:
    """One request's view of one AppRole method's storage."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.keystore = call.core.keystore
        method: AuthMethod = call.engine
        self.method = method
        self.prefix = method.storage

    def key(self, *, create: bool) -> bytes | None:
        path = self.prefix + "hmac-key"
        try:
            return self.keystore.get(path)
        except KeyNotFound:
            if not create:
                return None
        try:
            self.keystore.cas(path, None, secrets.token_bytes(32))
        except ConflictError:
            pass  # made by a concurrent request: use that one
        return self.keystore.get(path)

    @staticmethod
    def mac(key: bytes, kind: str, value: str) -> str:
        return hmac.new(key, f"{kind}\x00{value}".encode(), "sha256").hexdigest()

    def role_path(self, name: str) -> str:
        return f"{self.prefix}role/{name}"

    def load_role(self, name: str) -> tuple[_Role, int] | None:
        try:
            stored = self.keystore.get_entry(self.role_path(name))
        except KeyNotFound:
            return None
        return _Role.decode(stored.value), stored.version

    def role(self, name: str) -> _Role:
        found = self.load_role(name)
        if found is None:
            raise bad_request(f"role {name!r} does not exist")
        return found[0]

    def secret_path(self, name: str, hashed: str) -> str:
        return f"{self.prefix}secret-id/{name}/{hashed}"

    def accessor_path(self, name: str, accessor: str) -> str:
        return f"{self.prefix}accessor/{name}/{accessor}"

    def delete(self, path: str, version: int | None = None) -> None:
        try:
            self.keystore.delete(path, expected_version=version)
        except KeyNotFound:
            pass


def _role_name(call: Call) -> str:
    return check_name(call.group("role"), "role name")


def _check_id(value: str, name: str) -> str:
    if not value:
        raise bad_request(f"missing {name}")
    if len(value) > _MAX_ID or not value.isprintable():
        raise bad_request(f"{name} must be 1 to {_MAX_ID} printable characters")
    return value


# -- roles ----------------------------------------------------------------------------------------


def write_role(call: Call) -> Reply:
    app, p, name = _AppRole(call), call.params, _role_name(call)
    found = app.load_role(name)
    current = found[0] if found is not None else _Role(str(uuid.uuid4()), True, (), 0, 0, TokenSettings())
    settings = token_settings(p, current.token)
    changes: dict[str, Any] = {"token": settings}
    if "bind_secret_id" in p:
        changes["bind_secret_id"] = p.boolean("bind_secret_id")
    # "bound_cidr_list" is Vault's deprecated name of secret_id_bound_cidrs.
    for cidr_name in ("bound_cidr_list", "secret_id_bound_cidrs"):
        if cidr_name in p:
            changes["secret_id_bound_cidrs"] = _cidrs(p, cidr_name)
    if "secret_id_num_uses" in p:
        changes["secret_id_num_uses"] = p.integer("secret_id_num_uses", minimum=0)
    if "secret_id_ttl" in p:
        changes["secret_id_ttl"] = p.duration("secret_id_ttl")
    if p.boolean("local_secret_ids"):
        raise bad_request("local_secret_ids is not supported by this server: it has no replication")
    if "role_id" in p:
        changes["role_id"] = _check_id(p.string("role_id"), "role_id")
    role = replace(current, **changes)
    if not role.bind_secret_id and not role.secret_id_bound_cidrs:
        raise bad_request("at least one constraint should be enabled on the role")
    _store_role(app, name, role, found)
    return Reply()


def _store_role(app: _AppRole, name: str, role: _Role, found: tuple[_Role, int] | None) -> None:
    """Write the role and its role-ID index; on a refusal nothing is left changed."""
    key = app.key(create=True)
    assert key is not None
    old_id = None if found is None else found[0].role_id
    index = f"{app.prefix}role-id/{app.mac(key, 'role-id', role.role_id)}"
    if role.role_id != old_id:
        try:
            app.keystore.cas(index, None, name.encode())
        except ConflictError:
            raise bad_request("role_id already in use") from None
    try:
        app.keystore.cas(app.role_path(name), None if found is None else found[1], role.encode())
    except ConflictError:
        if role.role_id != old_id:
            app.delete(index)
        raise bad_request("the role changed while this request ran; try again") from None
    if old_id is not None and role.role_id != old_id:
        app.delete(f"{app.prefix}role-id/{app.mac(key, 'role-id', old_id)}")


def read_role(call: Call) -> Reply:
    found = _AppRole(call).load_role(_role_name(call))
    if found is None:
        raise not_found()
    return Reply(data=found[0].describe())


def delete_role(call: Call) -> Reply:
    app, name = _AppRole(call), _role_name(call)
    found = app.load_role(name)
    if found is None:
        return Reply()
    app.delete(app.role_path(name))
    key = app.key(create=False)
    if key is not None:
        app.delete(f"{app.prefix}role-id/{app.mac(key, 'role-id', found[0].role_id)}")
    for prefix in (f"{app.prefix}secret-id/{name}/", f"{app.prefix}accessor/{name}/"):
        for path in app.keystore.list(prefix):
            app.delete(path)
    return Reply()


def list_roles(call: Call) -> Reply:
    prefix = _AppRole(call).prefix + "role/"
    return list_reply(sorted(path[len(prefix) :] for path in call.core.keystore.list(prefix)))


def read_role_id(call: Call) -> Reply:
    found = _AppRole(call).load_role(_role_name(call))
    if found is None:
        raise not_found()
    return Reply(data={"role_id": found[0].role_id})


def write_role_id(call: Call) -> Reply:
    app, name = _AppRole(call), _role_name(call)
    found = app.load_role(name)
    if found is None:
        raise bad_request(f"role {name!r} does not exist")
    role_id = _check_id(call.params.string("role_id"), "role_id")
    _store_role(app, name, replace(found[0], role_id=role_id), found)
    return Reply()


# -- secret IDs -----------------------------------------------------------------------------------


def _metadata(params: Params) -> dict[str, str]:
    value = params.raw("metadata")
    if value is None or value == "":
        return {}
    if isinstance(value, str):  # Vault's form (hvac sends it): a JSON object in a string
        try:
            value = json.loads(value)
        except ValueError:
            raise bad_request("failed to parse metadata: not a JSON object") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad_request("metadata must be a JSON object mapping names to strings")
    return dict(value)


def _new_secret_id(call: Call, secret_id: str) -> Reply:
    app, p, name = _AppRole(call), call.params, _role_name(call)
    role = app.role(name)
    if not role.bind_secret_id:
        raise bad_request("bind_secret_id is not set on the role")
    metadata = _metadata(p)
    cidr_list = _cidrs(p, "cidr_list")
    if p.string_list("token_bound_cidrs"):
        raise bad_request("token_bound_cidrs is not supported by this server: its tokens are not CIDR-bound")
    for cidr in cidr_list:
        network = ipaddress.ip_network(cidr)
        if role.secret_id_bound_cidrs and not any(
            network.version == ipaddress.ip_network(bound).version
            and network.subnet_of(ipaddress.ip_network(bound))  # type: ignore[arg-type]
            for bound in role.secret_id_bound_cidrs
        ):
            raise bad_request("failed to verify the CIDR restrictions set on the secret ID and the role")
    # Not given: the role's limits. Given: within them, where 0 (unlimited) exceeds any limit,
    # as Vault refuses it rather than override the role.
    num_uses = p.integer("num_uses", minimum=0) if "num_uses" in p else role.secret_id_num_uses
    if role.secret_id_num_uses and (num_uses == 0 or num_uses > role.secret_id_num_uses):
        raise bad_request("num_uses cannot be higher than the role's secret_id_num_uses")
    ttl = p.duration("ttl") if "ttl" in p else role.secret_id_ttl
    if role.secret_id_ttl and (ttl == 0 or ttl > role.secret_id_ttl):
        raise bad_request("ttl cannot be longer than the role's secret_id_ttl")
    key = app.key(create=False)
    assert key is not None  # made with the role
    now = call.core.tokens.now()
    record = _SecretId(
        hmac=app.mac(key, "secret-id", secret_id),
        accessor=str(uuid.uuid4()),
        metadata=metadata,
        cidr_list=cidr_list,
        creation_time=now,
        expiration_time=now + ttl if ttl else 0,
        num_uses=num_uses,
        ttl=ttl,
    )
    try:
        app.keystore.cas(app.secret_path(name, record.hmac), None, record.encode())
    except ConflictError:
        raise bad_request("SecretID is already registered") from None
    app.keystore.put(app.accessor_path(name, record.accessor), record.hmac.encode())
    return Reply(
        data={
            "secret_id": secret_id,
            "secret_id_accessor": record.accessor,
            "secret_id_ttl": ttl,
            "secret_id_num_uses": num_uses,
        }
    )


def generate_secret_id(call: Call) -> Reply:
    return _new_secret_id(call, str(uuid.uuid4()))


def custom_secret_id(call: Call) -> Reply:
    return _new_secret_id(call, _check_id(call.params.string("secret_id"), "secret_id"))


def _find_secret(app: _AppRole, name: str, secret_id: str) -> tuple[str, _SecretId, int] | None:
    """The live record of ``secret_id`` under role ``name``: its path, record and version."""
    key = app.key(create=False)
    if key is None:
        return None
    hashed = app.mac(key, "secret-id", secret_id)
    path = app.secret_path(name, hashed)
    try:
        stored = app.keystore.get_entry(path)
    except KeyNotFound:
        return None
    record = _SecretId.decode(stored.value)
    if not hmac.compare_digest(record.hmac, hashed) or record.expired(app.call.core.tokens.now()):
        return None
    return path, record, stored.version


def lookup_secret_id(call: Call) -> Reply:
    app, name = _AppRole(call), _role_name(call)
    app.role(name)
    found = _find_secret(app, name, _check_id(call.params.string("secret_id"), "secret_id"))
    return Reply() if found is None else Reply(data=found[1].describe())  # Vault: 204 if unknown


def destroy_secret_id(call: Call) -> Reply:
    app, name = _AppRole(call), _role_name(call)
    app.role(name)
    found = _find_secret(app, name, _check_id(call.params.string("secret_id"), "secret_id"))
    if found is not None:
        path, record, _ = found
        app.delete(path)
        app.delete(app.accessor_path(name, record.accessor))
    return Reply()


def _by_accessor(app: _AppRole, name: str, accessor: str) -> tuple[str, _SecretId]:
    try:
        hashed = app.keystore.get(app.accessor_path(name, accessor)).decode()
        record = _SecretId.decode(app.keystore.get(app.secret_path(name, hashed)))
    except KeyNotFound:
        raise not_found(f"failed to find accessor entry for secret_id_accessor: {accessor!r}") from None
    return app.secret_path(name, hashed), record


def _accessor_param(call: Call) -> str:
    accessor = _check_id(call.params.string("secret_id_accessor"), "secret_id_accessor")
    if "/" in accessor:
        raise bad_request("secret_id_accessor is not an accessor")
    return accessor


def lookup_accessor(call: Call) -> Reply:
    app, name = _AppRole(call), _role_name(call)
    app.role(name)
    _, record = _by_accessor(app, name, _accessor_param(call))
    return Reply(data=record.describe())


def destroy_accessor(call: Call) -> Reply:
    app, name = _AppRole(call), _role_name(call)
    app.role(name)
    accessor = _accessor_param(call)
    path, _ = _by_accessor(app, name, accessor)
    app.delete(path)
    app.delete(app.accessor_path(name, accessor))
    return Reply()


def list_secret_ids(call: Call) -> Reply:
    app, name = _AppRole(call), _role_name(call)
    app.role(name)
    prefix = f"{app.prefix}accessor/{name}/"
    return list_reply(sorted(path[len(prefix) :] for path in app.keystore.list(prefix)))


# -- login ----------------------------------------------------------------------------------------


def login(call: Call) -> Reply:
    app, p = _AppRole(call), call.params
    role_id = _check_id(p.string("role_id"), "role_id")
    secret_id = p.string("secret_id")
    key = app.key(create=False)
    if key is None:
        raise bad_request(_INVALID)
    try:
        name = app.keystore.get(f"{app.prefix}role-id/{app.mac(key, 'role-id', role_id)}").decode()
    except KeyNotFound:
        raise bad_request(_INVALID) from None
    found = app.load_role(name)
    if found is None or not hmac.compare_digest(found[0].role_id.encode(), role_id.encode()):
        raise bad_request(_INVALID)
    role = found[0]
    address = call.remote_address
    if not _allowed(address, role.secret_id_bound_cidrs):
        raise bad_request(f"source address {address!r} unauthorized by CIDR restrictions on the role")
    metadata: dict[str, str] = {}
    if role.bind_secret_id:
        metadata = _consume(app, name, _check_id(secret_id, "secret_id"), address)
    elif secret_id:
        raise bad_request("secret_id given, but the role does not bind secret IDs")
    auth = issue_token(
        call, app.method, role.token, display_name="approle", meta={**metadata, "role_name": name}
    )
    return Reply(auth=auth)


def check_renewal(keystore: Keystore, method: AuthMethod, entry: TokenEntry) -> TokenSettings:
    """Vault's AppRole renews a login's token only while its role exists, under the role's
    token settings as they are now."""
    name = entry.meta.get("role_name", "")
    try:
        raw = keystore.get(f"{method.storage}role/{name}") if name else None
    except KeyNotFound:
        raw = None
    if raw is None:
        raise bad_request(f"role {name!r} does not exist during renewal")
    return _Role.decode(raw).token


def _consume(app: _AppRole, name: str, secret_id: str, address: str) -> dict[str, str]:
    """One use of the secret ID (compare-and-set: never more uses than it has); its metadata."""
    for _ in range(_ATTEMPTS):
        found = _find_secret(app, name, secret_id)
        if found is None:
            raise bad_request(_INVALID)
        path, record, version = found
        if not _allowed(address, record.cidr_list):
            raise bad_request(
                f"source address {address!r} unauthorized through CIDR restrictions on the secret ID"
            )
        try:
            if record.num_uses == 1:  # the last use: it goes
                app.keystore.delete(path, expected_version=version)
                app.delete(app.accessor_path(name, record.accessor))
            elif record.num_uses > 1:
                app.keystore.cas(path, version, replace(record, num_uses=record.num_uses - 1).encode())
        except (ConflictError, KeyNotFound):
            continue  # used concurrently: look again
        return record.metadata
    raise HttpError(400, "the secret ID kept changing; try again")


# -- tidy ------------------------------------------------------------------------------------------

#: A secret ID is written before its accessor entry: tidy leaves one without an accessor alone
#: this long, so it never removes a secret ID that another request is still registering.
_TIDY_GRACE = 300


def tidy_secret_ids(call: Call) -> Reply:
    """``tidy/secret-id``: remove expired secret IDs, those of deleted roles, and index entries
    left without their secret ID (by a destroy that raced a login, or a crash between writes)."""
    app = _AppRole(call)
    now = call.core.tokens.now()
    secrets_prefix, accessors_prefix = app.prefix + "secret-id/", app.prefix + "accessor/"
    roles: dict[str, bool] = {}

    def role_exists(name: str) -> bool:
        if name not in roles:
            roles[name] = app.load_role(name) is not None
        return roles[name]

    removed = 0
    for path in app.keystore.list(secrets_prefix):
        name = path[len(secrets_prefix) :].split("/", 1)[0]
        try:
            stored = app.keystore.get_entry(path)
        except KeyNotFound:
            continue
        record = _SecretId.decode(stored.value)
        accessor_path = app.accessor_path(name, record.accessor)
        settled = record.creation_time + _TIDY_GRACE < now
        unindexed = settled and app.keystore.record_version(accessor_path) is None
        if record.expired(now) or not role_exists(name) or unindexed:
            try:
                app.keystore.delete(path, expected_version=stored.version)
            except (ConflictError, KeyNotFound):
                continue  # used or changed meanwhile: the next tidy looks again
            app.delete(accessor_path)
            removed += 1
    dangling = 0
    for path in app.keystore.list(accessors_prefix):
        name = path[len(accessors_prefix) :].split("/", 1)[0]
        try:
            hashed = app.keystore.get(path).decode()
        except KeyNotFound:
            continue
        if app.keystore.record_version(app.secret_path(name, hashed)) is None:
            app.delete(path)
            dangling += 1
    # Vault answers 202 and tidies in the background; this tidy has finished when it answers.
    return Reply(
        data={"secret_ids_removed": removed, "accessors_removed": dangling},
        status=202,
        warnings=["Tidy operation successfully completed."],
    )


# -- one field of a role: role/<name>/<field> -------------------------------------------------------
#
# Vault's per-field paths read, set and reset (DELETE) one setting. As Vault: reading a
# missing role is a 404, writing one is a 404 (unsupported path), deleting one succeeds.
# Settings this server cannot honour read as their "off" value and accept only that.


@dataclass(frozen=True)
class _Field:
    read: Callable[[_Role], dict[str, Any]]
    #: The role with the setting from the request; None for a read-only field.
    update: Callable[[_Role, Params], _Role] | None
    #: The role with the setting back at its default; None for a read-only field.
    reset: Callable[[_Role], _Role] | None
    warning: str = ""


def _given(params: Params, *names: str) -> str:
    """The first of ``names`` the request gives; 400 ``missing <first>`` if none."""
    for name in names:
        if name in params:
            return name
    raise bad_request(f"missing {names[0]}")


def _token(role: _Role, **changes: Any) -> _Role:
    return replace(role, token=replace(role.token, **changes))


def _set_policies(role: _Role, p: Params) -> _Role:
    return _token(role, policies=policy_list(p, _given(p, "token_policies", "policies")))


def _set_num_uses(role: _Role, p: Params) -> _Role:
    uses = p.integer(_given(p, "secret_id_num_uses"))
    if uses < 0:
        raise bad_request("secret_id_num_uses cannot be negative")
    return replace(role, secret_id_num_uses=uses)


def _set_token_ttl(role: _Role, p: Params) -> _Role:
    ttl = _token_duration(p, _given(p, "token_ttl"))
    if role.token.max_ttl and ttl > role.token.max_ttl:
        raise bad_request("token_ttl should not be greater than token_max_ttl")
    return _token(role, ttl=ttl)


def _set_token_max_ttl(role: _Role, p: Params) -> _Role:
    max_ttl = _token_duration(p, _given(p, "token_max_ttl"))
    if max_ttl and role.token.ttl > max_ttl:
        raise bad_request("token_max_ttl should be greater than or equal to token_ttl")
    return _token(role, max_ttl=max_ttl)


def _token_duration(p: Params, name: str) -> int:
    seconds = p.duration(name)
    if seconds > MAX_TTL:
        raise bad_request(f"token TTLs are at most {MAX_TTL} seconds (32 days)")
    return seconds


def _set_bound_cidrs(role: _Role, p: Params) -> _Role:
    cidrs = _cidrs(p, _given(p, "secret_id_bound_cidrs", "bound_cidr_list"))
    if not cidrs:
        raise bad_request("missing bound_cidr_list")
    return replace(role, secret_id_bound_cidrs=cidrs)


def _only_off(name: str, *aliases: str) -> Callable[[_Role, Params], _Role]:
    """A setting not served here: its "off" value is accepted (nothing changes), any other
    refused with the reason ``token_settings`` gives."""

    def update(role: _Role, p: Params) -> _Role:
        _given(p, name, *aliases)
        token_settings(p, role.token)
        return role

    return update


def _bound_cidrs_read(name: str) -> Callable[[_Role], dict[str, Any]]:
    return lambda role: {name: list(role.secret_id_bound_cidrs)}


_FIELDS: dict[str, _Field] = {
    "policies": _Field(
        lambda role: {"token_policies": list(role.token.policies), "policies": list(role.token.policies)},
        _set_policies,
        lambda role: _token(role, policies=()),
    ),
    "bind-secret-id": _Field(
        lambda role: {"bind_secret_id": role.bind_secret_id},
        lambda role, p: replace(role, bind_secret_id=p.boolean(_given(p, "bind_secret_id"))),
        lambda role: replace(role, bind_secret_id=True),
    ),
    "secret-id-num-uses": _Field(
        lambda role: {"secret_id_num_uses": role.secret_id_num_uses},
        _set_num_uses,
        lambda role: replace(role, secret_id_num_uses=0),
    ),
    "secret-id-ttl": _Field(
        lambda role: {"secret_id_ttl": role.secret_id_ttl},
        lambda role, p: replace(role, secret_id_ttl=p.duration(_given(p, "secret_id_ttl"))),
        lambda role: replace(role, secret_id_ttl=0),
    ),
    "token-ttl": _Field(
        lambda role: {"token_ttl": role.token.ttl}, _set_token_ttl, lambda role: _token(role, ttl=0)
    ),
    "token-max-ttl": _Field(
        lambda role: {"token_max_ttl": role.token.max_ttl},
        _set_token_max_ttl,
        lambda role: _token(role, max_ttl=0),
    ),
    "secret-id-bound-cidrs": _Field(
        _bound_cidrs_read("secret_id_bound_cidrs"),
        _set_bound_cidrs,
        lambda role: replace(role, secret_id_bound_cidrs=()),
    ),
    "bound-cidr-list": _Field(
        _bound_cidrs_read("bound_cidr_list"),
        _set_bound_cidrs,
        lambda role: replace(role, secret_id_bound_cidrs=()),
        warning='The "bound_cidr_list" field is deprecated and will be removed. '
        'Please use "secret_id_bound_cidrs" instead.',
    ),
    "token-bound-cidrs": _Field(
        lambda role: {"token_bound_cidrs": []}, _only_off("token_bound_cidrs"), lambda role: role
    ),
    "period": _Field(
        lambda role: {"token_period": 0}, _only_off("token_period", "period"), lambda role: role
    ),
    "token-num-uses": _Field(
        lambda role: {"token_num_uses": 0}, _only_off("token_num_uses"), lambda role: role
    ),
    "local-secret-ids": _Field(lambda role: {"local_secret_ids": False}, None, None),
}


def _field(call: Call) -> _Field:
    return _FIELDS[call.group("field")]


def read_role_field(call: Call) -> Reply:
    found = _AppRole(call).load_role(_role_name(call))
    if found is None:
        raise not_found()
    field = _field(call)
    return Reply(data=field.read(found[0]), warnings=[field.warning] if field.warning else [])


def write_role_field(call: Call) -> Reply:
    app, name, field = _AppRole(call), _role_name(call), _field(call)
    if field.update is None:
        raise unsupported_operation()
    found = app.load_role(name)
    if found is None:
        raise not_found(f"no handler for route {call.path!r}. route entry not found.")
    _store_checked(app, name, field.update(found[0], call.params), found)
    return Reply()


def delete_role_field(call: Call) -> Reply:
    app, name, field = _AppRole(call), _role_name(call), _field(call)
    if field.reset is None:
        raise unsupported_operation()
    found = app.load_role(name)
    if found is not None:
        _store_checked(app, name, field.reset(found[0]), found)
    return Reply()


def _store_checked(app: _AppRole, name: str, role: _Role, found: tuple[_Role, int]) -> None:
    if role == found[0]:
        return
    if not role.bind_secret_id and not role.secret_id_bound_cidrs:
        raise bad_request("at least one constraint should be enabled on the role")
    _store_role(app, name, role, found)


_ROLE = "role/" + name_pattern("role")

router = Router()
router.add("role/?", {"list": list_roles})
router.add(_ROLE + "/role-id", {"read": read_role_id, "update": write_role_id})
router.add(_ROLE + "/secret-id/lookup", {"update": lookup_secret_id})
router.add(_ROLE + "/secret-id/destroy", {"update": destroy_secret_id, "delete": destroy_secret_id})
router.add(_ROLE + "/secret-id/?", {"update": generate_secret_id, "list": list_secret_ids})
router.add(_ROLE + "/secret-id-accessor/lookup", {"update": lookup_accessor})
router.add(_ROLE + "/secret-id-accessor/destroy", {"update": destroy_accessor, "delete": destroy_accessor})
router.add(_ROLE + "/custom-secret-id", {"update": custom_secret_id})
router.add(
    _ROLE + "/(?P<field>" + "|".join(_FIELDS) + ")",
    {"read": read_role_field, "update": write_role_field, "delete": delete_role_field},
)
router.add(_ROLE, {"read": read_role, "update": write_role, "delete": delete_role})
router.add("tidy/secret-id", {"update": tidy_secret_ids})
router.add("login", {"update": login}, unauthenticated=True)
