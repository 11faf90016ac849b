"""PostgreSQL storage (psycopg 3): one store shared by several processes or hosts.

Every operation is a single SQL statement in autocommit mode, so each write is
atomic on its own. Revisions come from a sequence, which makes them increase
across the whole table. A compare-and-set is ``UPDATE ... WHERE revision = $n``
(or ``INSERT ... ON CONFLICT DO NOTHING`` when no record is expected): under
READ COMMITTED a concurrent writer blocks on the row lock, then re-checks the
``WHERE`` clause against the row as committed, so only one of two racing
writers can succeed.

Connections come from a ``psycopg_pool.ConnectionPool`` of at most
``max_connections``: a call borrows one for its statement (or transaction) and
gives it back, whichever thread it runs on, so a server's worker threads coming
and going never add connections. A call that finds them all busy waits up to
``pool_timeout`` seconds, then raises :class:`~secretumvault.errors.StorageBusy`.
Before a connection is used it is checked without a round trip (see
``_usable``), so after PostgreSQL restarts the pool replaces the dead
connections and the next calls succeed on their own.

psycopg is imported only when a PostgresStorage is created, so the SQLite
default works without it.
"""

from __future__ import annotations

import builtins
import re
import select
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any
from urllib.parse import quote, quote_plus

from secretumvault.errors import ConflictError, InvalidArgument, KeystoreError, StorageBusy
from secretumvault.keystore.storage import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_POOL_TIMEOUT,
    StoredValue,
    Write,
    check_pool_settings,
    check_writes,
    prefix_upper_bound,
)

__all__ = ["PostgresStorage"]

_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,47}")
_HIDDEN = "<hidden>"
_UNPARSABLE_DSN = (
    "cannot use the PostgreSQL DSN: libpq could not parse it (its message is not shown, as it "
    "may quote the password). In a postgresql:// URL, percent-encode the user name and password "
    "(% as %25, space as %20, @ as %40, / as %2F); in key=value form, quote values with spaces "
    "in single quotes; use only libpq connection parameters"
)


class PostgresStorage:
    """Storage in one PostgreSQL table (created on first use).

    ``dsn`` is a libpq connection string or URI. ``table`` lets several
    keystores share a database; it must be a plain lower-case identifier.
    At most ``max_connections`` connections are open at once (one is kept
    open while idle); a call waits up to ``pool_timeout`` seconds for one, then
    raises :class:`~secretumvault.errors.StorageBusy`. :meth:`close` closes them all.
    """

    def __init__(
        self,
        dsn: str,
        *,
        table: str = "secretumvault_records",
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float = DEFAULT_POOL_TIMEOUT,
    ) -> None:
        if not _TABLE_NAME.fullmatch(table):
            raise InvalidArgument("table must match [a-z_][a-z0-9_]{0,47}")
        check_pool_settings(max_connections, pool_timeout)
        try:
            import psycopg
            import psycopg_pool
            from psycopg import conninfo, sql
        except ImportError as exc:
            raise KeystoreError(
                'PostgreSQL storage needs psycopg 3 and its pool: pip install "secretumvault[postgresql]"'
            ) from exc
        self._psycopg: Any = psycopg
        self._pool_timeout_error: Any = psycopg_pool.PoolTimeout
        self._secrets = _dsn_secrets(psycopg.Error, conninfo.conninfo_to_dict, dsn)
        self._table = table
        self._timeout = float(pool_timeout)
        self._max_connections = max_connections
        self._lock = threading.Lock()
        self._closed = False
        self._sql = _Statements(sql, table)
        # First a connection of our own: a wrong DSN or password is reported at once, with the
        # driver's message scrubbed, instead of as a pool timeout after retries in the background.
        try:
            first = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            # libpq's message names host and port; the password is cut out all the same,
            # and the driver's exception is not chained, as a traceback would print it.
            raise KeystoreError(f"cannot connect to PostgreSQL: {self._scrub(exc)}") from None
        try:
            self._create_schema(first)
        finally:
            first.close()
        self._pool: Any = psycopg_pool.ConnectionPool(
            dsn,
            kwargs={"autocommit": True},
            min_size=1,
            max_size=max_connections,
            timeout=self._timeout,
            # Idle connections above min_size are closed after a minute: flat at rest.
            max_idle=60.0,
            name=f"secretumvault-{table}",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=max(self._timeout, 10.0))
        except psycopg_pool.PoolTimeout:
            self._pool.close()
            raise KeystoreError(
                "cannot connect to PostgreSQL: the connection pool could not open a connection"
            ) from None

    @property
    def pool_timeout(self) -> float:
        """How long a call may wait for the store before StorageBusy ([storage] pool_timeout)."""
        return self._timeout

    def __repr__(self) -> str:  # the DSN may hold a password: never shown
        return f"PostgresStorage(table={self._table!r})"

    # -- connections ---------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A pooled connection for one operation; StorageBusy if none frees up in time.

        A connection that broke during the operation is dropped by the pool when
        handed back (psycopg_pool checks its state), and replaced.
        """
        if self._closed:
            raise KeystoreError("this PostgresStorage was closed; open a new one")
        deadline = time.monotonic() + self._timeout
        conn = self._borrow(deadline)
        # Checked here rather than by the pool's check= hook: the pool sleeps a growing backoff
        # (1 s, 2 s, ...) after each connection that fails it, so 16 connections killed by a
        # restart would cost a call more than its whole timeout.
        while not _usable(conn, self._psycopg.Error):
            conn.close()
            self._pool.putconn(conn)  # the pool drops a closed connection and opens another
            self._pool.check()  # its siblings most likely died with it (a restart): drop them now
            conn = self._borrow(deadline)
        try:
            yield conn
        finally:
            self._pool.putconn(conn)

    def _borrow(self, deadline: float) -> Any:
        try:
            return self._pool.getconn(timeout=max(deadline - time.monotonic(), 0.001))
        except self._pool_timeout_error:
            raise StorageBusy(
                f"no PostgreSQL connection became free within {self._timeout:g} s "
                f"(all {self._max_connections} busy, or the server unreachable; [storage] "
                "max_connections, pool_timeout); nothing was done, try again in a moment"
            ) from None
        except self._psycopg.Error as exc:  # e.g. the pool was closed meanwhile
            raise KeystoreError(f"PostgreSQL storage error: {self._scrub(exc)}") from None

    def _execute(self, statement: Any, params: tuple[object, ...]) -> builtins.list[tuple[Any, ...]]:
        with self._connection() as conn:
            try:
                cursor = conn.execute(statement, params)
                return list(cursor.fetchall()) if cursor.description is not None else []
            except self._psycopg.Error as exc:
                message = f"{type(exc).__name__}: {self._scrub(exc)}"
                raise KeystoreError(f"PostgreSQL storage error: {message}") from None

    def _create_schema(self, conn: Any) -> None:
        try:
            # CREATE ... IF NOT EXISTS is not safe against a concurrent creator;
            # an advisory lock keyed on the table name serialises first use.
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._table,))
                conn.execute(self._sql.create_sequence)
                conn.execute(self._sql.create_table)
        except self._psycopg.Error as exc:
            raise KeystoreError(f"cannot create the keystore table: {self._scrub(exc)}") from None

    def _scrub(self, exc: BaseException) -> str:
        """The driver's message, with every spelling of the DSN's password replaced."""
        text = str(exc).strip()
        for secret in self._secrets:
            text = text.replace(secret, _HIDDEN)
        return text

    # -- the Storage interface -------------------------------------------------------

    def get(self, path: str) -> StoredValue | None:
        rows = self._execute(self._sql.select, (path,))
        return None if not rows else StoredValue(bytes(rows[0][0]), int(rows[0][1]))

    def put(self, path: str, value: bytes) -> int:
        rows = self._execute(self._sql.upsert, (path, value))
        return int(rows[0][0])

    def cas(self, path: str, expected_revision: int | None, value: bytes) -> int:
        if expected_revision is None:
            rows = self._execute(self._sql.insert_if_absent, (path, value))
        else:
            rows = self._execute(self._sql.update_if_revision, (value, path, expected_revision))
        if not rows:
            raise ConflictError(
                f"record {path!r} is not at revision {expected_revision}; read it again and retry"
            )
        return int(rows[0][0])

    def delete(self, path: str) -> bool:
        return bool(self._execute(self._sql.delete, (path,)))

    def list(self, prefix: str) -> builtins.list[str]:
        # A range of the primary key, whose "C" collation is code point order (prefix_upper_bound).
        upper = prefix_upper_bound(prefix)
        if upper is None:
            rows = self._execute(self._sql.list_from, (prefix,))
        else:
            rows = self._execute(self._sql.list_range, (prefix, upper))
        return [str(row[0]) for row in rows]

    # -- compare-and-delete, consistent multi-record reads, atomic multi-record writes -------------

    def delete_if(self, path: str, expected_revision: int) -> None:
        self.apply([Write(path, expected_revision, None)])

    def get_many(self, paths: Sequence[str]) -> dict[str, StoredValue]:
        # One statement: under READ COMMITTED it reads one snapshot.
        rows = self._execute(self._sql.select_many, (list(dict.fromkeys(paths)),))
        return {str(path): StoredValue(bytes(value), int(revision)) for path, value, revision in rows}

    def apply(self, writes: Sequence[Write]) -> builtins.list[int | None]:
        ordered = check_writes(writes)
        with self._connection() as conn:
            try:
                # Each conditional statement locks its row until COMMIT; a concurrent
                # writer then re-checks its own condition against the committed row.
                # Rows are taken in path order, so two applies cannot deadlock.
                with conn.transaction():
                    revisions = {write.path: self._apply_one(conn, write) for write in ordered}
            except self._psycopg.Error as exc:
                message = f"{type(exc).__name__}: {self._scrub(exc)}"
                raise KeystoreError(f"PostgreSQL storage error: {message}") from None
        return [revisions[write.path] for write in writes]

    def _apply_one(self, conn: Any, write: Write) -> int | None:
        """One write of :meth:`apply`, inside its transaction; ConflictError rolls all of them back."""
        if write.value is None:
            params: tuple[object, ...] = (write.path, write.expected_revision)
            rows = conn.execute(self._sql.delete_if_revision, params).fetchall()
        elif write.expected_revision is None:
            rows = conn.execute(self._sql.insert_if_absent, (write.path, write.value)).fetchall()
        else:
            rows = conn.execute(
                self._sql.update_if_revision, (write.value, write.path, write.expected_revision)
            ).fetchall()
        if not rows:
            raise ConflictError(
                f"record {write.path!r} is not at revision {write.expected_revision}; read it again and retry"
            )
        return None if write.value is None else int(rows[0][0])

    # -- change tracking (ChangeTracking), for caches --------------------------------

    def revision(self, path: str) -> int | None:
        rows = self._execute(self._sql.select_revision, (path,))
        return None if not rows else int(rows[0][0])

    def change_counter(self) -> None:
        """None: the revision of the one record is the cheapest exact check here (one round trip).

        A sequence's last value moves before the writing transaction commits,
        and LISTEN/NOTIFY arrives some time after it, so neither can promise
        that the next read sees a write another process has finished.
        """
        return None

    def pin_change_counter(self) -> nullcontext[None]:
        """Nothing to pin: change_counter() is None here."""
        return nullcontext()

    def close(self) -> None:
        """Close the pool and every connection in it (waiting for ones in use, briefly)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._pool.close(timeout=self._timeout)

    def open_connections(self) -> int:
        """How many connections the pool holds now (idle or in use); for tests and monitoring."""
        return int(self._pool.get_stats()["pool_size"])

    def drop(self) -> None:
        """Delete the table and its sequence, with every record in them (for tests)."""
        self._execute(self._sql.drop_table, ())
        self._execute(self._sql.drop_sequence, ())


def _usable(conn: Any, driver_error: type[Exception]) -> bool:
    """Whether a connection taken from the pool still looks usable.

    An idle connection in autocommit mode has nothing to read. Something to
    read means the server spoke first: almost always it is closing the
    connection (a restart, an administrator's terminate), so only then is the
    connection pinged (a round trip) to tell. Checking every loan without a
    round trip keeps the common case as cheap as no check at all.
    """
    if conn.closed or conn.broken:
        return False
    if not _readable(conn.fileno()):
        return True
    try:
        conn.execute("")  # fails if the server has gone; else it was only a notice
    except driver_error:
        return False
    return True


def _readable(fd: int) -> bool:
    if hasattr(select, "poll"):  # any descriptor number; select() stops at FD_SETSIZE
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


def _dsn_secrets(driver_error: type[Exception], parse: Any, dsn: str) -> tuple[str, ...]:
    """The DSN's password as it may appear in a message (plain and URL-encoded), longest first.

    Parsing first also means a DSN libpq cannot parse is refused here, with a
    message of ours: libpq's own quotes the offending text, often the password.
    """
    if not isinstance(dsn, str):
        raise InvalidArgument(f"dsn must be str, not {type(dsn).__name__}")
    try:
        params = parse(dsn)
    except driver_error:
        raise KeystoreError(_UNPARSABLE_DSN) from None
    password = str(params.get("password") or "")
    spellings = {password, quote(password, safe=""), quote_plus(password)} - {""}
    return tuple(sorted(spellings, key=len, reverse=True))


class _Statements:
    """The SQL, composed once with the table name quoted as an identifier."""

    def __init__(self, sql: Any, table: str) -> None:
        t = sql.Identifier(table)
        seq = sql.Identifier(f"{table}_revision")
        self.create_sequence = sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(seq)
        # COLLATE "C": prefix listing and ordering by bytes, whatever the database locale.
        self.create_table = sql.SQL(
            'CREATE TABLE IF NOT EXISTS {} (path TEXT COLLATE "C" PRIMARY KEY, '
            "value BYTEA NOT NULL, revision BIGINT NOT NULL)"
        ).format(t)
        self.select = sql.SQL("SELECT value, revision FROM {} WHERE path = %s").format(t)
        self.select_revision = sql.SQL("SELECT revision FROM {} WHERE path = %s").format(t)
        self.upsert = sql.SQL(
            "INSERT INTO {t} AS r (path, value, revision) VALUES (%s, %s, nextval({s})) "
            "ON CONFLICT (path) DO UPDATE SET value = EXCLUDED.value, revision = EXCLUDED.revision "
            "RETURNING r.revision"
        ).format(t=t, s=sql.Literal(f"{table}_revision"))
        self.insert_if_absent = sql.SQL(
            "INSERT INTO {t} (path, value, revision) VALUES (%s, %s, nextval({s})) "
            "ON CONFLICT (path) DO NOTHING RETURNING revision"
        ).format(t=t, s=sql.Literal(f"{table}_revision"))
        self.update_if_revision = sql.SQL(
            "UPDATE {t} SET value = %s, revision = nextval({s}) WHERE path = %s AND revision = %s "
            "RETURNING revision"
        ).format(t=t, s=sql.Literal(f"{table}_revision"))
        self.delete = sql.SQL("DELETE FROM {} WHERE path = %s RETURNING revision").format(t)
        self.select_many = sql.SQL("SELECT path, value, revision FROM {} WHERE path = ANY(%s)").format(t)
        self.delete_if_revision = sql.SQL(
            "DELETE FROM {} WHERE path = %s AND revision = %s RETURNING revision"
        ).format(t)
        # The parameters are cast to the column's type so the comparison uses its "C" collation.
        self.list_range = sql.SQL(
            'SELECT path FROM {} WHERE path >= %s COLLATE "C" AND path < %s COLLATE "C" ORDER BY path'
        ).format(t)
        self.list_from = sql.SQL('SELECT path FROM {} WHERE path >= %s COLLATE "C" ORDER BY path').format(t)
        self.drop_table = sql.SQL("DROP TABLE IF EXISTS {}").format(t)
        self.drop_sequence = sql.SQL("DROP SEQUENCE IF EXISTS {}").format(seq)
