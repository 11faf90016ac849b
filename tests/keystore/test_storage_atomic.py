"""Compare-and-delete, consistent multi-record reads and atomic multi-record writes (issue 13, items 12-14).

Run against SQLite and PostgreSQL alike. These are what the keystore builds
its record versions and rekey on: several records change together or not at all.
"""

from __future__ import annotations

import threading

import pytest

from secretumvault.errors import ConflictError, InvalidArgument
from secretumvault.keystore import Storage, Write

from .conftest import snapshot


def test_delete_if_removes_only_at_the_expected_revision(storage: Storage) -> None:
    first = storage.put("k", b"one")
    second = storage.put("k", b"two")
    before = snapshot(storage)
    with pytest.raises(ConflictError):
        storage.delete_if("k", first)
    assert snapshot(storage) == before
    storage.delete_if("k", second)
    assert storage.get("k") is None


def test_delete_if_on_an_absent_record_conflicts(storage: Storage) -> None:
    with pytest.raises(ConflictError):
        storage.delete_if("absent", 1)


def test_get_many_returns_present_records_only(storage: Storage) -> None:
    a = storage.put("a", b"A")
    b = storage.put("b", b"B")
    found = storage.get_many(["a", "b", "missing"])
    assert {path: (v.value, v.revision) for path, v in found.items()} == {"a": (b"A", a), "b": (b"B", b)}
    assert storage.get_many([]) == {}


def test_apply_writes_everything(storage: Storage) -> None:
    a = storage.put("a", b"A")
    doomed = storage.put("doomed", b"D")
    revisions = storage.apply(
        [
            Write("a", a, b"A2"),
            Write("new", None, b"N"),
            Write("doomed", doomed, None),
        ]
    )
    assert revisions[2] is None
    assert revisions[0] is not None and revisions[1] is not None
    assert len({revisions[0], revisions[1]}) == 2 and min(revisions[0], revisions[1]) > doomed
    found = storage.get_many(["a", "new", "doomed"])
    assert {path: v.value for path, v in found.items()} == {"a": b"A2", "new": b"N"}
    assert found["a"].revision == revisions[0]


@pytest.mark.parametrize("failing", ["stale revision", "exists", "absent", "delete stale"])
def test_apply_writes_nothing_when_one_expectation_fails(storage: Storage, failing: str) -> None:
    a = storage.put("a", b"A")
    b = storage.put("b", b"B")
    storage.put("b", b"B2")
    writes = [Write("a", a, b"A-changed"), Write("c", None, b"C")]
    writes.append(
        {
            "stale revision": Write("b", b, b"B3"),
            "exists": Write("b", None, b"B3"),
            "absent": Write("zz", 12345, b"Z"),
            "delete stale": Write("b", b, None),
        }[failing]
    )
    before = snapshot(storage)
    with pytest.raises(ConflictError):
        storage.apply(writes)
    assert snapshot(storage) == before


def test_apply_refuses_a_path_twice(storage: Storage) -> None:
    with pytest.raises(InvalidArgument):
        storage.apply([Write("a", None, b"1"), Write("a", None, b"2")])
    assert storage.get("a") is None


def test_apply_refuses_a_delete_of_what_must_be_absent(storage: Storage) -> None:
    with pytest.raises(InvalidArgument):
        storage.apply([Write("a", None, None)])


def test_write_repr_hides_the_value() -> None:
    assert "SECRET" not in repr(Write("a", None, b"SECRET"))


def test_racing_applies_on_a_shared_record_lose_no_update(storage: Storage) -> None:
    # Each worker moves its own record and a shared counter in one apply: the
    # counter must end at the number of successful applies, and each own record too.
    storage.put("shared", b"0")
    threads, rounds = 4, 20

    def work(me: int) -> None:
        for _ in range(rounds):
            while True:
                found = storage.get_many(["shared", f"own/{me}"])
                shared, own = found["shared"], found.get(f"own/{me}")
                count = 0 if own is None else int(own.value)
                own_revision = None if own is None else own.revision
                try:
                    storage.apply(
                        [
                            Write("shared", shared.revision, str(int(shared.value) + 1).encode()),
                            Write(f"own/{me}", own_revision, str(count + 1).encode()),
                        ]
                    )
                    break
                except ConflictError:
                    continue

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    found = storage.get_many(["shared"] + [f"own/{i}" for i in range(threads)])
    assert int(found["shared"].value) == threads * rounds
    assert all(int(found[f"own/{i}"].value) == rounds for i in range(threads))


def test_get_many_of_more_paths_than_one_statement_takes(storage: Storage) -> None:
    paths = [f"p/{i:04d}" for i in range(1200)]
    storage.apply([Write(path, None, path.encode()) for path in paths])
    found = storage.get_many([*paths, "absent"])
    assert sorted(found) == paths
    assert all(found[path].value == path.encode() for path in paths)
