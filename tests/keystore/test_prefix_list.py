"""Prefix lists are ranges of the primary key (their cost follows the paths listed, not the store's
size), and list exactly what "starts with the prefix" lists, for any text."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretumvault.keystore import PostgresStorage, SQLiteStorage, Storage
from secretumvault.keystore.storage import prefix_upper_bound

# Characters that matter: LIKE's wildcards, the code points around the surrogate gap, the last
# code point, multi-byte UTF-8 of each length. No NUL (PostgreSQL text cannot hold it).
_EDGES = "%_/\\a\x7f\x80\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010fffe\U0010ffff"
_CHARS = st.one_of(st.sampled_from(_EDGES), st.characters(exclude_categories=["Cs"], min_codepoint=1))
_PATHS = st.lists(st.text(_CHARS, max_size=6), max_size=12, unique=True)


@pytest.mark.parametrize(
    ("prefix", "bound"),
    [
        ("", None),
        ("a", "b"),
        ("data/", "data0"),
        ("a\U0010ffff", "b"),
        ("a\U0010ffff\U0010ffff", "b"),
        ("\U0010ffff", None),
        ("\ud7ff", "\ue000"),
        ("x\uffff", "x\U00010000"),
    ],
)
def test_prefix_upper_bound(prefix: str, bound: str | None) -> None:
    assert prefix_upper_bound(prefix) == bound


@given(
    prefix=st.text(_CHARS, max_size=5), suffix=st.text(_CHARS, max_size=5), other=st.text(_CHARS, max_size=8)
)
def test_prefix_upper_bound_separates_exactly(prefix: str, suffix: str, other: str) -> None:
    bound = prefix_upper_bound(prefix)
    assert bound is None or prefix + suffix < bound
    in_range = prefix <= other and (bound is None or other < bound)
    assert in_range == other.startswith(prefix)


def _clear(storage: Storage) -> None:
    for path in storage.list(""):
        storage.delete(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=_PATHS, data=st.data())
def test_list_is_exactly_the_paths_starting_with_the_prefix(
    storage: Storage, paths: list[str], data: st.DataObject
) -> None:
    _clear(storage)
    for path in paths:
        storage.put(path, b"x")
    prefixes = [p[:cut] for p in paths for cut in range(len(p) + 1)]
    chosen = data.draw(
        st.one_of(st.sampled_from(prefixes), st.text(_CHARS, max_size=3))
        if prefixes
        else st.text(_CHARS, max_size=3)
    )
    # The semantics of the substr()/starts_with() query this replaced, in code point order.
    assert storage.list(chosen) == sorted(p for p in paths if p.startswith(chosen))


def _sqlite_list_sql(storage: SQLiteStorage, prefix: str) -> str:
    """The statement list(prefix) runs, as SQLite saw it (with its values)."""
    seen: list[str] = []
    with storage._connection() as conn:
        conn.set_trace_callback(seen.append)
    try:
        storage.list(prefix)  # the pool hands the same connection back (last in, first out)
    finally:
        with storage._connection() as conn:
            conn.set_trace_callback(None)
    (statement,) = [s for s in seen if "FROM records" in s]
    return statement


@pytest.mark.parametrize("prefix", ["auth/token/children/abc/", "%_", "a\U0010ffff", ""])
def test_sqlite_list_is_an_index_search(sqlite_storage: SQLiteStorage, prefix: str) -> None:
    statement = _sqlite_list_sql(sqlite_storage, prefix)
    with sqlite_storage._connection() as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}"))
    if prefix_upper_bound(prefix) is None and prefix == "":
        assert "records" in plan  # the whole table is the answer: nothing to narrow
    else:
        assert plan.startswith("SEARCH records USING PRIMARY KEY (path>? AND path<?)") or plan.startswith(
            "SEARCH records USING PRIMARY KEY (path>?)"
        ), plan
        assert "SCAN" not in plan


def test_sqlite_list_reads_only_its_range(tmp_path: Path) -> None:
    """Counted in SQLite's own steps: a list of 3 children costs the same beside 30 or 3,000 others."""
    steps = []
    for others in (30, 3000):
        storage = SQLiteStorage(tmp_path / f"v{others}.db")
        try:
            with storage._write_transaction() as conn:  # one transaction: 3,000 puts would be 3,000 fsyncs
                conn.executemany(
                    "INSERT INTO records VALUES (?, x'00', ?)", [(f"z/{i:05d}", i + 1) for i in range(others)]
                )
            for child in range(3):
                storage.put(f"m/parent/{child}", b"x")
            statement = _sqlite_list_sql(storage, "m/parent/")
            with storage._connection() as conn:
                steps.append(_vm_steps(conn, statement))
        finally:
            storage.close()
    assert steps[0] == steps[1], steps


def _vm_steps(conn: sqlite3.Connection, statement: str) -> int:
    """Virtual machine steps of one run of ``statement`` (counted with a progress handler)."""
    count = 0

    def tick() -> int:
        nonlocal count
        count += 1
        return 0

    conn.set_progress_handler(tick, 1)
    try:
        conn.execute(statement).fetchall()
    finally:
        conn.set_progress_handler(None, 1)
    return count


@pytest.mark.parametrize("prefix", ["auth/token/children/abc/", "%_", "a\U0010ffff"])
def test_postgres_list_is_an_index_range(prefix: str) -> None:
    from .conftest import pg_dsn

    storage = PostgresStorage(pg_dsn(), table="t_prefix_plan")
    try:
        upper = prefix_upper_bound(prefix)
        statement: Any = storage._sql.list_range if upper is not None else storage._sql.list_from
        params = (prefix, upper) if upper is not None else (prefix,)
        with storage._connection() as conn, conn.transaction():
            conn.execute("SET LOCAL enable_seqscan = off")
            conn.execute("SET LOCAL enable_bitmapscan = off")
            explained = conn.execute(b"EXPLAIN " + statement.as_bytes(conn), params).fetchall()
        plan = "\n".join(str(row[0]) for row in explained)
        assert (
            "Index Only Scan using t_prefix_plan_pkey" in plan
            or "Index Scan using t_prefix_plan_pkey" in plan
        )
        assert "Index Cond: ((path >= " in plan, plan
        if upper is not None:
            assert "path < " in plan.split("Index Cond:")[1], plan
    finally:
        storage.drop()
        storage.close()
