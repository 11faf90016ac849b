"""A token's records are written, and deleted, in one storage transaction each (issue 29).

Counted through real storage subclasses (SQLite and PostgreSQL) that note each
``apply``: creating a token writes it, its accessor index entry and its tree
link in one apply; revoking a token is the revocation mark, then one apply per
token of the tree that deletes its records and links together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from secretumvault.keystore import Keystore, PostgresStorage, SQLiteStorage, Write
from secretumvault.server.state.tokens import TokenEntry, TokenStore
from tests.keystore.conftest import pg_dsn, snapshot, unsealed_keystore

ID, ACCESSOR, PARENT = "data/sys/token/id/", "data/sys/token/accessor/", "data/sys/token/parent/"


class _Counting:
    """Notes the data paths of every apply() (index rows left out), then applies for real."""

    applies: list[list[str]]

    def apply(self, writes: Sequence[Write]) -> list[int | None]:
        self.applies.append(sorted(w.path for w in writes if w.path.startswith("data/")))
        return super().apply(writes)  # type: ignore[misc, no-any-return]


class CountingSQLite(_Counting, SQLiteStorage):
    pass


class CountingPostgres(_Counting, PostgresStorage):
    pass


Counted = CountingSQLite | CountingPostgres


@pytest.fixture(params=["sqlite", "postgresql"])
def counted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TokenStore, Counted]]:
    storage: Counted
    if request.param == "sqlite":
        storage = CountingSQLite(tmp_path / "vault.db")
    else:
        storage = CountingPostgres(pg_dsn(), table=f"t_{uuid.uuid4().hex}")
    storage.applies = []
    try:
        yield TokenStore(unsealed_keystore(storage)), storage
    finally:
        if isinstance(storage, PostgresStorage):
            storage.drop()
        storage.close()


def _token(tokens: TokenStore, parent: TokenEntry | None) -> TokenEntry:
    return tokens.create(policies=("default",), ttl=3600, renewable=True, display_name="t", parent=parent)[1]


def _records(keystore: Keystore) -> list[str]:
    return keystore.list("sys/token/")


def test_a_token_is_created_in_one_transaction(counted: tuple[TokenStore, Counted]) -> None:
    tokens, storage = counted
    parent = _token(tokens, None)
    storage.applies.clear()
    child = _token(tokens, parent)
    assert storage.applies == [
        sorted(
            [
                ID + child.hash,
                ACCESSOR + child.accessor,
                f"{PARENT}{parent.hash}/{child.hash}",
            ]
        )
    ]
    assert tokens.lookup_hash(child.hash) == child
    assert tokens.lookup_accessor(child.accessor) == child


def test_a_leaf_token_is_revoked_in_two_transactions(counted: tuple[TokenStore, Counted]) -> None:
    tokens, storage = counted
    parent = _token(tokens, None)
    child = _token(tokens, parent)
    keystore = tokens._keystore
    storage.applies.clear()
    tokens.revoke(child)
    link = f"{PARENT}{parent.hash}/{child.hash}"
    assert storage.applies == [
        [ID + child.hash],  # the mark: refused from here on
        sorted([ID + child.hash, ACCESSOR + child.accessor, link]),
    ]
    assert tokens.lookup_hash(child.hash) is None
    assert tokens.lookup_accessor(child.accessor) is None
    assert _records(keystore) == sorted(
        [f"sys/token/id/{parent.hash}", f"sys/token/accessor/{parent.accessor}"]
    )


def test_a_tree_is_revoked_one_token_per_transaction_children_first(
    counted: tuple[TokenStore, Counted],
) -> None:
    tokens, storage = counted
    root = _token(tokens, None)
    kids = [_token(tokens, root), _token(tokens, root)]
    grandchild = _token(tokens, kids[0])
    storage.applies.clear()
    tokens.revoke(root)
    assert storage.applies[0] == [ID + root.hash]
    deletions = storage.applies[1:]
    assert len(deletions) == 4

    # Children before parents, each token with its accessor and the links to its children.
    def deletion_of(token: TokenEntry) -> int:
        (found,) = [n for n, paths in enumerate(deletions) if ID + token.hash in paths]
        return found

    assert deletions[deletion_of(grandchild)] == sorted(
        [ID + grandchild.hash, ACCESSOR + grandchild.accessor]
    )
    assert deletion_of(grandchild) < deletion_of(kids[0])
    assert deletions[deletion_of(kids[0])] == sorted(
        [ID + kids[0].hash, ACCESSOR + kids[0].accessor, f"{PARENT}{kids[0].hash}/{grandchild.hash}"]
    )
    assert deletions[-1] == sorted(
        [ID + root.hash, ACCESSOR + root.accessor, *(f"{PARENT}{root.hash}/{kid.hash}" for kid in kids)]
    )
    assert _records(tokens._keystore) == []


def test_revoking_again_or_concurrently_leaves_nothing_and_writes_nothing(
    counted: tuple[TokenStore, Counted],
) -> None:
    tokens, storage = counted
    token = _token(tokens, None)
    stale_copy = token  # what a second request still holds after the first revoked it
    tokens.revoke(token)
    raw = snapshot(storage)
    storage.applies.clear()
    tokens.revoke(stale_copy)
    assert storage.applies == []
    assert snapshot(storage) == raw
    assert _records(tokens._keystore) == []
