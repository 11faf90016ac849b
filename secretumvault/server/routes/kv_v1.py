"""A kv version 1 mount (Vault's kv v1, or ``generic``): GET, POST/PUT, DELETE, LIST on ``<mount>/<path>``."""

from __future__ import annotations

from secretumvault.server.envelope import Reply, list_reply
from secretumvault.server.routing import Call, Router
from secretumvault.server.state.kv_v1_store import KvV1Store, lease_seconds
from secretumvault.server.state.mounts import SYSTEM_MAX_LEASE_TTL

__all__ = ["router"]


def _store(call: Call) -> KvV1Store:
    store: KvV1Store = call.engine
    return store


def _path(call: Call) -> str:
    return call.groups.get("path") or ""


def read(call: Call) -> Reply:
    data = _store(call).read(_path(call))
    assert call.mount is not None
    default = call.mount.default_lease_ttl or SYSTEM_MAX_LEASE_TTL
    return Reply(data=data, lease_duration=lease_seconds(data, default))


def write(call: Call) -> Reply:
    p = call.params
    # Every parameter is a key of the secret (a "ttl" one too: it is kept, and read back).
    _store(call).write(_path(call), {name: p.raw(name) for name in p.names()})
    return Reply()


def delete(call: Call) -> Reply:
    _store(call).delete(_path(call))
    return Reply()


def list_secrets(call: Call) -> Reply:
    return list_reply(_store(call).list(_path(call)))


def secret_exists(call: Call) -> bool:
    try:
        return _store(call).exists(_path(call))
    except Exception:  # a path the handler itself will refuse with its own error
        return False


router = Router()
router.add(
    "(?P<path>.*)",
    {"read": read, "update": write, "delete": delete, "list": list_secrets},
    exists=secret_exists,
)
