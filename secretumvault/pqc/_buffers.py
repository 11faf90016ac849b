"""Argument checks shared by the pure-Python layers.

The native core does the same checks in C; these keep the fallback and the
engines giving the same exceptions for the same mistakes.
"""

from __future__ import annotations

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
