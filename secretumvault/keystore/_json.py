"""Canonical JSON for the keystore's envelopes (never pickle).

Canonical (sorted keys, no spaces) because some of these bytes are used as
associated data and must come out identical every time they are encoded.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

__all__ = ["EnvelopeError", "b64decode", "b64encode", "dumps", "loads", "require"]


class EnvelopeError(Exception):
    """Internal: an envelope is not what its format says. Callers map it."""


def dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def loads(data: bytes, fmt: str, version: int) -> dict[str, Any]:
    """Parse an envelope and check its ``format`` and ``version`` tags."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError("not a JSON envelope") from exc
    if not isinstance(obj, dict):
        raise EnvelopeError("not a JSON object")
    if obj.get("format") != fmt:
        raise EnvelopeError(f"format is not {fmt!r}")
    if obj.get("version") != version:
        raise EnvelopeError(f"unsupported {fmt} version {obj.get('version')!r}")
    return obj


def require(obj: dict[str, Any], name: str, kind: type) -> Any:
    """Return ``obj[name]`` if present and of type ``kind`` (bool is not an int here)."""
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise EnvelopeError(f"field {name!r} is missing or not {kind.__name__}")
    return value


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise EnvelopeError("bad base64") from exc
