"""A kv version 2 mount: Vault's ``data``, ``metadata``, ``delete``, ``undelete``, ``destroy``, ``config``."""

from __future__ import annotations

import re
from typing import Any

from secretumvault.server.envelope import Reply, list_reply
from secretumvault.server.errors import bad_request
from secretumvault.server.params import Params, parse_duration
from secretumvault.server.routing import Call, Router
from secretumvault.server.state.kv_store import KvStore

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
    """``options.cas``, read weakly as Vault does: any integer, also as a string. One that
    no version can have (-1) is not refused here: it fails the check with Vault's message."""
    options = p.mapping("options")
    value = options.get("cas")
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)  # Go's weak decoding: true is 1
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[-+]?[0-9]{1,18}", value.strip()):
        value = int(value)
    if not isinstance(value, int):
        raise bad_request("error parsing check-and-set parameter")
    return value


def _mount_delete_after(p: Params) -> int | None:
    """The mount's ``delete_version_after``: a duration, or negative to turn it off (Vault's -1s)."""
    value = p.raw("delete_version_after")
    if value is None or value == "":
        return None
    if (isinstance(value, int) and not isinstance(value, bool) and value < 0) or (
        isinstance(value, str) and value.startswith("-")
    ):
        parse_duration(value[1:] if isinstance(value, str) else -value, "delete_version_after")
        return -1
    return parse_duration(value, "delete_version_after")


def _data(p: Params) -> dict[str, Any]:
    data = p.raw("data")
    if not isinstance(data, dict):
        raise bad_request("data must be a JSON object")
    return data


def _refuse_metadata_cas(p: Params) -> None:
    """Vault >= 1.19's metadata check-and-set is not served: refused, never silently ignored."""
    for name in ("metadata_cas", "metadata_cas_required"):
        if p.raw(name) not in (None, False, "false", "", 0):
            raise bad_request(f"{name} is not supported by this server")


def read_config(call: Call) -> Reply:
    return Reply(data=_store(call).read_config())


def write_config(call: Call) -> Reply:
    p = call.params
    _refuse_metadata_cas(p)
    _store(call).set_config(
        p.optional_integer("max_versions", minimum=0),
        p.optional_boolean("cas_required"),
        _mount_delete_after(p),
    )
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
    _refuse_metadata_cas(p)
    delete_after = p.optional_duration("delete_version_after")
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
        delete_version_after=delete_after,
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
