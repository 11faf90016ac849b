"""HMAC keys: HMAC-SHA256 over the data, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

from secretumvault.errors import InvalidSignature

__all__ = ["HmacKey"]


class HmacKey:
    __slots__ = ("_key", "_label")

    def __init__(self, key: bytes, label: str) -> None:
        self._key = key
        self._label = label

    def compute(self, data: bytes) -> bytes:
        return hmac.digest(self._key, data, hashlib.sha256)

    def verify(self, tag: bytes, data: bytes) -> None:
        if not hmac.compare_digest(self.compute(data), tag):
            raise InvalidSignature(f"HMAC does not verify under {self._label}")

    def __repr__(self) -> str:
        return f"<HmacKey {self._label}>"
