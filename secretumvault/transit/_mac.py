"""HMAC keys: HMAC-SHA256 over the data (RFC 2104, on hashlib), compared in constant time."""

from __future__ import annotations

import hmac

from secretumvault.errors import InvalidSignature
from secretumvault.transit._kdf import HmacSha256

__all__ = ["HmacKey"]


class HmacKey:
    __slots__ = ("_label", "_mac")

    def __init__(self, key: bytes, label: str) -> None:
        self._mac = HmacSha256(key)  # the key's HMAC states, made once per key version
        self._label = label

    def compute(self, data: bytes) -> bytes:
        return self._mac.digest(data)

    def verify(self, tag: bytes, data: bytes) -> None:
        if not hmac.compare_digest(self.compute(data), tag):
            raise InvalidSignature(f"HMAC does not verify under {self._label}")

    def __repr__(self) -> str:
        return f"<HmacKey {self._label}>"
