"""The storage interface under the keystore: five operations on opaque bytes.

A storage backend keeps ``path -> (value, revision)``. It never sees plaintext:
the barrier encrypts every value before it gets here. ``revision`` is a number
the backend assigns on every write, strictly increasing across the whole store
(not per path), so a path that is deleted and re-created never reuses an old
revision and a compare-and-set can never be fooled by such an ABA sequence.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["Storage", "StoredValue"]


@dataclass(frozen=True)
class StoredValue:
    """One stored record: the raw (already encrypted) value and its revision."""

    value: bytes = field(repr=False)
    revision: int


@runtime_checkable
class Storage(Protocol):
    """What the keystore needs from a database. Every write is atomic."""

    def get(self, path: str) -> StoredValue | None:
        """Return the record at ``path``, or None if there is none."""
        ...

    def put(self, path: str, value: bytes) -> int:
        """Create or replace the record at ``path``; return its new revision."""
        ...

    def cas(self, path: str, expected_revision: int | None, value: bytes) -> int:
        """Write ``value`` only if the record's revision is ``expected_revision``.

        ``None`` means "only if no record exists". Returns the new revision;
        raises :class:`~secretumvault.errors.ConflictError` (and writes nothing)
        when the record is not at the expected revision.
        """
        ...

    def delete(self, path: str) -> bool:
        """Remove the record at ``path``; return whether there was one."""
        ...

    def list(self, prefix: str) -> builtins.list[str]:
        """Return every stored path starting with ``prefix``, sorted."""
        ...

    def close(self) -> None:
        """Release connections. The object must not be used afterwards."""
        ...
