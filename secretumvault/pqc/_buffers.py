"""Argument checks and refusals shared by the pure-Python layers and the native core.

The native core does the buffer checks in C; these keep the fallback and the
engines giving the same exceptions for the same mistakes.
"""

from __future__ import annotations

from typing import NoReturn

from secretumvault.errors import InvalidType


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
