"""A kv version 2 mount: Vault's ``data``, ``metadata``, ``delete``, ``undelete``, ``destroy``, ``config``."""

from __future__ import annotations

from typing import Any

from secretumvault.server.envelope import Reply, list_reply
from secretumvault.server.errors import bad_request
from secretumvault.server.kv import KvStore
from secretumvault.server.params import Params
from secretumvault.server.routing import Call, Router

__all__ = ["router"]


def _store(call: Call) -> KvStore:
    store: KvStore = call.engine
    return store


def _path(call: Call) -> str:
    return call.groups.get("path") or ""


def _versions(p: Params) -> list[int]:
    raw = p.raw("versions")
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list):
        raise bad_request("versions must be a list of version numbers")
    numbers = []
    for item in raw:
        value = Params({"v": item}).integer("v", minimum=1)
        numbers.append(value)
    return numbers


def _cas(p: Params) -> int | None:
    options = p.mapping("options")
    if "cas" not in options:
        return None
    return Params(options).integer("cas", minimum=0)


def _data(p: Params) -> dict[str, Any]:
    data = p.raw("data")
    if not isinstance(data, dict):
        raise bad_request("data must be a JSON object")
    return data


def read_config(call: Call) -> Reply:
    return Reply(data=_store(call).config())


def write_config(call: Call) -> Reply:
    p = call.params
    if p.duration("delete_version_after", 0):
        raise bad_request("delete_version_after is not supported by this server")
    _store(call).set_config(p.optional_integer("max_versions", minimum=0), p.optional_boolean("cas_required"))
    return Reply()


def read_data(call: Call) -> Reply:
    status, data = _store(call).read(_path(call), call.params.integer("version", 0, minimum=0))
    return Reply(data=data, status=status)


def write_data(call: Call) -> Reply:
    p = call.params
    return Reply(data=_store(call).write(_path(call), _data(p), _cas(p)))


def patch_data(call: Call) -> Reply:
    p = call.params
    return Reply(data=_store(call).patch(_path(call), _data(p), _cas(p)))


def delete_latest(call: Call) -> Reply:
    _store(call).delete(_path(call), [])
    return Reply()


def delete_versions(call: Call) -> Reply:
    versions = _versions(call.params)
    if not versions:
        raise bad_request("no versions provided")
    _store(call).delete(_path(call), versions)
    return Reply()


def undelete(call: Call) -> Reply:
    _store(call).undelete(_path(call), _versions(call.params))
    return Reply()


def destroy(call: Call) -> Reply:
    _store(call).destroy(_path(call), _versions(call.params))
    return Reply()


def read_metadata(call: Call) -> Reply:
    return Reply(data=_store(call).read_metadata(_path(call)))


def write_metadata(call: Call) -> Reply:
    p = call.params
    if p.duration("delete_version_after", 0):
        raise bad_request("delete_version_after is not supported by this server")
    custom = p.raw("custom_metadata")
    if custom is not None and (
        not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values())
    ):
        raise bad_request("custom_metadata must map names to strings")
    _store(call).write_metadata(
        _path(call),
        max_versions=p.optional_integer("max_versions", minimum=0),
        cas_required=p.optional_boolean("cas_required"),
        custom_metadata=custom,
    )
    return Reply()


def delete_metadata(call: Call) -> Reply:
    _store(call).delete_metadata(_path(call))
    return Reply()


def list_metadata(call: Call) -> Reply:
    return list_reply(_store(call).list(_path(call)))


def secret_exists(call: Call) -> bool:
    try:
        _store(call).read_metadata(_path(call))
    except Exception:  # not found, or a path the handler itself will refuse with its own error
        return False
    return True


router = Router()
router.add("config", {"read": read_config, "update": write_config})
router.add(
    "data/(?P<path>.+)",
    {"read": read_data, "update": write_data, "patch": patch_data, "delete": delete_latest},
    exists=secret_exists,
)
router.add("delete/(?P<path>.+)", {"update": delete_versions})
router.add("undelete/(?P<path>.+)", {"update": undelete})
router.add("destroy/(?P<path>.+)", {"update": destroy})
router.add(
    "metadata(?:/(?P<path>.*))?",
    {"read": read_metadata, "update": write_metadata, "delete": delete_metadata, "list": list_metadata},
)
