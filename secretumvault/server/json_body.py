"""Request bodies: strict JSON (RFC 8259) within the listener's limits, as Vault's listener sets them.

``NaN``, ``Infinity`` and numbers that overflow to them are not JSON and are
refused, so nothing stored can later be echoed as invalid JSON. The body must be
UTF-8, as Go's decoder (Vault's) requires: decoded strictly, so neither UTF-16
nor the bytes of an encoded surrogate (``ED A0 80``) get through, which
``json.loads`` of bytes would let pass. A string with an unpaired UTF-16
surrogate spelled as an escape (``"\\ud800"``, valid JSON text) is refused too:
Python would keep it in a str that no UTF-8 can hold, and the first handler to
hash or store it would fail (Go's decoder never yields one). The limits
(Vault's names and defaults) bound the depth, each string, each object and
each array, so everything behind the parser sees only documents it can walk
without deep recursion or unbounded work. Every refusal is a 400 that says
which limit was crossed, never what the body held.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from secretumvault.server.errors import bad_request

__all__ = ["JsonLimits", "parse_json_object"]


@dataclass(frozen=True)
class JsonLimits:
    max_json_depth: int = 500
    max_json_string_value_length: int = 1024 * 1024  # bytes of UTF-8
    max_json_object_entry_count: int = 10_000
    max_json_array_element_count: int = 10_000


_DEFAULT = JsonLimits()


#: A \u escape of a UTF-16 surrogate; only a body holding one can hold an unpaired one (a raw
#: surrogate is not UTF-8, and the parser refuses it).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses as inf: not a JSON number any more
        raise ValueError("number out of range")
    return value


#: One decoder for every body (json.loads with these options would build one per call).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite)


def parse_json_object(body: bytes, limits: JsonLimits = _DEFAULT) -> dict[str, Any]:
    """The body as a JSON object; ``{}`` for an empty body or ``null`` (Vault: no data)."""
    if not body.strip():
        return {}
    try:
        document = _DECODER.decode(body.decode("utf-8"))
    except RecursionError:
        raise bad_request(f"failed to parse JSON input: nested deeper than {limits.max_json_depth}") from None
    except ValueError:  # also UnicodeDecodeError (not UTF-8), and integers past Python's digit limit
        raise bad_request("failed to parse JSON input: the body is not valid JSON") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise bad_request("failed to parse JSON input: the body must be a JSON object")
    check_limits(document, limits)
    if _SURROGATE_ESCAPE.search(body):  # a pair parses to one character: only a lone one is refused
        _refuse_lone_surrogates(document)
    return document


def _refuse_lone_surrogates(document: object) -> None:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise bad_request(
                        "failed to parse JSON input: a string holds an unpaired UTF-16 surrogate"
                    ) from None
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def check_limits(document: object, limits: JsonLimits = _DEFAULT) -> None:
    """400 if ``document`` crosses a limit; walked with a stack, never by recursion."""
    string_limit = limits.max_json_string_value_length
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            # A character is at most 4 bytes: encode only strings that might be too long.
            if len(value) * 4 > string_limit and len(value.encode("utf-8", "surrogatepass")) > string_limit:
                raise bad_request(f"JSON string value longer than {string_limit} bytes")
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > limits.max_json_depth:
            raise bad_request(f"JSON input nested deeper than {limits.max_json_depth} levels")
        if isinstance(value, dict):
            if len(value) > limits.max_json_object_entry_count:
                raise bad_request(f"JSON object with more than {limits.max_json_object_entry_count} entries")
            for key, item in value.items():
                stack.append((key, depth))
                stack.append((item, depth + 1))
        else:
            if len(value) > limits.max_json_array_element_count:
                raise bad_request(f"JSON array with more than {limits.max_json_array_element_count} elements")
            stack.extend((item, depth + 1) for item in value)
