"""The storage interface under the keystore: a few operations on opaque bytes.

A storage backend keeps ``path -> (value, revision)``. It never sees plaintext:
the barrier encrypts every value before it gets here. ``revision`` is a number
the backend assigns on every write, strictly increasing across the whole store
(not per path), so a path that is deleted and re-created never reuses an old
revision and a compare-and-set can never be fooled by such an ABA sequence.

Besides single-record operations, a backend offers a consistent read of
several records (:meth:`Storage.get_many`) and an all-or-nothing write of
several (:meth:`Storage.apply`): the keystore moves a record and its index
entries together with these, so no crash or race leaves them out of step.
"""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from secretumvault._frozen import Frozen, set_field
from secretumvault.errors import InvalidArgument, InvalidType

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_POOL_TIMEOUT",
    "ChangeTracking",
    "Storage",
    "StoredValue",
    "Write",
    "check_pool_settings",
    "check_writes",
    "prefix_upper_bound",
]

#: Connections per storage object (``[storage] max_connections``). Above the cores of a
#: typical host, so reads on many threads rarely wait (SQLite in WAL mode and PostgreSQL
#: serve them in parallel; writes queue on one lock either way), and far below the
#: server's 40 worker threads and PostgreSQL's default max_connections of 100, so several
#: servers can share one database. SQLite spends 3 descriptors on each.
DEFAULT_MAX_CONNECTIONS = 16
#: Seconds a call waits for a free connection before StorageBusy (``[storage] pool_timeout``).
#: A store operation holds a connection for milliseconds, so a burst of a few hundred
#: requests clears well within it; and a client sees 503 + Retry-After long before its own
#: timeout (30 s in hvac, 60 s in Vault's CLI) would fire.
DEFAULT_POOL_TIMEOUT = 5.0
_MAX_CONNECTIONS_LIMIT = 1000
_MAX_POOL_TIMEOUT = 3600.0
_LAST_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def check_pool_settings(max_connections: object, pool_timeout: object) -> None:
    """InvalidArgument/InvalidType unless 1 <= max_connections <= 1000 and 0 < pool_timeout <= 3600."""
    if type(max_connections) is not int:
        raise InvalidType(f"max_connections must be an int, not {type(max_connections).__name__}")
    if not 1 <= max_connections <= _MAX_CONNECTIONS_LIMIT:
        raise InvalidArgument(
            f"max_connections must be from 1 to {_MAX_CONNECTIONS_LIMIT}, not {max_connections}"
        )
    if type(pool_timeout) not in (int, float):
        raise InvalidType(f"pool_timeout must be a number of seconds, not {type(pool_timeout).__name__}")
    assert isinstance(pool_timeout, (int, float))
    if not 0 < pool_timeout <= _MAX_POOL_TIMEOUT:
        raise InvalidArgument(f"pool_timeout must be above 0 and at most {_MAX_POOL_TIMEOUT:g} seconds")


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (None: there is none).

    So ``prefix <= path < bound`` is "path starts with prefix" as an index range,
    in code point order (which is UTF-8 byte order: SQLite's BINARY collation,
    PostgreSQL's "C"). Trailing U+10FFFF cannot be raised and are dropped; the
    next code point after U+D7FF is U+E000, as surrogates are not text. The empty
    prefix, or one of only U+10FFFF, has no bound: every path above it matches.
    """
    stem = prefix.rstrip(chr(_LAST_CODE_POINT))
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    if following in _SURROGATES:
        following = _SURROGATES.stop
    return stem[:-1] + chr(following)


class StoredValue(Frozen):
    """One stored record: the raw (already encrypted) value and its revision."""

    __slots__ = _fields = ("value", "revision")
    _secret_fields = ("value",)
    value: bytes
    revision: int

    def __init__(self, value: bytes, revision: int) -> None:
        set_field(self, "value", value)
        set_field(self, "revision", revision)


class Write(Frozen):
    """One change within :meth:`Storage.apply`.

    ``expected_revision`` is the revision the record must be at (None: it must
    not exist); ``value`` None deletes the record, which must then exist.
    """

    __slots__ = _fields = ("path", "expected_revision", "value")
    _secret_fields = ("value",)
    path: str
    expected_revision: int | None
    value: bytes | None

    def __init__(self, path: str, expected_revision: int | None, value: bytes | None = None) -> None:
        set_field(self, "path", path)
        set_field(self, "expected_revision", expected_revision)
        set_field(self, "value", value)


def check_writes(writes: Sequence[Write]) -> builtins.list[Write]:
    """The writes in path order (so concurrent transactions lock rows in one order); each path once."""
    ordered = sorted(writes, key=lambda write: write.path)
    for before, after in itertools.pairwise(ordered):
        if before.path == after.path:
            raise InvalidArgument(f"apply() was given path {before.path!r} twice")
    for write in ordered:
        if write.value is None and write.expected_revision is None:
            raise InvalidArgument(f"apply() cannot delete {write.path!r} while expecting it absent")
    return ordered


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

    # -- compare-and-delete, consistent multi-record reads, atomic multi-record writes -------------

    def delete_if(self, path: str, expected_revision: int) -> None:
        """Remove the record only if it is at ``expected_revision``.

        Raises :class:`~secretumvault.errors.ConflictError` (and deletes nothing)
        when the record is absent or at another revision.
        """
        ...

    def get_many(self, paths: Sequence[str]) -> dict[str, StoredValue]:
        """The records at ``paths`` that exist, all as of one moment (one consistent snapshot)."""
        ...

    def apply(self, writes: Sequence[Write]) -> builtins.list[int | None]:
        """Make every change in ``writes`` or none of them, atomically.

        Each :class:`Write` is a compare-and-set (or compare-and-delete) of one
        path; a path may appear once. Returns each write's new revision (None
        for a delete), in the order given. If any record is not at its expected
        revision, raises :class:`~secretumvault.errors.ConflictError` and
        changes nothing.
        """
        ...


@runtime_checkable
class ChangeTracking(Protocol):
    """Optional, for caches: cheap ways to tell that a record read earlier is still current.

    Both answers must reflect every write committed before the call, by any
    process; a cache may then keep a record while they say it did not change.
    """

    def revision(self, path: str) -> int | None:
        """The revision of the record at ``path`` (None if there is none), without reading its value."""
        ...

    def change_counter(self) -> int | None:
        """A number that changes whenever any record may have changed; None if this backend cannot
        tell more cheaply than :meth:`revision`. Equal numbers from two calls mean no write was
        committed in between (so a value read after the first call is still current)."""
        ...

    def pin_change_counter(self) -> AbstractContextManager[None]:
        """A ``with`` block in which :meth:`change_counter` looks at the store once: later
        calls in it repeat that answer until this object writes. A no-op where
        change_counter() is None."""
        ...
