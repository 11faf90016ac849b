"""SQLite storage: the embedded default. A file path is all a user gives.

Concurrency and durability come from SQLite itself:

- WAL journal: readers never block the writer, and a process killed mid-write
  leaves only an uncommitted WAL tail that the next opener discards.
- ``synchronous=FULL``: a write that returned is on disk, not only in the OS
  cache, so it survives a power cut as well as a kill -9.
- Files: created 0600 and never opened through a symlink (``_files.py``).
- Every write is one ``BEGIN IMMEDIATE`` transaction, which takes the write
  lock before reading, so the revision check of a compare-and-set and the write
  that follows are atomic across threads and processes. Writers of one process
  queue on a Python lock first: SQLite's own busy handler waits by sleeping
  (up to 100 ms a try), which turned a queue of 16 writers into p99 latencies of
  half a second and more (issue 29).
- Connections: a bounded pool (``max_connections``), each connection checked
  out for one operation and handed back, never tied to a thread. A server's
  worker threads come and go; the connections (3 descriptors each) do not.
  When every connection stays busy for ``pool_timeout`` seconds, the call
  raises :class:`~secretumvault.errors.StorageBusy` and changes nothing.
"""

from __future__ import annotations

import builtins
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from secretumvault.errors import ConflictError, KeystoreError, StorageBusy
from secretumvault.keystore._file_watch import FileWatch, open_watch
from secretumvault.keystore._files import prepare_store_files
from secretumvault.keystore.storage import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_POOL_TIMEOUT,
    StoredValue,
    Write,
    check_pool_settings,
    check_writes,
    prefix_upper_bound,
)

__all__ = ["PinnedChangeCounter", "SQLiteStorage"]

_SCHEMA_VERSION = 1
_BUSY_TIMEOUT_MS = 30_000
# change_counter()'s file watch: set up on the second call, tried once.
_WATCH_NOT_YET, _WATCH_ON_NEXT_CALL, _WATCH_TRIED = range(3)
_PATHS_PER_SELECT = 500  # below SQLite's smallest limit on bound parameters (999)
#: The answer change_counter() gave at the start of the innermost pin_change_counter() block of
#: this context (a server request: each has its own context), with the storage it is about.
_PINNED: ContextVar[tuple[SQLiteStorage, int] | None] = ContextVar(
    "secretumvault_pinned_changes", default=None
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    path     TEXT    PRIMARY KEY NOT NULL,
    value    BLOB    NOT NULL,
    revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revision_counter (
    id   INTEGER PRIMARY KEY CHECK (id = 0),
    last INTEGER NOT NULL
);
INSERT OR IGNORE INTO revision_counter (id, last) VALUES (0, 0);
"""


class SQLiteStorage:
    """Storage in one SQLite file, safe to share between threads and processes.

    At most ``max_connections`` connections, opened as needed and reused by
    whichever thread calls next (one thread at a time each); a call that finds
    them all busy waits up to ``pool_timeout`` seconds, then raises
    :class:`~secretumvault.errors.StorageBusy`. :meth:`close` closes them all.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float = DEFAULT_POOL_TIMEOUT,
    ) -> None:
        check_pool_settings(max_connections, pool_timeout)
        self._path = os.fspath(path)
        self._pool = _Pool(self._connect, max_connections, pool_timeout)
        self._timeout = pool_timeout
        # One writer of this process at a time reaches SQLite's write lock: see the module docstring.
        self._write_lock = threading.Lock()
        self._lock = threading.Lock()
        self._closed = False
        self._changes = 0  # see change_counter()
        self._watch_lock = threading.Lock()
        self._watch: FileWatch | None = None
        self._watch_state = _WATCH_NOT_YET
        self._settled = False
        self._probe: sqlite3.Connection | None = None
        self._create_schema()

    @property
    def pool_timeout(self) -> float:
        """How long a call may wait for the store before StorageBusy ([storage] pool_timeout)."""
        return self._timeout

    def __repr__(self) -> str:
        return f"SQLiteStorage({self._path!r})"

    # -- connections ---------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[_Connection]:
        """A pooled connection for one operation; StorageBusy if none frees up in time."""
        if self._closed:
            raise KeystoreError("this SQLiteStorage was closed; open a new one")
        conn = self._pool.acquire()
        try:
            yield conn
        finally:
            self._pool.release(conn)

    def _connect(self) -> _Connection:
        # Every time: SQLite deletes the -wal and -shm files when its last connection closes.
        prepare_store_files(self._path)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves. A connection is used by
            # one thread at a time, but not always the same one (the pool hands it around).
            conn = sqlite3.connect(
                self._path,
                isolation_level=None,
                timeout=_BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
                factory=_Connection,
            )
        except sqlite3.Error as exc:
            raise KeystoreError(f"cannot open SQLite store at {self._path!r}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            _set_wal_mode(conn)
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            conn.close()
            raise KeystoreError(f"cannot open SQLite store at {self._path!r}: {exc}") from exc
        return conn

    @contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; any failure rolls back, so nothing is half-written."""
        # The process's writer queue first, then a connection: waiting writers hold none.
        if not self._write_lock.acquire(timeout=self._timeout):
            raise StorageBusy(
                f"other writers held this SQLite store for {self._timeout:g} s; nothing was written, "
                "try again in a moment"
            )
        try:
            with self._connection() as conn:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as exc:
                    raise KeystoreError(f"SQLite store is not writable: {exc}") from exc
                try:
                    yield conn
                    conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    _rollback(conn)
                    raise KeystoreError(f"SQLite write failed: {exc}") from exc
                except BaseException:
                    _rollback(conn)
                    raise
                finally:
                    self._count_change()
        finally:
            self._write_lock.release()

    def _read(self, query: str, params: tuple[object, ...]) -> builtins.list[tuple[Any, ...]]:
        with self._connection() as conn:
            try:
                return conn.execute(query, params).fetchall()
            except sqlite3.Error as exc:
                raise KeystoreError(f"SQLite read failed: {exc}") from exc

    def _create_schema(self) -> None:
        # The tables and user_version are committed together, so a store that reads as this
        # version is complete: opening it writes nothing (no commit, no fsync, no WAL
        # checkpoint at close), which is most of a short command's time on a real disk.
        with self._connection() as conn:
            version = self._schema_version(conn)
        if version == _SCHEMA_VERSION:
            return
        with self._write_transaction() as conn:
            if self._schema_version(conn) == _SCHEMA_VERSION:
                return  # another process created it meanwhile
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _schema_version(self, conn: sqlite3.Connection) -> int:
        """0 for a new file, else this library's version; KeystoreError for any other."""
        try:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
        except sqlite3.Error as exc:
            raise KeystoreError(f"cannot read SQLite store at {self._path!r}: {exc}") from exc
        if version not in (0, _SCHEMA_VERSION):
            raise KeystoreError(
                f"{self._path!r} has keystore schema version {version}; this library reads "
                f"version {_SCHEMA_VERSION}. Use a matching SecretumVault release."
            )
        return int(version)

    # -- the Storage interface -------------------------------------------------------

    def get(self, path: str) -> StoredValue | None:
        rows = self._read("SELECT value, revision FROM records WHERE path = ?", (path,))
        return None if not rows else StoredValue(bytes(rows[0][0]), int(rows[0][1]))

    def put(self, path: str, value: bytes) -> int:
        with self._write_transaction() as conn:
            return self._write(conn, path, value)

    def cas(self, path: str, expected_revision: int | None, value: bytes) -> int:
        with self._write_transaction() as conn:
            _require_revision(conn, path, expected_revision)
            return self._write(conn, path, value)

    def delete(self, path: str) -> bool:
        with self._write_transaction() as conn:
            return conn.execute("DELETE FROM records WHERE path = ?", (path,)).rowcount > 0

    def list(self, prefix: str) -> builtins.list[str]:
        # A range of the primary key (SEARCH, not SCAN): its cost follows the paths listed,
        # not the size of the store. BINARY collation orders UTF-8 bytes, which is code
        # point order, the order prefix_upper_bound() works in.
        upper = prefix_upper_bound(prefix)
        if upper is None:
            rows = self._read("SELECT path FROM records WHERE path >= ? ORDER BY path", (prefix,))
        else:
            rows = self._read(
                "SELECT path FROM records WHERE path >= ? AND path < ? ORDER BY path", (prefix, upper)
            )
        return [str(row[0]) for row in rows]

    # -- compare-and-delete, consistent multi-record reads, atomic multi-record writes -------------

    def delete_if(self, path: str, expected_revision: int) -> None:
        self.apply([Write(path, expected_revision, None)])

    def get_many(self, paths: Sequence[str]) -> dict[str, StoredValue]:
        unique = list(dict.fromkeys(paths))
        chunks = [unique[i : i + _PATHS_PER_SELECT] for i in range(0, len(unique), _PATHS_PER_SELECT)]
        found: dict[str, StoredValue] = {}
        with self._connection() as conn:
            try:
                # One SELECT reads one snapshot; several need one read transaction around them.
                several = len(chunks) > 1
                if several:
                    conn.execute("BEGIN")
                try:
                    for chunk in chunks:
                        marks = ",".join("?" * len(chunk))
                        query = f"SELECT path, value, revision FROM records WHERE path IN ({marks})"  # noqa: S608
                        for path, value, revision in conn.execute(query, chunk).fetchall():
                            found[str(path)] = StoredValue(bytes(value), int(revision))
                finally:
                    if several:
                        _rollback(conn)
            except sqlite3.Error as exc:
                raise KeystoreError(f"SQLite read failed: {exc}") from exc
        return found

    def apply(self, writes: Sequence[Write]) -> builtins.list[int | None]:
        ordered = check_writes(writes)
        with self._write_transaction() as conn:
            revisions = {write.path: self._apply_one(conn, write) for write in ordered}
        return [revisions[write.path] for write in writes]

    def _apply_one(self, conn: sqlite3.Connection, write: Write) -> int | None:
        """One write of :meth:`apply`, inside its transaction; ConflictError rolls all of them back."""
        _require_revision(conn, write.path, write.expected_revision)
        if write.value is None:
            conn.execute("DELETE FROM records WHERE path = ?", (write.path,))
            return None
        return self._write(conn, write.path, write.value)

    # -- change tracking (ChangeTracking), for caches --------------------------------

    def revision(self, path: str) -> int | None:
        rows = self._read("SELECT revision FROM records WHERE path = ?", (path,))
        return None if not rows else int(rows[0][0])

    def change_counter(self) -> int:
        """Changes whenever a write may have been committed since the previous call, by anyone.

        Fast path (Linux): an inotify watch on the database and its ``-wal``.
        No event since the last look, and no writer was mid-commit then, means
        nothing was committed since. An event means a writer wrote; but its
        commit becomes visible a moment later, without another event, so after
        draining events the count goes up and the state is *settled* again only
        once the write lock can be taken at once (``BEGIN IMMEDIATE`` on a
        connection that never waits): every writer that held it, and so every
        write just drained, has then finished. Until then every call counts a
        change, and the caller checks the record itself.

        Otherwise ``PRAGMA data_version``, which changes when *another* connection
        commits; this object's own writes bump the counter directly. Values are
        per connection, so each pooled connection remembers the last value it
        saw and any change bumps the one shared counter. That holds whichever
        connection a call gets: a commit after call 1 either still shows on the
        connection of call 2, or was seen (and counted) by a call on that
        connection in between. The pool's own connections count as "another"
        for each other, so one of them committing shows on the rest too.

        The fast path takes no lock. A lock held at a forced GIL switch makes the
        other thread block on it, and the two threads then hand the GIL and the
        lock back and forth through the OS on every call (a lock convoy: two
        threads were measured at half the throughput of one). Instead it reads like
        a seqlock: ``_resettle`` (under ``_watch_lock``) clears ``_settled`` before
        it drains and bumps ``_changes`` after, so a fast path that sees settled,
        then an empty queue, then settled again with the same count cannot have
        overlapped a drain that hid events from it. ``poll()`` keeps the GIL.

        Inside a :meth:`pin_change_counter` block the answer given when the block
        began stands until this object writes (every write bumps the counter).
        """
        pinned = _PINNED.get()
        if pinned is not None and pinned[0] is self and pinned[1] == self._changes:
            return pinned[1]
        watch = self._watch
        if watch is not None and self._settled:
            changes = self._changes
            if watch.quiet() and self._settled and self._changes == changes:
                return changes
        with self._watch_lock:
            if self._closed:
                raise KeystoreError("this SQLiteStorage was closed; open a new one")
            watch = self._watch
            if watch is not None:
                if self._settled and watch.quiet():
                    return self._changes
                return self._resettle(watch)
            if self._watch_state == _WATCH_NOT_YET:
                self._watch_state = _WATCH_ON_NEXT_CALL  # not on the first: one-shot processes never pay
            elif self._watch_state == _WATCH_ON_NEXT_CALL:
                self._watch_state = _WATCH_TRIED
                # Commits go through the -wal file only in WAL mode (which _connect asks for).
                if self._journal_mode() == "wal":
                    self._watch = open_watch([self._path, self._path + "-wal"])
                if self._watch is not None:
                    return self._resettle(self._watch)
        return self._data_version_counter()

    def pin_change_counter(self) -> PinnedChangeCounter:
        """``with storage.pin_change_counter():`` look at the files once for the whole block.

        change_counter() answers as usual when the block begins; later calls in the
        block (in this context: asyncio tasks and threads started with a copy of it
        share it) give that same answer until this object writes. Caches proved
        current with it are then current as of the block's start: for a server
        request, a commit by another process before the request began is seen by
        the request, one during it by the next request. A request makes one
        ``poll()`` instead of one per cache it uses. (One pin per context: inside
        a block for another storage, this one looks at its files on every call.)
        """
        return PinnedChangeCounter(self)

    def _journal_mode(self) -> str:
        return str(self._read("PRAGMA journal_mode", ())[0][0]).lower()

    def _resettle(self, watch: FileWatch) -> int:
        """Count a change, then settle if no writer is active. Holds ``_watch_lock``."""
        self._settled = False
        watch.drain()
        self._count_change()
        if watch.lost:  # the file was replaced or events were lost: ask SQLite from now on
            self._drop_watch()
            return self._data_version_counter()
        self._settled = self._no_writer_active()
        return self._changes

    def _no_writer_active(self) -> bool:
        if self._probe is None:
            try:
                self._probe = sqlite3.connect(
                    self._path, isolation_level=None, timeout=0, check_same_thread=False
                )
            except sqlite3.Error:
                self._drop_watch()
                return False
        try:
            self._probe.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_BUSY:
                self._drop_watch()  # e.g. a read-only store: the probe can never succeed
            return False
        self._probe.execute("ROLLBACK")
        return True

    def _drop_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        self._settled = False

    def _data_version_counter(self) -> int:
        with self._connection() as conn:
            try:
                (version,) = conn.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error as exc:
                raise KeystoreError(f"SQLite read failed: {exc}") from exc
            # The connection is ours alone until released: no lock needed for its own value.
            if conn.seen_data_version != version:
                conn.seen_data_version = version
                self._count_change()
        return self._changes

    def _count_change(self) -> None:
        with self._lock:
            self._changes += 1

    def close(self) -> None:
        """Close every connection; one still in use by another thread closes when handed back."""
        with self._watch_lock:
            self._drop_watch()
            probe, self._probe = self._probe, None
        with self._lock:
            self._closed = True
            self._changes += 1  # a pinned answer no longer stands: change_counter() raises
        if probe is not None:
            probe.close()
        self._pool.close()

    def open_connections(self) -> int:
        """How many connections are open now (idle or in use); for tests and monitoring."""
        return self._pool.open_connections()

    @staticmethod
    def _write(conn: sqlite3.Connection, path: str, value: bytes) -> int:
        # fetchall(), not fetchone(): the statement must run to completion before COMMIT.
        ((revision,),) = conn.execute(
            "UPDATE revision_counter SET last = last + 1 WHERE id = 0 RETURNING last"
        ).fetchall()
        conn.execute(
            "INSERT INTO records (path, value, revision) VALUES (?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET value = excluded.value, revision = excluded.revision",
            (path, value, revision),
        )
        return int(revision)


def _require_revision(conn: sqlite3.Connection, path: str, expected: int | None) -> None:
    row = conn.execute("SELECT revision FROM records WHERE path = ?", (path,)).fetchone()
    current = None if row is None else int(row[0])
    if current != expected:
        raise ConflictError(
            f"record {path!r} is at revision {current}, not {expected}; read it again and retry"
        )


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


class _Connection(sqlite3.Connection):
    """A pooled connection, with the last ``PRAGMA data_version`` it answered (change_counter())."""

    seen_data_version: int | None = None


class PinnedChangeCounter:
    """The ``with`` block of :meth:`SQLiteStorage.pin_change_counter`."""

    __slots__ = ("_storage", "_token")

    def __init__(self, storage: SQLiteStorage) -> None:
        self._storage = storage
        self._token: Token[tuple[SQLiteStorage, int] | None] | None = None

    def __enter__(self) -> None:
        counter = self._storage.change_counter()
        self._token = _PINNED.set((self._storage, counter))

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _PINNED.reset(self._token)
            self._token = None


class _Pool:
    """At most ``size`` connections, made on first need; the most recently returned is reused first.

    Last in, first out keeps a few connections (and their page caches) warm
    instead of cycling through all of them. Connections are never retired:
    there are at most ``size``, and a store's connections cost only descriptors.
    """

    def __init__(self, connect: Any, size: int, timeout: float) -> None:
        self._connect = connect
        self._size = size
        self._timeout = timeout
        self._idle: builtins.list[_Connection] = []
        self._opened = 0  # idle + in use (+ being opened)
        self._ready = threading.Condition(threading.Lock())
        self._closed = False

    def acquire(self) -> _Connection:
        deadline: float | None = None
        with self._ready:
            while True:
                if self._closed:
                    raise KeystoreError("this SQLiteStorage was closed; open a new one")
                if self._idle:
                    return self._idle.pop()
                if self._opened < self._size:
                    self._opened += 1
                    break
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self._timeout
                elif now >= deadline:
                    raise StorageBusy(
                        f"all {self._size} SQLite connections stayed busy for {self._timeout:g} s "
                        "([storage] max_connections, pool_timeout); nothing was done, try again in a moment"
                    )
                self._ready.wait(deadline - now)
        try:  # opened outside the lock: it touches the file system
            return self._connect()  # type: ignore[no-any-return]
        except BaseException:
            with self._ready:
                self._opened -= 1
                self._ready.notify()
            raise

    def release(self, conn: _Connection) -> None:
        if conn.in_transaction:  # only after a failure that could not even roll back
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                self._discard(conn)
                return
        with self._ready:
            if not self._closed:
                self._idle.append(conn)
                self._ready.notify()
                return
            self._opened -= 1
        conn.close()

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        with self._ready:
            self._opened -= 1
            self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            idle, self._idle = self._idle, []
            self._opened -= len(idle)
            self._ready.notify_all()
        for conn in idle:
            conn.close()

    def open_connections(self) -> int:
        """How many connections are open now (idle or in use); for tests and monitoring."""
        with self._ready:
            return self._opened


def _set_wal_mode(conn: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode = WAL``, waiting out other connections as busy_timeout would.

    SQLite answers this pragma "database is locked" at once, without calling the busy
    handler, while another connection holds a lock it needs: two processes opening a new
    store together (a server's workers, the CLI beside a server) failed that way about one
    time in three. So it is retried here, for as long as busy_timeout lets any statement wait.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    pause = 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
