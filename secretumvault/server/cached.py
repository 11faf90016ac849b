"""One keystore record read through a short-lived cache, parsed only when its bytes change.

Several server processes may share one store; each reads the shared tables
(mounts, audit devices) at most every ``ttl`` seconds, and at once after it
changes them itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from secretumvault.errors import KeyNotFound
from secretumvault.keystore import Keystore

__all__ = ["CachedRecord"]

T = TypeVar("T")


class CachedRecord(Generic[T]):
    def __init__(self, keystore: Keystore, path: str, parse: Callable[[bytes | None], T], ttl: float) -> None:
        self._keystore = keystore
        self._path = path
        self._parse = parse
        self._ttl = ttl
        self._lock = threading.Lock()
        self._raw: bytes | None = None
        self._value: T | None = None
        self._version: int | None = None
        self._read_at = -1e18

    def get(self) -> tuple[T, int | None]:
        """The parsed record (parse(None) when absent) and its version, for a compare-and-set."""
        with self._lock:
            if self._value is not None and time.monotonic() - self._read_at < self._ttl:
                return self._value, self._version
        try:
            entry = self._keystore.get_entry(self._path)
            raw, version = entry.value, entry.version
        except KeyNotFound:
            raw, version = None, None
        with self._lock:
            if self._value is None or raw != self._raw or version != self._version:
                self._value, self._raw, self._version = self._parse(raw), raw, version
            self._read_at = time.monotonic()
            return self._value, self._version

    def invalidate(self) -> None:
        with self._lock:
            self._read_at = -1e18

    def clear(self) -> None:
        """Forget everything (on seal)."""
        with self._lock:
            self._raw, self._value, self._version, self._read_at = None, None, None, -1e18
