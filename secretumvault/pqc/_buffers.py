"""Argument checks and refusals shared by the pure-Python layers and the native core.

The native core does the buffer checks in C; these keep the fallback and the
engines giving the same exceptions for the same mistakes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from secretumvault.errors import InvalidArgument, InvalidType

#: The fields of one ``verify_batch`` item.
VERIFY_ITEM = ("public_key", "signature", "message", "context")


def as_bytes(value: object, what: str) -> bytes:
    """Return ``value`` as ``bytes`` if it is a bytes-like object, else raise InvalidType.

    ``str`` is refused on purpose: silently encoding text would hide a bug.
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise InvalidType(f"{what} must be bytes, bytearray or memoryview, not {type(value).__name__}")


def refuse_pickle(obj: object) -> NoReturn:
    """What every key's pickle hook does: keys leave only through their explicit encodings."""
    raise InvalidType(
        f"{type(obj).__name__} is not picklable; serialise keys with to_bytes() or seed_bytes() "
        "and keep secret keys in the keystore"
    )


def describe(value: object) -> str:
    """How a message names a caller's value without showing it: the value may be a secret."""
    if isinstance(value, (bytes, bytearray, str)):
        return f"{type(value).__name__} of length {len(value)}"
    if isinstance(value, memoryview):
        return f"memoryview of {value.nbytes} bytes"
    return type(value).__name__


def shown_name(value: object) -> str:
    """An algorithm or backend name as a message shows it: a short name verbatim, anything else described."""
    if isinstance(value, str) and len(value) <= 40 and value.isprintable():
        return repr(value)
    return describe(value)


def as_list(items: object, what: str) -> list[Any]:
    """The items of a batch argument, refusing bytes-like and text (a key or message is not a batch)."""
    if isinstance(items, (bytes, bytearray, memoryview, str)) or not isinstance(items, Iterable):
        raise InvalidType(f"{what} must be a list of items, not {describe(items)}")
    return list(items)


def as_item(item: object, index: int, fields: tuple[str, ...]) -> tuple[Any, ...]:
    """One batch item: a tuple (or list) with exactly ``fields``."""
    if not isinstance(item, (tuple, list)) or len(item) != len(fields):
        raise InvalidArgument(f"item {index}: expected ({', '.join(fields)}), not {describe(item)}")
    return tuple(item)
