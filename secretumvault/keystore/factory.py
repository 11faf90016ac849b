"""open_storage(): pick a storage backend by name."""

from __future__ import annotations

import os
from typing import Literal

from secretumvault.errors import InvalidArgument
from secretumvault.keystore.sqlite import SQLiteStorage
from secretumvault.keystore.storage import DEFAULT_MAX_CONNECTIONS, DEFAULT_POOL_TIMEOUT, Storage

__all__ = ["open_storage"]


def open_storage(
    backend: Literal["sqlite", "postgresql"] = "sqlite",
    *,
    path: str | os.PathLike[str] | None = None,
    dsn: str | None = None,
    table: str = "secretumvault_records",
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT,
) -> Storage:
    """``open_storage(path="vault.db")`` or ``open_storage("postgresql", dsn="postgresql://...")``.

    ``max_connections`` bounds the connections the storage opens (``[storage]
    max_connections``); a call that finds them all busy for ``pool_timeout``
    seconds raises :class:`~secretumvault.errors.StorageBusy`.
    """
    if backend == "sqlite":
        if path is None or dsn is not None:
            raise InvalidArgument('backend="sqlite" takes path=, not dsn=')
        return SQLiteStorage(path, max_connections=max_connections, pool_timeout=pool_timeout)
    if backend == "postgresql":
        if dsn is None or path is not None:
            raise InvalidArgument('backend="postgresql" takes dsn=, not path=')
        # Imported here: a SQLite store never loads the PostgreSQL glue.
        from secretumvault.keystore.postgres import PostgresStorage

        return PostgresStorage(dsn, table=table, max_connections=max_connections, pool_timeout=pool_timeout)
    raise InvalidArgument(f'unknown storage backend {backend!r}: use "sqlite" or "postgresql"')
