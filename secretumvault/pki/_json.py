"""The PKI engine's records in the shared tagged-JSON format (``_tagged_json``).

A thin adapter: every malformed record becomes :class:`CorruptRecord` naming
where it was read from, so a bad certificate record never passes for a key.
"""

from __future__ import annotations

import datetime
from typing import Any

from secretumvault.encoding import tagged_json
from secretumvault.errors import CorruptRecord

__all__ = ["b64decode", "b64encode", "dumps", "epoch", "loads", "require"]

b64encode = tagged_json.b64encode


def dumps(fmt: str, version: int, fields: dict[str, Any]) -> bytes:
    return tagged_json.dumps({**fields, "format": fmt, "version": version})


def loads(data: bytes, fmt: str, version: int, where: str) -> dict[str, Any]:
    """Parse a record written by :func:`dumps`; CorruptRecord naming ``where`` if it is not one."""
    try:
        return tagged_json.loads(data, fmt, version)
    except tagged_json.FormatError as exc:
        raise CorruptRecord(
            f"{where} is not a valid {fmt} record ({exc}); this release reads version {version}"
        ) from None
    except ValueError:  # an integer of more digits than Python converts (CVE-2020-10735 limit)
        raise CorruptRecord(f"{where} is not a valid {fmt} record: a number is out of range") from None


def require(obj: dict[str, Any], name: str, kind: type, where: str) -> Any:
    """``obj[name]`` if present and of type ``kind`` (a bool is not an int here)."""
    try:
        return tagged_json.require(obj, name, kind)
    except tagged_json.FormatError as exc:
        raise CorruptRecord(f"{where}: {exc}") from None


def b64decode(text: str, where: str) -> bytes:
    try:
        return tagged_json.b64decode(text)
    except tagged_json.FormatError as exc:
        raise CorruptRecord(f"{where}: {exc}") from None


def epoch(obj: dict[str, Any], name: str, where: str) -> datetime.datetime:
    """``obj[name]``, seconds since 1970, as a UTC datetime; CorruptRecord past what datetime holds."""
    seconds = require(obj, name, int, where)
    try:
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        raise CorruptRecord(f"{where}: field {name!r} is not a representable time") from None
