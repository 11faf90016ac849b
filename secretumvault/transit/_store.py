"""Reading and writing transit key records through the keystore.

Every change is read -> new record -> compare-and-set, retried when another
writer got there first, so concurrent rotations never lose one another and a
call that fails before its write leaves the stored record exactly as it was.

Parsed records, and the key objects built from them, are cached per key and
reused while the stored record is byte-for-byte the one they came from. With
``cache_ttl=0`` (the default) every operation reads the record, so changes
made by other processes take effect at once. With ``cache_ttl > 0`` a cached
record is used for up to that many seconds without reading storage: faster,
but another process's rotation, reconfiguration, trim or deletion is seen
only after the TTL (this process's own changes are seen at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from secretumvault.errors import (
    ConflictError,
    CorruptRecord,
    InvalidKey,
    KeyNotFound,
    SealedError,
    UnsupportedAlgorithm,
)
from secretumvault.keystore import Entry, Keystore
from secretumvault.transit._kem_cipher import KemCipher
from secretumvault.transit._mac import HmacKey
from secretumvault.transit._names import check_key_name, key_prefix
from secretumvault.transit._operators import Operator, build_operator
from secretumvault.transit._record import KeyRecord
from secretumvault.transit._signers import EcdsaP256Signer, Ed25519Signer, PqcSigner, Signer
from secretumvault.transit._symmetric import SymmetricCipher

__all__ = ["LoadedKey", "RecordStore"]

_UPDATE_ATTEMPTS = 16


@dataclass
class LoadedKey:
    """A record as read, and the operation objects built from it on demand."""

    record: KeyRecord
    raw: bytes = field(repr=False)
    backend: str | None
    loaded_at: float
    _operators: dict[int, Operator] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def operator(self, version: int) -> Operator:
        with self._lock:
            found = self._operators.get(version)
            if found is None:
                record = self.record
                try:
                    found = build_operator(
                        record.spec, record.name, version, record.versions[version].material, self.backend
                    )
                except InvalidKey as exc:
                    # The record authenticated, so this is damage or a bug, not a bad argument.
                    raise CorruptRecord(
                        f"transit key {record.name!r} version {version} is unusable: {exc}"
                    ) from None
                self._operators[version] = found
            return found

    def cipher(self, version: int) -> SymmetricCipher | KemCipher:
        found = self.operator(version)
        if not isinstance(found, (SymmetricCipher, KemCipher)):
            raise _wrong_purpose(self.record, "encryption")
        return found

    def signer(self, version: int) -> Signer:
        found = self.operator(version)
        if not isinstance(found, (Ed25519Signer, EcdsaP256Signer, PqcSigner)):
            raise _wrong_purpose(self.record, "signing")
        return found

    def hmac_key(self, version: int) -> HmacKey:
        found = self.operator(version)
        if not isinstance(found, HmacKey):
            raise _wrong_purpose(self.record, "HMAC")
        return found


def _wrong_purpose(record: KeyRecord, operation: str) -> UnsupportedAlgorithm:
    return UnsupportedAlgorithm(
        f"transit key {record.name!r} is of type {record.spec.name}, which does not do {operation}"
    )


class RecordStore:
    """Transit key records in a keystore, with the cache described in the module docstring."""

    def __init__(self, keystore: Keystore, backend: str | None, cache_ttl: float, mount: str) -> None:
        self._keystore = keystore
        self._prefix = key_prefix(mount)
        self._backend = backend
        self._cache_ttl = cache_ttl
        self._cache: dict[str, LoadedKey] = {}
        self._lock = threading.Lock()

    def load(self, name: str) -> LoadedKey:
        """The key's current record; KeyNotFound if there is no such key."""
        path = self._key_path(name)
        self._require_unsealed()
        cached = self._cache.get(name)
        if (
            cached is not None
            and self._cache_ttl > 0
            and time.monotonic() - cached.loaded_at < self._cache_ttl
        ):
            return cached
        entry = self._get_entry(name, path)
        if cached is not None and cached.raw == entry.value:
            cached.loaded_at = time.monotonic()
            return cached
        loaded = LoadedKey(self._decode(name, entry.value), entry.value, self._backend, time.monotonic())
        with self._lock:
            self._cache[name] = loaded
        return loaded

    def create(self, record: KeyRecord, *, replace: bool = False) -> None:
        """Write a new key; ConflictError if one of that name exists (unless ``replace``)."""
        path = self._key_path(record.name)
        encoded = record.encode()
        if replace:
            self._keystore.put(path, encoded)
        else:
            try:
                self._keystore.cas(path, None, encoded)
            except ConflictError:
                raise ConflictError(f"a transit key named {record.name!r} already exists") from None
        self._remember(record, encoded)

    def update(self, name: str, change: Callable[[KeyRecord], KeyRecord]) -> KeyRecord:
        """Apply ``change`` to the current record and write it back with compare-and-set.

        If ``change`` raises, nothing is written. Retried while other writers interfere.
        """
        path = self._key_path(name)
        for _ in range(_UPDATE_ATTEMPTS):
            entry = self._get_entry(name, path)
            record = change(self._decode(name, entry.value))
            encoded = record.encode()
            try:
                self._keystore.cas(path, entry.version, encoded)
            except ConflictError:
                continue
            self._remember(record, encoded)
            return record
        raise ConflictError(f"transit key {name!r} kept changing under other writers; try again")

    def delete(self, name: str, check: Callable[[KeyRecord], None]) -> None:
        """Delete the key after ``check`` accepts its current record."""
        path = self._key_path(name)
        entry = self._get_entry(name, path)
        check(self._decode(name, entry.value))
        # Compare-and-delete: a change made after the check (say, deletion
        # forbidden again) makes this a ConflictError instead of being lost.
        self._forget(name)
        try:
            self._keystore.delete(path, expected_version=entry.version)
        except KeyNotFound:
            raise KeyNotFound(f"transit key {name!r} does not exist") from None

    def names(self) -> list[str]:
        return [path[len(self._prefix) :] for path in self._keystore.list(self._prefix)]

    # -- helpers ------------------------------------------------------------------------------

    def _key_path(self, name: str) -> str:
        return self._prefix + check_key_name(name)

    def _require_unsealed(self) -> None:
        if self._keystore.sealed:
            # Sealing must also end access through cached key objects.
            with self._lock:
                self._cache.clear()
            raise SealedError("the keystore is sealed: unseal it with unseal() or unseal_share() first")

    def _get_entry(self, name: str, path: str) -> Entry:
        try:
            return self._keystore.get_entry(path)
        except KeyNotFound:
            self._forget(name)
            raise KeyNotFound(f"transit key {name!r} does not exist") from None
        except SealedError:
            with self._lock:
                self._cache.clear()
            raise

    def _decode(self, name: str, raw: bytes) -> KeyRecord:
        record = KeyRecord.decode(raw, where=f"transit key {name!r}")
        if record.name != name:
            raise CorruptRecord(f"the record of transit key {name!r} names another key")
        return record

    def _remember(self, record: KeyRecord, encoded: bytes) -> None:
        loaded = LoadedKey(record, encoded, self._backend, time.monotonic())
        with self._lock:
            self._cache[record.name] = loaded

    def _forget(self, name: str) -> None:
        with self._lock:
            self._cache.pop(name, None)
