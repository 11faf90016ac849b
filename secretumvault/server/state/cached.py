"""One keystore record (the mount table, the audit table), parsed once and proved current before each use.

Several server processes may share one store, and a change any of them makes
to the mount or audit table must be seen by every process on its next
request: a request must never reach a disabled mount or go unlogged after an
audit device was enabled elsewhere. So, as ``fresh.py`` does for tokens and
policies, each :meth:`CachedRecord.get` proves the parsed value current:

1. the keystore's change counter (read before the record was) is unchanged: no
   process committed anything since;
2. otherwise the record's version is unchanged (one indexed read);
3. otherwise the record is read and parsed again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from secretumvault.errors import ConflictError, KeyNotFound
from secretumvault.keystore import Keystore

__all__ = ["CachedRecord"]

T = TypeVar("T")


class _Parsed(Generic[T]):
    __slots__ = ("counter", "value", "version")

    def __init__(self, value: T, version: int | None, counter: int | None) -> None:
        self.value = value
        self.version = version  # None: the record is absent
        self.counter = counter


class CachedRecord(Generic[T]):
    def __init__(self, keystore: Keystore, path: str, parse: Callable[[bytes | None], T]) -> None:
        self._keystore = keystore
        self._path = path
        self._parse = parse
        self._lock = threading.Lock()
        self._held: _Parsed[T] | None = None

    def get(self) -> tuple[T, int | None]:
        """The parsed record (parse(None) when absent) and its version, for a compare-and-set."""
        keystore = self._keystore
        held = self._held
        counter = keystore.change_counter()
        if held is not None:
            if counter is not None and counter == held.counter:
                return held.value, held.version
            if keystore.record_version(self._path) == held.version:
                held.counter = counter  # read before the version: the pair is consistent
                return held.value, held.version
        try:
            entry = keystore.get_entry(self._path)
            raw, version = entry.value, entry.version
        except KeyNotFound:
            raw, version = None, None
        parsed = _Parsed(self._parse(raw), version, counter)
        with self._lock:
            self._held = parsed
        return parsed.value, parsed.version

    def store(self, expected_version: int | None, raw: bytes) -> bool:
        """Replace the record by compare-and-set: True if stored, False if it changed since
        ``expected_version`` was read (then read it again). Either way the next :meth:`get` reads it."""
        try:
            self._keystore.cas(self._path, expected_version, raw)
            return True
        except ConflictError:
            return False
        finally:
            self.invalidate()

    def invalidate(self) -> None:
        """Read the record again on the next use (after this process changed it)."""
        with self._lock:
            self._held = None

    clear = invalidate  # on seal: nothing of the store is kept
