"""Canonical, tagged JSON: how the keystore, transit and PKI keep records (never pickle).

Every record names its ``format`` and ``version``, so one kind of record can
never be read as another, or a newer layout as an older one. The encoding is
canonical (sorted keys, no spaces) because some of these bytes are used as
associated data and must come out identical every time they are encoded.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

__all__ = ["FormatError", "b64decode", "b64encode", "check_tags", "dumps", "loads", "require"]


class FormatError(Exception):
    """Internal: a record is not what its format says. Callers map it to a public error
    (CorruptRecord, InvalidArgument, ...) that names the record."""


def dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def loads(data: bytes, fmt: str, version: int) -> dict[str, Any]:
    """Parse a JSON object and check its ``format`` and ``version`` tags."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FormatError("not JSON") from None
    if not isinstance(obj, dict):
        raise FormatError("not a JSON object")
    check_tags(obj, fmt, version)
    return obj


def check_tags(obj: dict[str, Any], fmt: str, version: int) -> None:
    if obj.get("format") != fmt:
        raise FormatError(f"format is not {fmt!r}")
    found = obj.get("version")
    if type(found) is not int or found != version:  # True == 1, but is no version number
        raise FormatError(f"unsupported {fmt} version {found!r}")


def require(obj: dict[str, Any], name: str, kind: type) -> Any:
    """``obj[name]`` if present and of type ``kind`` (a bool is not an int here)."""
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FormatError(f"field {name!r} is missing or not {kind.__name__}")
    return value


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise FormatError("bad base64") from None
