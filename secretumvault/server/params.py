"""Request parameters with Vault's typing rules.

Vault reads parameters "weakly": the ``vault`` CLI sends every value as a
string, so ``"true"`` is a bool and ``"10"`` an int; hvac sends real JSON
types. Both are accepted here, and anything else is a 400 that names the
parameter (never its value, which may be secret). Names a handler never
asked for are reported back as a warning, as Vault does.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from secretumvault.server.errors import bad_request

__all__ = ["Params", "parse_duration"]

_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_TRUE = frozenset({"true", "t", "1", "yes"})
_FALSE = frozenset({"false", "f", "0", "no", ""})
#: 100 years: longer durations are mistakes, and would overflow datetime arithmetic.
MAX_DURATION_SECONDS = 100 * 365 * 86400


def parse_duration(value: object, name: str) -> int:
    """Seconds from an int, ``"3600"``, ``"90m"`` or ``"1h30m"``; 400 naming ``name`` otherwise."""
    if isinstance(value, bool):
        raise bad_request(f'{name} must be a duration such as 3600, "90m" or "24h"')
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, float) and value.is_integer():
        seconds = int(value)
    elif isinstance(value, str) and value.isdigit() and len(value) <= 12:
        seconds = int(value)
    elif isinstance(value, str) and len(value) <= 64 and _DURATION.fullmatch(value):
        seconds = int(sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value)))
    else:
        raise bad_request(f'{name} must be a duration such as 3600, "90m" or "24h"')
    if not 0 <= seconds <= MAX_DURATION_SECONDS:
        raise bad_request(f"{name} must be a duration from 0 to 100 years")
    return seconds


class Params:
    """The parameters of one request: the JSON body over the query string."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)
        self._asked: set[str] = set()

    def __contains__(self, name: str) -> bool:
        self._asked.add(name)
        return self._values.get(name) is not None

    def raw(self, name: str) -> Any:
        self._asked.add(name)
        return self._values.get(name)

    def unused(self) -> list[str]:
        """Names given but never asked for (Vault warns about them)."""
        return sorted(set(self._values) - self._asked)

    def names(self) -> list[str]:
        return list(self._values)

    def as_dict(self) -> dict[str, Any]:
        """Every parameter as given (for the audit log, which hashes the values)."""
        return dict(self._values)

    def string(self, name: str, default: str = "", *, required: bool = False) -> str:
        value = self.raw(name)
        if value is None:
            if required:
                raise bad_request(f"missing {name}")
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise bad_request(f"{name} must be a string, not {_json_type(value)}")

    def integer(self, name: str, default: int = 0, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            raise bad_request(f"{name} must be an integer, not a boolean")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value):
            value = int(value)
        if not isinstance(value, int) or abs(value) > 2**63:
            raise bad_request(f"{name} must be an integer")
        if minimum is not None and value < minimum:
            raise bad_request(f"{name} must be at least {minimum}")
        return value

    def optional_integer(self, name: str, *, minimum: int | None = None) -> int | None:
        return None if name not in self else self.integer(name, minimum=minimum)

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise bad_request(f"{name} must be a boolean")

    def optional_boolean(self, name: str) -> bool | None:
        return None if name not in self else self.boolean(name)

    def string_list(self, name: str) -> list[str]:
        """A JSON list of strings, or one comma-separated string (Vault's CommaStringSlice)."""
        value = self.raw(name)
        if value is None:
            return []
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return [item.strip() for item in value if item.strip()]
        raise bad_request(f"{name} must be a list of strings or a comma-separated string")

    def duration(self, name: str, default: int = 0) -> int:
        value = self.raw(name)
        return default if value is None or value == "" else parse_duration(value, name)

    def optional_duration(self, name: str) -> int | None:
        return None if name not in self or self.raw(name) == "" else self.duration(name)

    def base64(self, name: str, *, required: bool = False) -> bytes:
        """Standard base64 (Vault's encoding of plaintexts and inputs); 400 if malformed."""
        value = self.raw(name)
        if value is not None and not isinstance(value, str):
            raise bad_request(f"{name} must be a base64 string, not {_json_type(value)}")
        return decode_base64(self.string(name, required=required), name)

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.raw(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise bad_request(f"{name} must be a JSON object")
        return value

    def items(self, name: str) -> list[dict[str, Any]] | None:
        """``batch_input``: a list of JSON objects, or None when absent."""
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise bad_request(f"{name} must be a list of JSON objects")
        if not value:
            raise bad_request(f"missing {name} to process")
        return value


def decode_base64(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"{name} is not valid base64") from None


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"
