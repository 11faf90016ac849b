"""What the transit and PKCS#11 seals share: their ``[seal]`` table's keys, and the purpose binding.

Not every transit key type nor RFC 5649 key wrap takes associated data, so both
wrap SHA-256(associated data) || KEK and check that prefix on the way back: a
wrapped key cannot be replayed in another role.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

from secretumvault.errors import ConfigError, UnsealError

__all__ = ["bind_purpose", "check_table", "unbind_purpose"]

_DIGEST = 32


def check_table(
    table: Mapping[str, Any], seal_type: str, keys: Iterable[str], required: Iterable[str], source: str
) -> None:
    """ConfigError for a key the seal does not know or a required one missing."""
    known = (*keys, "type", "disabled")
    for key in table:
        if key not in known:
            raise ConfigError(f'{source}: unknown key [seal] {key} for type = "{seal_type}"')
    for key in required:
        if key not in table:
            raise ConfigError(f'{source}: [seal] type = "{seal_type}" needs {key}')


def bind_purpose(plaintext: bytes, associated_data: bytes) -> bytes:
    """What is wrapped: SHA-256(associated data) || plaintext."""
    return hashlib.sha256(associated_data).digest() + plaintext


def unbind_purpose(data: bytes, associated_data: bytes, seal: str) -> bytes:
    """The plaintext of :func:`bind_purpose`'s output; UnsealError (naming ``seal``) if it was
    bound to other associated data."""
    if len(data) < _DIGEST or not hmac.compare_digest(
        data[:_DIGEST], hashlib.sha256(associated_data).digest()
    ):
        raise UnsealError(f"{seal} unwrapped a key made for another purpose; still sealed")
    return data[_DIGEST:]
