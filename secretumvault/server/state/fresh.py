"""Decoded keystore records (tokens, policies) kept in memory and never used stale.

Every request reads its token, and a token with policies reads each policy:
each read decrypts the record and checks the keystore's rollback index, and
the token or policy is then parsed again. This cache keeps the decoded value
and, before each use, proves it current as the transit key cache does
(``secretumvault/transit/_store.py``):

1. the storage's change counter (``Keystore.change_counter``), read before the
   record was, is unchanged: nothing was committed since, by any process;
2. otherwise the record's version (``Keystore.record_version``, one indexed
   read; on PostgreSQL the only check) equals the cached one: versions are
   never reused, so the record is the same;
3. otherwise the record is read and decoded again (gone: None).

So a token revoked, renewed or a policy changed by another process sharing
the store is seen by the very next request here. Expiry is not the cache's
business: callers check a token's expiry time on every use. Entries are keyed
by record path (for tokens that path holds the token's hash, never the token),
at most ``limit`` of them, oldest dropped first; sealing empties the cache
(``Keystore.add_seal_listener``), and a read that began before a seal is not
kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from secretumvault.errors import KeyNotFound, SealedError
from secretumvault.keystore import Keystore

__all__ = ["FreshRecords"]

T = TypeVar("T")


class _Held(Generic[T]):
    __slots__ = ("counter", "value", "version")

    def __init__(self, value: T, version: int, counter: int | None) -> None:
        self.value = value
        self.version = version  # the keystore version of the record the value came from
        self.counter = counter  # the change counter read before that record, or None


class FreshRecords(Generic[T]):
    """``get(path)``: the decoded record at ``path`` (None if absent), read only when it changed."""

    def __init__(self, keystore: Keystore, decode: Callable[[str, bytes], T], limit: int) -> None:
        if limit < 1:
            raise ValueError("the cache must hold at least one record")
        self._keystore = keystore
        self._decode = decode
        self._limit = limit
        self._held: dict[str, _Held[T]] = {}
        self._lock = threading.Lock()
        self._seals = 0  # bumped by every seal: a read that began before one is not kept
        keystore.add_seal_listener(self)

    def __len__(self) -> int:
        return len(self._held)

    def paths(self) -> list[str]:
        """The paths held now (for tests: they must never hold a secret)."""
        with self._lock:
            return list(self._held)

    def keystore_sealed(self) -> None:
        with self._lock:
            self._seals += 1
            self._held.clear()

    clear = keystore_sealed

    def get(self, path: str) -> T | None:
        keystore = self._keystore
        try:
            held = self._held.get(path)
            if held is None:
                return self._read(path, keystore.change_counter())
            counter = keystore.change_counter()
            if counter is not None and counter == held.counter:
                return held.value
            version = keystore.record_version(path)
        except SealedError:
            self.keystore_sealed()
            raise
        if version is not None and version == held.version:
            held.counter = counter  # read before the version: the pair is consistent
            return held.value
        return self._read(path, counter)  # changed or deleted: get_entry tells which

    def forget(self, path: str) -> None:
        with self._lock:
            self._held.pop(path, None)

    def _read(self, path: str, counter: int | None) -> T | None:
        """Read, decode and keep the record; ``counter`` must have been read before it."""
        seals = self._seals
        try:
            entry = self._keystore.get_entry(path)
        except KeyNotFound:
            self.forget(path)
            return None
        except SealedError:
            self.keystore_sealed()
            raise
        value = self._decode(path, entry.value)
        with self._lock:
            if seals == self._seals and not self._keystore.sealed:
                held = self._held
                held.pop(path, None)
                while len(held) >= self._limit:
                    del held[next(iter(held))]
                held[path] = _Held(value, entry.version, counter)
        return value
