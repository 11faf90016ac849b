"""Canonical, tagged JSON records for what the PKI engine keeps in the keystore.

Every record names its ``format`` and ``version`` so that a key can never be
read as a certificate (or a newer layout as an older one); nothing is pickled.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..errors import CorruptRecord

__all__ = ["b64decode", "b64encode", "dumps", "loads", "require"]


def dumps(fmt: str, version: int, fields: dict[str, Any]) -> bytes:
    return json.dumps(
        {**fields, "format": fmt, "version": version}, sort_keys=True, separators=(",", ":")
    ).encode()


def loads(data: bytes, fmt: str, version: int, where: str) -> dict[str, Any]:
    """Parse a record written by :func:`dumps`; CorruptRecord naming ``where`` if it is not one."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CorruptRecord(f"{where} is not a JSON record") from None
    if not isinstance(obj, dict) or obj.get("format") != fmt:
        raise CorruptRecord(f"{where} is not a {fmt} record")
    if obj.get("version") != version:
        raise CorruptRecord(f"{where} has {fmt} version {obj.get('version')!r}; this release reads {version}")
    return obj


def require(obj: dict[str, Any], name: str, kind: type, where: str) -> Any:
    """``obj[name]`` if present and of type ``kind`` (a bool is not an int here)."""
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CorruptRecord(f"{where}: field {name!r} is missing or not {kind.__name__}")
    return value


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise CorruptRecord(f"{where}: bad base64") from None
