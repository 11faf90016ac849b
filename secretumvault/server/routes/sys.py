"""``sys/``: init, unseal, seal, rekey, status and health; mounts; policies; audit devices; key rotation.

Health, seal status, init, unseal and leader answer while sealed and need no
token, as in Vault; like Vault, they answer with bare JSON, not the envelope.
The paths Vault answers with its data both under ``data`` and at the top
level (``sys/mounts``, ``sys/policy``, ``sys/audit``, ``sys/auth``,
``sys/capabilities*``, ``sys/key-status``, ``sys/audit-hash``) do the same
here (``_both``); the others (``sys/policies/acl``) only under ``data``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from secretumvault.errors import ConflictError, KeyNotFound
from secretumvault.server.auth.table import AuthMethod, check_auth_path
from secretumvault.server.envelope import Reply, list_reply
from secretumvault.server.errors import bad_request, not_found, permission_denied, sealed
from secretumvault.server.params import Params, parse_duration
from secretumvault.server.routing import Call, Router, name_pattern
from secretumvault.server.state import generate_root, wrapping
from secretumvault.server.state.audit import AUDIT_PATH, AuditTable, DeviceConfig, hash_value
from secretumvault.server.state.mounts import SYSTEM_MAX_LEASE_TTL, check_mount_path, string_options
from secretumvault.server.state.policy import Acl
from secretumvault.server.state.rekey import Rekeying

__all__ = ["router"]

_POLICY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_MAX_SHARES = 255


def _bare(obj: dict[str, Any], status: int = 200) -> Reply:
    return Reply(status=status, body=json.dumps(obj).encode("utf-8"))


def _both(data: dict[str, Any]) -> Reply:
    """The envelope with ``data`` also copied to its top level, as Vault answers these paths."""
    return Reply(data=data, top_level=True)


# -- seal, init, health -------------------------------------------------------------------------


def health(call: Call) -> Reply:
    core = call.core
    initialized = core.keystore.initialized
    status = 200
    if not initialized:
        status = call.params.integer("uninitcode", 501)
    elif core.sealed:
        status = call.params.integer("sealedcode", 503)
    else:
        status = call.params.integer("activecode", 200)
    for name in ("standbyok", "perfstandbyok", "standbycode", "drsecondarycode", "performancestandbycode"):
        call.params.raw(name)  # accepted: this server is never a standby
    return _bare(
        {
            "initialized": initialized,
            "sealed": core.sealed,
            "standby": False,
            "performance_standby": False,
            "replication_performance_mode": "disabled",
            "replication_dr_mode": "disabled",
            "server_time_utc": int(time.time()),
            "version": core.seal_status()["version"],
            "cluster_name": "secretumvault",
            "cluster_id": "",
        },
        status if 200 <= status <= 599 else 200,
    )


def seal_status(call: Call) -> Reply:
    return _bare(call.core.seal_status())


def init_status(call: Call) -> Reply:
    return _bare({"initialized": call.core.keystore.initialized})


def initialize(call: Call) -> Reply:
    p = call.params
    for unsupported in ("pgp_keys", "root_token_pgp_key", "recovery_pgp_keys"):
        if p.raw(unsupported):
            raise bad_request(f"{unsupported} is not supported by this server")
    p.raw("stored_shares")  # Vault ignores it since 1.3; so does this server
    if call.core.auto_seal is not None:
        # As Vault with an auto seal: recovery shares (default 5 of 3), and no unseal keys.
        if p.raw("secret_shares") or p.raw("secret_threshold"):
            raise bad_request(
                f"this server has a {call.core.auto_seal.seal_type} seal: give recovery_shares and "
                "recovery_threshold, not secret_shares"
            )
        shares, threshold = p.integer("recovery_shares", 5), p.integer("recovery_threshold", 3)
        names = "recovery_shares", "recovery_threshold"
    else:
        if p.raw("recovery_shares") or p.raw("recovery_threshold"):
            raise bad_request("recovery_shares need an auto-unseal seal ([seal] in the configuration)")
        shares, threshold = p.integer("secret_shares", 0), p.integer("secret_threshold", 0)
        names = "secret_shares", "secret_threshold"
    if not 1 <= shares <= _MAX_SHARES or not 1 <= threshold <= shares or (shares > 1 and threshold == 1):
        raise bad_request(
            f"{names[0]} must be from 1 to {_MAX_SHARES}, and {names[1]} from 2 to {names[0]} "
            "(1 only with a single share)"
        )
    return _bare(call.core.initialize(shares, threshold))


def unseal(call: Call) -> Reply:
    p = call.params
    migrate = p.boolean("migrate")  # Vault's `operator unseal -migrate`: see ServerCore.unseal
    if p.boolean("reset"):
        return _bare(call.core.reset_unseal())
    key = p.string("key")
    if call.core.keystore.initialized and call.core.seal_config()[0] in ("transit", "pkcs11"):
        # An auto seal: one more attempt through it, key or not (a recovery key only with migrate).
        return _bare(call.core.unseal(key, migrate))
    if not key:
        raise bad_request("missing key: give one unseal key share (hex or base64), or reset=true")
    if not call.core.keystore.initialized:
        raise bad_request("Vault is not initialized")
    return _bare(call.core.unseal(key, migrate))


def seal(call: Call) -> Reply:
    call.core.seal()
    return Reply()


def leader(call: Call) -> Reply:
    if call.core.sealed:
        raise sealed()
    return _bare({"ha_enabled": False, "is_self": True, "leader_address": "", "leader_cluster_address": ""})


def key_status(call: Call) -> Reply:
    terms = call.core.keystore.key_terms
    return _both({"term": terms[-1], "terms": len(terms), "encryptions": 0, "install_time": ""})


def rotate(call: Call) -> Reply:
    call.core.keystore.rotate()
    return Reply()


# -- rekey ---------------------------------------------------------------------------------------------


def _rekeying(call: Call) -> Rekeying:
    # sys/rekey-recovery-key/...: the recovery shares of an auto-sealed store; sys/rekey/...: unseal shares.
    return (
        call.core.recovery_rekeying if call.path.startswith("sys/rekey-recovery-key/") else call.core.rekeying
    )


def rekey_status(call: Call) -> Reply:
    return _bare(_rekeying(call).status())


def rekey_start(call: Call) -> Reply:
    p = call.params
    for unsupported in ("pgp_keys", "backup", "require_verification"):
        if p.raw(unsupported):
            raise bad_request(f"{unsupported} is not supported by this server")
    return _bare(_rekeying(call).start(p.integer("secret_shares", 0), p.integer("secret_threshold", 0)))


def rekey_cancel(call: Call) -> Reply:
    _rekeying(call).cancel()
    return Reply()


def rekey_update(call: Call) -> Reply:
    p = call.params
    key = p.string("key", required=True)
    return _bare(_rekeying(call).update(key, p.string("nonce", required=True)))


# -- mounts ---------------------------------------------------------------------------------------


def _system_mount() -> dict[str, Any]:
    return {"type": "system", "description": "system endpoints", "accessor": "system", "options": None}


def list_mounts(call: Call) -> Reply:
    table = {path: mount.describe() for path, mount in sorted(call.core.mounts.mounts().items())}
    table["sys/"] = _system_mount()
    return _both(table)


def read_mount(call: Call) -> Reply:
    """``GET sys/mounts/<path>`` (Vault >= 1.10): one mount as ``sys/mounts`` lists it."""
    path = check_mount_path(call.group("path"))
    mount = call.core.mounts.mounts().get(path)
    if mount is None:
        raise bad_request(f"No secret engine mount at {path}")
    return _both(mount.describe())


def ui_mount(call: Call) -> Reply:
    """``sys/internal/ui/mounts/<path>``: the mount serving a path (the ``vault kv`` CLI asks first)."""
    # Vault: 403 for an unknown mount and for one the token has no capability on, so a
    # token cannot use this path to learn which mounts exist.
    resolved = call.core.mounts.resolve(call.group("path").strip("/"))
    if resolved is None:
        raise permission_denied()
    mount = resolved[0]
    assert call.token is not None
    if not call.core.acl(call.token).has_mount_access(mount.path):
        raise permission_denied()
    return Reply(data={**mount.describe(), "path": mount.path})


#: Vault's mount settings this server has no use for: accepted only empty (as clients send
#: them by default), refused otherwise rather than silently dropped.
_UNSUPPORTED_SETTINGS = (
    "audit_non_hmac_request_keys",
    "audit_non_hmac_response_keys",
    "listing_visibility",
    "passthrough_request_headers",
    "allowed_response_headers",
    "plugin_version",
    "allowed_managed_keys",
    "delegated_auth_accessors",
    "identity_token_key",
)


def _refuse_unsupported(values: dict[str, Any], where: str) -> None:
    for name, value in values.items():
        if name in _UNSUPPORTED_SETTINGS and value not in (None, "", [], {}):
            raise bad_request(f"{where}{name} is not supported by this server")


def _ttl_setting(value: object, name: str) -> int | None:
    """A lease TTL as Vault's mount settings take it: None or "" keeps, "system" is 0 (the default)."""
    if value is None or value == "":
        return None
    if value == "system":
        return 0
    return parse_duration(value, name)


def enable_mount(call: Call) -> Reply:
    p = call.params
    engine_type = p.string("type", required=True)
    plugin_name = p.string("plugin_name")
    if plugin_name and plugin_name != engine_type:
        # Vault would run that plugin; only the built-in engines exist here.
        raise bad_request(f"plugin {plugin_name!r} is not available: only the built-in engines are served")
    options = string_options(p.raw("options"))
    config = p.mapping("config")
    _refuse_unsupported(config, "config.")
    _refuse_unsupported({"plugin_version": p.raw("plugin_version")}, "")
    unknown = set(config) - {"default_lease_ttl", "max_lease_ttl", "force_no_cache", *_UNSUPPORTED_SETTINGS}
    if unknown:
        raise bad_request(f"unknown mount config keys: {sorted(unknown)}")
    config_params = Params(config)
    if p.boolean("external_entropy_access"):
        raise bad_request("external_entropy_access is not supported by this server")
    p.raw("local")
    p.raw("seal_wrap")
    call.core.mounts.enable(
        call.group("path"),
        engine_type,
        p.string("description"),
        options,
        default_lease_ttl=_ttl_setting(config.get("default_lease_ttl"), "config.default_lease_ttl") or 0,
        max_lease_ttl=_ttl_setting(config.get("max_lease_ttl"), "config.max_lease_ttl") or 0,
        force_no_cache=config_params.boolean("force_no_cache"),
    )
    return Reply()


def read_tune(call: Call) -> Reply:
    path = check_mount_path(call.group("path"))
    mount = call.core.mounts.mounts().get(path)
    if mount is None:
        raise bad_request(f"cannot fetch sysview for path {path!r}")
    return _both(mount.tuning())


def write_tune(call: Call) -> Reply:
    p = call.params
    _refuse_unsupported({name: p.raw(name) for name in _UNSUPPORTED_SETTINGS}, "")
    description = p.raw("description")
    if description is not None and not isinstance(description, str):
        raise bad_request("description must be a string")
    options = p.raw("options")
    call.core.mounts.tune(
        call.group("path"),
        description=description,
        default_lease_ttl=_ttl_setting(p.raw("default_lease_ttl"), "default_lease_ttl"),
        max_lease_ttl=_ttl_setting(p.raw("max_lease_ttl"), "max_lease_ttl"),
        options=None if options is None else string_options(options),
    )
    return Reply()


def disable_mount(call: Call) -> Reply:
    call.core.mounts.disable(call.group("path"))
    return Reply()


# -- policies -------------------------------------------------------------------------------------


def _policy_name(call: Call) -> str:
    name = call.group("name").lower()
    if not _POLICY_NAME.fullmatch(name):
        raise bad_request("a policy name is 1-128 letters, digits, '.', '_' and '-'")
    return name


def list_policies(call: Call) -> Reply:
    names = call.core.list_policies()
    return _both({"keys": names, "policies": names})


def read_policy(call: Call) -> Reply:
    """``sys/policy/<name>``: Vault's older path, answered at the top level too."""
    name = _policy_name(call)
    text = call.core.read_policy(name)
    return _both({"name": name, "rules": text})


def read_acl_policy(call: Call) -> Reply:
    """``sys/policies/acl/<name>``: under ``data`` only, with the text as ``policy``."""
    name = _policy_name(call)
    text = call.core.read_policy(name)
    return Reply(data={"name": name, "policy": text})


def write_policy(call: Call) -> Reply:
    text = call.params.raw("policy")
    if text is None:
        text = call.params.raw("rules")
    if isinstance(text, dict):  # a JSON policy sent as an object rather than a string
        text = json.dumps(text)
    if not isinstance(text, str):
        raise bad_request("missing policy: give the policy text (JSON or HCL) as a string")
    call.core.write_policy(_policy_name(call), text)
    return Reply()


def delete_policy(call: Call) -> Reply:
    if not _POLICY_NAME.fullmatch(call.group("name").lower()):
        return Reply()  # no policy can have that name; Vault: deleting what is absent succeeds
    call.core.delete_policy(_policy_name(call))
    return Reply()


def capabilities_self(call: Call) -> Reply:
    assert call.token is not None
    return _capabilities(call, call.core.acl(call.token))


def capabilities(call: Call) -> Reply:
    entry = call.core.tokens.lookup(call.params.string("token", required=True))
    if entry is None:
        raise bad_request("invalid token")
    return _capabilities(call, call.core.acl(entry))


def _capabilities(call: Call, acl: Acl) -> Reply:
    paths = call.params.string_list("paths") or call.params.string_list("path")
    if not paths:
        raise bad_request("missing paths")
    result: dict[str, Any] = {}
    for path in paths:
        if acl.root:
            result[path] = ["root"]
            continue
        caps = acl.capabilities(path.lstrip("/"))
        result[path] = ["deny"] if not caps or "deny" in caps else sorted(caps)
    if len(paths) == 1:
        result["capabilities"] = result[paths[0]]
    return _both(result)


# -- audit devices --------------------------------------------------------------------------------


def list_audit(call: Call) -> Reply:
    table, _ = call.core.audit_table.get()
    return _both(
        {
            d.path: {
                "type": d.type,
                "description": d.description,
                "options": {"file_path": d.file_path},
                "path": d.path,
                "local": False,
            }
            for d in table.devices
        }
    )


def enable_audit(call: Call) -> Reply:
    p = call.params
    path = check_mount_path(call.group("path"))
    if p.string("type", required=True) != "file":
        raise bad_request('only the "file" audit device type is available')
    options = p.mapping("options")
    file_path = options.get("file_path") or options.get("path")
    if not isinstance(file_path, str) or not file_path.startswith("/"):
        raise bad_request("options.file_path must be an absolute path")
    call.core.audit.check_writable(file_path)
    description = p.string("description")

    def enable(table: AuditTable) -> AuditTable | None:
        if any(d.path == path for d in table.devices):
            raise bad_request(f"an audit device is already enabled at {path}")
        return table.with_device(DeviceConfig(path, "file", file_path, description))

    _update_audit_table(call, enable)
    return Reply()


def disable_audit(call: Call) -> Reply:
    path = check_mount_path(call.group("path"))

    def disable(table: AuditTable) -> AuditTable | None:
        return table.without(path) if any(d.path == path for d in table.devices) else None

    _update_audit_table(call, disable)
    return Reply()


def _update_audit_table(call: Call, change: Callable[[AuditTable], AuditTable | None]) -> None:
    """Compare-and-set ``change`` of the audit table (None: nothing to change), retried on races."""
    for _ in range(8):
        table, version = call.core.audit_table.get()
        updated = change(table)
        if updated is None:
            return
        try:
            call.core.keystore.cas(AUDIT_PATH, version, updated.encode())
        except ConflictError:
            continue
        finally:
            call.core.audit_table.invalidate()
        return
    raise ConflictError("the audit table kept changing; try again")


def audit_hash(call: Call) -> Reply:
    path = check_mount_path(call.group("path"))
    table, _ = call.core.audit_table.get()
    if table.salt is None or not any(d.path == path for d in table.devices):
        raise bad_request(f'unknown audit backend "{path}"')
    return _both({"hash": hash_value(table.salt, call.params.string("input", required=True))})


# -- auth methods ---------------------------------------------------------------------------------

#: The token auth method, always mounted at ``auth/token/`` (fixed ids: it is never re-mounted).
_TOKEN_AUTH = {
    "type": "token",
    "description": "token based credentials",
    "accessor": "auth_token_secretumvault",
    "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "secretumvault:auth/token/")),
    "config": {
        "default_lease_ttl": 0,
        "max_lease_ttl": 0,
        "force_no_cache": False,
        "token_type": "default-service",
    },
    "options": None,
    "local": False,
    "seal_wrap": False,
    "external_entropy_access": False,
}


def list_auth(call: Call) -> Reply:
    methods = {path: m.describe() for path, m in call.core.auth_methods.methods().items()}
    return _both({"token/": dict(_TOKEN_AUTH), **methods})


def _auth_path(call: Call) -> str:
    return check_auth_path(call.group("path"))


def _enabled_auth(call: Call) -> AuthMethod | None:
    return call.core.auth_methods.methods().get(_auth_path(call))


def read_auth(call: Call) -> Reply:
    if _auth_path(call) == "token/":
        return _both(dict(_TOKEN_AUTH))
    method = _enabled_auth(call)
    if method is None:
        raise bad_request(f"No auth engine at {_auth_path(call)}")
    return _both(method.describe())


#: ``config`` keys of ``sys/auth/<path>`` that this server serves, and their "off" values otherwise.
_AUTH_CONFIG_SERVED = ("default_lease_ttl", "max_lease_ttl", "force_no_cache", "token_type")


def enable_auth(call: Call) -> Reply:
    p = call.params
    path = _auth_path(call)
    method = p.string("type", required=True)
    if path == "token/":
        raise bad_request("path is already in use at token/")
    plugin = p.string("plugin_name")
    if plugin and plugin != method:
        raise bad_request("plugins are not supported by this server: plugin_name must name the method type")
    for flag in ("local", "seal_wrap", "external_entropy_access"):
        if p.boolean(flag):
            raise bad_request(f"{flag} is not supported by this server")
    config = Params(p.mapping("config"))
    for name in config.names():
        if name not in _AUTH_CONFIG_SERVED and config.raw(name) not in (None, "", [], {}, False, 0):
            raise bad_request(f"config.{name} is not supported by this server")
    if config.boolean("force_no_cache"):
        raise bad_request("config.force_no_cache is not supported by this server")
    if config.string("token_type") not in ("", "default-service", "service"):
        raise bad_request("config.token_type: this server has service tokens only")
    call.core.auth_methods.enable(
        path,
        method,
        p.string("description"),
        default_lease_ttl=config.duration("default_lease_ttl", 0),
        max_lease_ttl=config.duration("max_lease_ttl", 0),
        options=string_options(p.raw("options")),
    )
    return Reply()


def disable_auth(call: Call) -> Reply:
    call.core.auth_methods.disable(_auth_path(call))  # Vault: disabling an unused path succeeds
    return Reply()


def read_auth_tune(call: Call) -> Reply:
    if _auth_path(call) == "token/":
        description, default_ttl, max_ttl = str(_TOKEN_AUTH["description"]), 0, 0
    else:
        method = _enabled_auth(call)
        if method is None:
            raise bad_request(f"cannot fetch sysview for path 'auth/{_auth_path(call)}'")
        description, default_ttl, max_ttl = method.description, method.default_lease_ttl, method.max_lease_ttl
    return _both(
        {
            "description": description,
            "default_lease_ttl": default_ttl or SYSTEM_MAX_LEASE_TTL,
            "max_lease_ttl": max_ttl or SYSTEM_MAX_LEASE_TTL,
            "force_no_cache": False,
            "token_type": "default-service",
        }
    )


#: Where ``sys/remount`` records each move for ``sys/remount/status/<id>`` (any process may be asked).
_REMOUNT_STATUS_PREFIX = "sys/remount-status/"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RESERVED_MOUNTS = ("sys/", "auth/", "cubbyhole/", "identity/", "audit/")


def remount(call: Call) -> Reply:
    """``sys/remount``: move a secrets engine (or, with ``auth/`` paths, an auth method).

    Vault 1.10+ answers at once with a ``migration_id`` and moves in the background; here the
    move (one compare-and-set of the mount table: the data stays under its storage name) is
    done before the answer, and ``sys/remount/status/<id>`` reports ``success`` from then on.
    """
    p = call.params
    source, target = p.string("from"), p.string("to")
    if not source or not target:
        raise bad_request("both 'from' and 'to' path must be specified as a string")
    for name, value in (("from", source), ("to", target)):
        if value != value.strip(" "):
            raise bad_request(f"'{name}' path cannot contain trailing whitespace")
    source, target = source.strip("/") + "/", target.strip("/") + "/"
    if source.startswith("auth/"):
        if not target.startswith("auth/"):
            raise bad_request(f"cannot remount auth mount to non-auth mount {target!r}")
        if source.startswith("auth/token/"):
            raise bad_request(f"cannot remount {source!r}")
        if target.startswith("auth/token/"):
            raise bad_request(f"cannot remount to destination {target!r}")
        call.core.auth_methods.move(source[len("auth/") :], target[len("auth/") :])
    else:
        if source.startswith(_RESERVED_MOUNTS):
            raise bad_request(f"cannot remount {source!r}")
        if target.startswith(_RESERVED_MOUNTS):
            raise bad_request(f"cannot remount to destination {target!r}")
        call.core.mounts.move(source, target)
    migration_id = str(uuid.uuid4())
    info = {"source_mount": source, "target_mount": target, "status": "success"}
    call.core.keystore.put(_REMOUNT_STATUS_PREFIX + migration_id, json.dumps(info).encode())
    return Reply(data={"migration_id": migration_id})


def remount_status(call: Call) -> Reply:
    migration_id = call.group("migration_id")
    if not _UUID.fullmatch(migration_id):
        raise not_found()
    try:
        info = json.loads(call.core.keystore.get(_REMOUNT_STATUS_PREFIX + migration_id))
    except KeyNotFound:
        raise not_found() from None
    return Reply(data={"migration_id": migration_id, "migration_info": info})


#: What ``sys/auth/<path>/tune`` changes; any other setting given a value is refused.
_AUTH_TUNABLE = ("description", "default_lease_ttl", "max_lease_ttl")


def tune_auth(call: Call) -> Reply:
    p = call.params
    path = _auth_path(call)
    for name in p.names():
        if name not in _AUTH_TUNABLE and p.raw(name) not in (None, "", [], {}, False, 0):
            raise bad_request(f"tuning {name} of an auth method is not supported by this server")
    if path == "token/":
        raise bad_request("tuning the token auth method is not supported by this server")
    description = p.string("description") if "description" in p else None
    call.core.auth_methods.tune(
        path,
        description=description,
        default_lease_ttl=p.optional_duration("default_lease_ttl"),
        max_lease_ttl=p.optional_duration("max_lease_ttl"),
    )
    return Reply()


# -- the routes ---------------------------------------------------------------------------------------

router = Router()
_UNSEALED_INFO = {"unauthenticated": True, "sealed_ok": True, "inline": True}
router.add("sys/health", {"read": health}, **_UNSEALED_INFO)
router.add("sys/seal-status", {"read": seal_status}, **_UNSEALED_INFO)
router.add("sys/init", {"read": init_status, "update": initialize}, unauthenticated=True, sealed_ok=True)
router.add("sys/unseal", {"update": unseal}, unauthenticated=True, sealed_ok=True)
router.add("sys/leader", {"read": leader}, **_UNSEALED_INFO)
router.add("sys/seal", {"update": seal}, sudo=True)
# As in Vault, rekeying needs no token: the current unseal shares are the authority.
router.add(
    "sys/rekey/init",
    {"read": rekey_status, "update": rekey_start, "delete": rekey_cancel},
    unauthenticated=True,
)
router.add("sys/rekey/update", {"update": rekey_update}, unauthenticated=True)
# An auto-sealed store's recovery shares, the same way (Vault's sys/rekey-recovery-key).
router.add(
    "sys/rekey-recovery-key/init",
    {"read": rekey_status, "update": rekey_start, "delete": rekey_cancel},
    unauthenticated=True,
)
router.add("sys/rekey-recovery-key/update", {"update": rekey_update}, unauthenticated=True)
router.add("sys/key-status", {"read": key_status})
router.add("sys/rotate", {"update": rotate}, sudo=True)
router.add("sys/mounts", {"read": list_mounts})
# Before sys/mounts/<path>: "<path>/tune" is the tune endpoint, never a mount named ".../tune/".
router.add("sys/mounts/(?P<path>.+)/tune/?", {"read": read_tune, "update": write_tune})
router.add("sys/mounts/(?P<path>.+)", {"read": read_mount, "update": enable_mount, "delete": disable_mount})
router.add("sys/remount", {"update": remount}, sudo=True)
router.add("sys/remount/status/" + name_pattern("migration_id"), {"read": remount_status})
router.add("sys/internal/ui/mounts/(?P<path>.+)", {"read": ui_mount})
router.add("sys/policy", {"read": list_policies, "list": list_policies})
router.add(
    "sys/policy/" + name_pattern("name"),
    {"read": read_policy, "update": write_policy, "delete": delete_policy},
)
router.add("sys/policies/acl", {"list": lambda call: list_reply(call.core.list_policies())})
router.add(
    "sys/policies/acl/" + name_pattern("name"),
    {"read": read_acl_policy, "update": write_policy, "delete": delete_policy},
)
router.add("sys/capabilities-self", {"update": capabilities_self})
router.add("sys/capabilities", {"update": capabilities})
router.add("sys/audit", {"read": list_audit}, sudo=True)
router.add("sys/audit/(?P<path>.+)", {"update": enable_audit, "delete": disable_audit}, sudo=True)
router.add("sys/audit-hash/(?P<path>.+)", {"update": audit_hash})
router.add("sys/auth", {"read": list_auth})
# Vault's root path "auth/*" covers the tune path too: sudo, unlike sys/mounts/<path>/tune.
router.add("sys/auth/(?P<path>.+)/tune/?", {"read": read_auth_tune, "update": tune_auth}, sudo=True)
router.add(
    "sys/auth/(?P<path>.+)", {"read": read_auth, "update": enable_auth, "delete": disable_auth}, sudo=True
)
# Response wrapping: the wrapping token is the authority (wrapping.py), so unwrap, lookup and
# rewrap need no other token; wrap needs the caller's own grant.
router.add("sys/wrapping/wrap", {"update": wrapping.wrap_data})
router.add("sys/wrapping/unwrap", {"update": wrapping.unwrap}, unauthenticated=True)
router.add("sys/wrapping/lookup", {"read": wrapping.lookup, "update": wrapping.lookup}, unauthenticated=True)
router.add("sys/wrapping/rewrap", {"update": wrapping.rewrap}, unauthenticated=True)
# As in Vault, root generation needs no token: the current unseal shares are the authority.
router.add(
    "sys/generate-root/attempt",
    {
        "read": generate_root.read_attempt,
        "update": generate_root.start_attempt,
        "delete": generate_root.cancel_attempt,
    },
    unauthenticated=True,
)
router.add("sys/generate-root/update", {"update": generate_root.update}, unauthenticated=True)
