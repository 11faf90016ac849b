"""Reading and writing records together with the index that versions them (see ``index.py``).

A read takes the index root, the path's bucket and the record in one snapshot
and checks that they agree; a write replaces all three in one atomic apply,
retried while other writers move the root first. Writes to the core record
(rotation, rekey) move the root with it, so the core's seq is in the index too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from secretumvault._frozen import Frozen, set_field
from secretumvault.errors import (
    ConflictError,
    CorruptRecord,
    KeyNotFound,
    KeystoreError,
    NotInitialized,
    SecretumVaultError,
    StorageBusy,
)
from secretumvault.keystore.barrier import UnknownTermError, decrypt_record, encrypt_record
from secretumvault.keystore.core import CORE_PATH, CoreRecord, Unlocked
from secretumvault.keystore.index import (
    LEGACY,
    ROOT_PATH,
    Bucket,
    IndexKeys,
    RootIndex,
    bucket_count_for,
    bucket_path,
    needs_split,
    tag_key,
)
from secretumvault.keystore.keyring import Keyring
from secretumvault.keystore.storage import DEFAULT_POOL_TIMEOUT, Storage, StoredValue, Write

__all__ = ["ANY_VERSION", "CoreSnapshot", "Expected", "RecordChange", "Records"]

DATA_PREFIX = "data/"
_WRITE_ATTEMPTS = 100
_BACKOFF_CAP_US = 20_000
#: At most this many writers' changes in one group commit (one transaction).
_GROUP_LIMIT = 32


class _Any:
    def __repr__(self) -> str:
        return "ANY_VERSION"


#: A write's expectation that accepts whatever is stored (a plain put or delete).
ANY_VERSION = _Any()
#: What a write expects of the record: ANY_VERSION, None (absent) or its revision.
Expected = int | _Any | None


class CoreSnapshot(Frozen):
    """The core record and the index root as of one moment (``root`` None: no index yet)."""

    __slots__ = _fields = ("core", "core_row", "root_row")
    core: CoreRecord
    core_row: StoredValue
    root_row: StoredValue | None

    def __init__(self, core: CoreRecord, core_row: StoredValue, root_row: StoredValue | None) -> None:
        set_field(self, "core", core)
        set_field(self, "core_row", core_row)
        set_field(self, "root_row", root_row)


class RecordChange(Frozen):
    """One change of :meth:`Records.write_many`: ``value`` None deletes; ``name`` is for messages."""

    __slots__ = _fields = ("physical", "name", "value", "expected")
    _secret_fields = ("value",)
    physical: str
    name: str
    value: bytes | None
    expected: Expected

    def __init__(self, physical: str, name: str, value: bytes | None, expected: Expected) -> None:
        set_field(self, "physical", physical)
        set_field(self, "name", name)
        set_field(self, "value", value)
        set_field(self, "expected", expected)


class Records:
    """The versioned records of one store, and the highest write this object has seen."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._lock = threading.Lock()
        # Every write advances the one index root by compare-and-set, so two writers of this
        # process that read the root at once are bound to conflict, and the loser encrypts and
        # tries again after a back-off: under 16 concurrent writers that made p99 write latency
        # 650-1,000 ms (issue 29's soak). Writers of one process take turns instead; only
        # writers of other processes still race, and retry.
        self._writers = threading.Lock()
        # Writers waiting for their turn; the holder of a turn commits theirs with its own.
        self._queue_lock = threading.Lock()
        self._queue: list[_Request] = []
        self._seen = 0

    # -- the core record ----------------------------------------------------------------------

    def core_snapshot(self) -> CoreSnapshot:
        rows = self._storage.get_many([CORE_PATH, ROOT_PATH])
        core_row = rows.get(CORE_PATH)
        if core_row is None:
            self.refuse_if_damaged()
            raise NotInitialized(
                "this store is not initialised: call initialize_with_passphrase() "
                "or initialize_with_shares() first"
            )
        return CoreSnapshot(CoreRecord.decode(core_row.value), core_row, rows.get(ROOT_PATH))

    def refuse_if_damaged(self) -> None:
        """CorruptRecord if the core record is missing but other records remain (it was deleted).

        Without this, unseal says "initialise it" and initialise says "already
        initialised", a loop; and initialising anew would orphan every record.
        """
        if self._storage.get(CORE_PATH) is not None:
            return
        others = self._storage.get(ROOT_PATH) is not None or any(
            path != CORE_PATH for path in self._storage.list("")
        )
        # Read the core record again: a racing initialise writes it with the index root in one
        # apply, so records seen with no core record after them mean it was deleted.
        if others and self._storage.get(CORE_PATH) is None:
            raise CorruptRecord(
                f"this store is damaged: its keyring record {CORE_PATH!r} is missing but other records "
                "remain (it was deleted outside the keystore). Restore the store from a backup; "
                "initialising it again is refused, since that would orphan every stored secret"
            )

    def check_core(self, snapshot: CoreSnapshot, index: IndexKeys) -> None:
        """At unseal: the core record and the index root must name the same write."""
        floor = self._seen
        core, root_row = snapshot.core, snapshot.root_row
        if core.seq is None:
            if root_row is not None or floor:
                raise CorruptRecord(
                    f"the core record {CORE_PATH!r} is from before this store's index: an older "
                    "copy was put back. Restore the store from a backup"
                )
            return
        if root_row is None:
            raise CorruptRecord(
                f"the index root {ROOT_PATH!r} is missing; it was deleted outside the keystore"
            )
        root = index.open_root(root_row.value)
        self._observe(floor, root.seq)
        if root.core_seq != core.seq:
            raise CorruptRecord(
                f"the core record {CORE_PATH!r} is at write {core.seq}, but the index says "
                f"{root.core_seq}: one of them was rolled back (an older copy put back, perhaps "
                "from before a rekey). Restore the store from a backup"
            )

    def write_core(
        self, unlocked: Unlocked, change: Callable[[CoreRecord, int], CoreRecord], *, attempts: int = 16
    ) -> CoreRecord:
        """Replace the core record with ``change(current, seq)`` and move the index root with it."""
        for attempt in range(attempts):
            floor = self._seen
            snapshot = self.core_snapshot()
            if snapshot.root_row is None:
                self.check_core(snapshot, unlocked.index)
                self._upgrade(unlocked, snapshot)
                continue
            self.check_core(snapshot, unlocked.index)
            root = unlocked.index.open_root(snapshot.root_row.value)
            seq = root.seq + 1
            core = change(snapshot.core, seq)
            try:
                self._storage.apply(
                    [
                        Write(CORE_PATH, snapshot.core_row.revision, core.encode()),
                        Write(
                            ROOT_PATH,
                            snapshot.root_row.revision,
                            unlocked.index.seal_root(root.advanced(seq, (), core=True)),
                        ),
                    ]
                )
            except ConflictError:
                _back_off(attempt)
                continue
            self._observe(floor, seq)
            return core
        raise ConflictError("the core record kept changing under other writers; try again")

    # -- records ------------------------------------------------------------------------------------

    def read(
        self, unlocked: Unlocked, reload: Callable[[], Keyring], physical: str, name: str
    ) -> tuple[bytes, int]:
        """The plaintext at ``physical`` and its revision; KeyNotFound, or CorruptRecord if it
        fails authentication or disagrees with the index (a rollback)."""
        floor = self._seen
        tag, key = unlocked.index.locate(physical)
        rows, bucket = self._read_rows(unlocked.index, physical, key)
        root_row = rows.get(ROOT_PATH)
        stored = rows.get(physical)
        if root_row is None:
            self._require_legacy(floor)
            expected: int | None = None if stored is None else LEGACY
        else:
            root = unlocked.index.open_root(root_row.value)
            self._observe(floor, root.seq)
            if bucket is None:
                number = root.bucket_of(key)
                bucket = unlocked.index.open_bucket(
                    _value(rows.get(bucket_path(number))), number, root.buckets[number]
                )
            expected = bucket.entries.get(tag)
        if stored is None:
            if expected is None:
                raise KeyNotFound(f"no record at {name!r}")
            raise CorruptRecord(
                f"record {name!r} was deleted outside the keystore (the index still lists it)"
            )
        if expected is None:
            raise CorruptRecord(
                f"record {name!r} is not in the keystore's index: it was put back after a delete, "
                "or copied in from elsewhere. Delete it, or restore the store from a backup"
            )
        plaintext, seq = _decrypt(unlocked.keyring, reload, physical, stored.value, name)
        if (seq is None) != (expected == LEGACY) or (seq is not None and seq != expected):
            raise CorruptRecord(
                f"record {name!r} is not the version the keystore's index lists (write {seq}, "
                f"listed {expected}): an older copy was put back. Restore it from a backup or write it again"
            )
        return plaintext, stored.revision

    def _read_rows(
        self, index: IndexKeys, physical: str, key: int
    ) -> tuple[dict[str, StoredValue], Bucket | None]:
        """The root, record and (unless this process knows it at that write) bucket rows, in one snapshot.

        The root and the record first: if the root expects a bucket this process already
        knows at that write (see IndexKeys), its row, which grows with the store, is not
        fetched; else all three again, in one consistent read, as often as the buckets
        split in between.
        """
        rows = self._storage.get_many([ROOT_PATH, physical])
        while (root_row := rows.get(ROOT_PATH)) is not None:
            root = index.open_root(root_row.value)
            number = root.bucket_of(key)
            bucket = index.current_bucket(number, root.buckets[number])
            if bucket is not None:
                return rows, bucket
            rows = self._storage.get_many([ROOT_PATH, bucket_path(number), physical])
            root_row = rows.get(ROOT_PATH)
            if root_row is None or index.open_root(root_row.value).bucket_of(key) == number:
                return rows, None
        return rows, None

    def write(
        self, unlocked: Unlocked, physical: str, name: str, value: bytes | None, expected: Expected
    ) -> int | None:
        """Put ``value`` (None: delete) at ``physical`` if its revision is ``expected``; return the new one.

        ConflictError if the record is not at ``expected`` (nothing written);
        KeyNotFound for a delete of an absent record.
        """
        return self.write_many(unlocked, [RecordChange(physical, name, value, expected)])[0]

    def write_many(self, unlocked: Unlocked, changes: Sequence[RecordChange]) -> list[int | None]:
        """Make every change or none, in one apply and one advance of the root; each change is
        checked as :meth:`write` checks it. The new revisions, in order (None for a delete).

        ``changes`` name distinct paths (the caller checks). Writers of this process take
        turns; the one whose turn it is commits, with its own changes, those of the writers
        queued behind it (group commit): one transaction and one fsync for all, each
        writer's changes still checked, and failing, on their own.
        """
        request = _Request(unlocked, changes)
        with self._queue_lock:
            self._queue.append(request)
        # As long as the storage lets a call wait for a connection ([storage] pool_timeout).
        wait = getattr(self._storage, "pool_timeout", DEFAULT_POOL_TIMEOUT)
        if not self._writers.acquire(timeout=wait):
            with self._queue_lock:
                if not request.taken:
                    self._queue.remove(request)
                    raise StorageBusy(
                        f"other writers held this store for {wait:g} s; nothing was written, "
                        "try again in a moment"
                    )
            request.finished.wait()  # a turn holder took these changes: it ends them (see _lead)
            return request.outcome()
        try:
            if not request.done:
                self._lead(request)
        finally:
            self._writers.release()
        return request.outcome()

    def _lead(self, own: _Request) -> None:
        """This writer's turn: commit its changes and those of the writers queued behind it."""
        with self._queue_lock:
            own.taken = True
            group, paths, waiting = [own], set(own.paths), []
            for request in self._queue:
                if request is own:
                    continue
                # Index keys are the same for one store, but a Keystore sealed and unsealed
                # meanwhile brings new objects: such a writer waits for its own turn, as
                # does one that writes a path of this group (its check must see this
                # group's outcome).
                if (
                    len(group) < _GROUP_LIMIT
                    and request.unlocked.index is own.unlocked.index
                    and paths.isdisjoint(request.paths)
                ):
                    request.taken = True
                    group.append(request)
                    paths.update(request.paths)
                else:
                    waiting.append(request)
            self._queue = waiting
        try:
            self._commit(group)
        except Exception as exc:
            if len(group) == 1:
                own.fail(exc)
                return
            # Not one writer's own check (that fails only it): perhaps one writer's changes
            # that the storage refuses. Each on its own, so that one fails alone.
            for request in group:
                if not request.done:
                    try:
                        self._commit([request])
                    except Exception as alone:
                        request.fail(alone)
        finally:
            # Only if this thread was interrupted (KeyboardInterrupt ...): the writers whose
            # changes it took must not wait for ever.
            for request in group:
                if not request.done:
                    request.fail(KeystoreError("the write was interrupted; it may or may not have been made"))

    def _commit(self, group: list[_Request]) -> None:
        """Check and write the changes of ``group``; each request ends with its outcome."""
        live = group
        for attempt in range(_WRITE_ATTEMPTS):
            floor = self._seen
            index = live[0].unlocked.index
            # Which buckets depends on the root's bucket count: guess the last one seen, and
            # read again should the root have split since.
            count = index.bucket_count()
            numbers = sorted({key % count for request in live for _, key in request.located})
            paths = [ROOT_PATH, *(bucket_path(number) for number in numbers)]
            paths += [change.physical for request in live for change in request.changes]
            rows = self._storage.get_many(paths)
            root_row = rows.get(ROOT_PATH)
            if root_row is None:
                self._require_legacy(floor)
                self._upgrade(live[0].unlocked, self.core_snapshot())
                continue
            root = index.open_root(root_row.value)
            self._observe(floor, root.seq)
            if len(root.buckets) != count:
                continue
            buckets = {
                number: index.open_bucket(_value(rows.get(bucket_path(number))), number, root.buckets[number])
                for number in numbers
            }
            # One write number for the whole apply: each record's index entry is the seq it
            # carries, and every earlier copy of it carries a lower one.
            seq = root.seq + 1
            writes: list[Write] = []
            accepted: list[_Request] = []
            entries: dict[int, dict[str, int | None]] = {}
            for request in live:
                try:
                    writes += _record_writes(request, rows, buckets, count, seq)
                except SecretumVaultError as exc:  # its own check or value: it alone fails
                    request.fail(exc)
                    continue
                for change, (tag, key) in zip(request.changes, request.located, strict=True):
                    entries.setdefault(key % count, {})[tag] = None if change.value is None else seq
                accepted.append(request)
            live = accepted
            if not live:
                return
            touched = sorted(entries)
            new_buckets = [buckets[number].with_entries(entries[number], seq) for number in touched]
            new_root = root.advanced(seq, touched)
            if needs_split(new_buckets, count):
                changed = {bucket.number: bucket for bucket in new_buckets}
                new_buckets, new_root = self._split(index, root, changed, seq, rows)
            for bucket in new_buckets:
                sealed = index.seal_bucket(bucket)
                number = bucket.number
                writes.append(Write(bucket_path(number), _revision(rows.get(bucket_path(number))), sealed))
            writes.append(Write(ROOT_PATH, root_row.revision, index.seal_root(new_root)))
            try:
                revisions = self._storage.apply(writes)
            except ConflictError:  # another process wrote first: read again and check again
                _back_off(attempt)
                continue
            self._observe(floor, seq)
            for bucket in new_buckets:
                index.committed(bucket)
            by_path = {write.path: revision for write, revision in zip(writes, revisions, strict=True)}
            for request in live:
                request.succeed([None if c.value is None else by_path[c.physical] for c in request.changes])
            return
        for request in live:
            names = ", ".join(repr(change.name) for change in request.changes)
            request.fail(ConflictError(f"record {names} kept racing with other writers; try again"))

    # -- the index's own upkeep -------------------------------------------------------------------

    def _split(
        self,
        index: IndexKeys,
        root: RootIndex,
        changed: dict[int, Bucket],
        seq: int,
        rows: dict[str, StoredValue],
    ) -> tuple[list[Bucket], RootIndex]:
        """Every bucket after write ``seq`` doubled them, and the root that expects them.

        ``changed`` are the buckets as this write leaves them; the others are read
        (checked against ``root``) into ``rows`` here, with the rows of the new
        numbers. The caller writes them all with the root in its one apply, whose
        compare-and-set on the root fails if any bucket changed since.
        """
        count = len(root.buckets)
        unchanged = [number for number in range(count) if number not in changed]
        rows.update(self._storage.get_many([bucket_path(n) for n in (*unchanged, *range(count, 2 * count))]))
        old = dict(changed)
        for number in unchanged:
            path = bucket_path(number)
            old[number] = index.open_bucket(_value(rows.get(path)), number, root.buckets[number])
        new_root = root.split(seq)
        refiled: list[dict[str, int | None]] = [{} for _ in new_root.buckets]
        for bucket in old.values():
            for tag, record_seq in bucket.entries.items():
                refiled[new_root.bucket_of(tag_key(tag))][tag] = record_seq
        new_buckets = [Bucket(number, 0).with_entries(tags, seq) for number, tags in enumerate(refiled)]
        return new_buckets, new_root

    def _upgrade(self, unlocked: Unlocked, snapshot: CoreSnapshot) -> None:
        """Give a store from before the index one: every record it holds is listed as LEGACY.

        One atomic apply with the core record (now version 2), so a store is
        either wholly upgraded or not at all. Losing a race to another upgrader
        is fine: the caller reads again.
        """
        if snapshot.root_row is not None:
            return
        seq = 1
        located = [unlocked.index.locate(physical) for physical in self._storage.list(DATA_PREFIX)]
        count = bucket_count_for(len(located))
        listed: list[dict[str, int | None]] = [{} for _ in range(count)]
        for tag, key in located:
            listed[key % count][tag] = LEGACY
        # A bucket with no record stays unwritten (seq 0), as in a new store.
        buckets = [
            Bucket(number, 0).with_entries(tags, seq) if tags else Bucket(number, 0)
            for number, tags in enumerate(listed)
        ]
        strays = self._storage.get_many([bucket_path(n) for n in range(count)])
        root = RootIndex(seq, seq, tuple(bucket.seq for bucket in buckets))
        keyring = snapshot.core.open_keyring(unlocked.root)
        core = snapshot.core.with_keyring(unlocked.root, keyring, seq)
        writes = [
            Write(CORE_PATH, snapshot.core_row.revision, core.encode()),
            Write(ROOT_PATH, None, unlocked.index.seal_root(root)),
        ]
        for bucket in buckets:
            path, stray = bucket_path(bucket.number), strays.get(bucket_path(bucket.number))
            if bucket.seq:
                writes.append(Write(path, _revision(stray), unlocked.index.seal_bucket(bucket)))
            elif stray is not None:
                writes.append(Write(path, stray.revision, None))
        try:
            self._storage.apply(writes)
        except ConflictError:
            return

    def _require_legacy(self, floor: int) -> None:
        """No index root: fine only for a store from before the index, never one seen with it."""
        if floor or self.core_snapshot().core.seq is not None:
            raise CorruptRecord(
                f"the index root {ROOT_PATH!r} is missing; it was deleted outside the keystore"
            )

    def _observe(self, floor: int, seq: int) -> None:
        """A snapshot taken after this object had seen write ``floor`` cannot be older than it."""
        if seq < floor:
            raise CorruptRecord(
                f"the store went back in time: this keystore saw write {floor}, and the index is now at "
                f"{seq}. It was restored from an older copy while in use"
            )
        with self._lock:
            self._seen = max(self._seen, seq)


class _Request:
    """One caller's changes waiting for, or in, a group commit; ``taken``: a turn holder has them."""

    __slots__ = ("changes", "done", "error", "finished", "located", "paths", "result", "taken", "unlocked")

    def __init__(self, unlocked: Unlocked, changes: Sequence[RecordChange]) -> None:
        self.unlocked = unlocked
        self.changes = changes
        self.located = [unlocked.index.locate(change.physical) for change in changes]
        self.paths = {change.physical for change in changes}
        self.taken = False
        self.done = False
        self.finished = threading.Event()  # set with done: for a writer that stopped waiting for a turn
        self.result: list[int | None] = []
        self.error: Exception | None = None

    def succeed(self, revisions: list[int | None]) -> None:
        self.result, self.done = revisions, True
        self.finished.set()

    def fail(self, error: Exception) -> None:
        self.error, self.done = error, True
        self.finished.set()

    def outcome(self) -> list[int | None]:
        if self.error is not None:
            raise self.error  # each request has an exception object of its own
        return self.result


def _record_writes(
    request: _Request, rows: dict[str, StoredValue], buckets: dict[int, Bucket], count: int, seq: int
) -> list[Write]:
    """The record rows of ``request``'s changes, once each passes its check (``count`` buckets)."""
    for change, (tag, key) in zip(request.changes, request.located, strict=True):
        listed = tag in buckets[key % count].entries
        _check_expectation(
            rows.get(change.physical), change.expected, change.value is None, listed, change.name
        )
    writes = []
    for change in request.changes:
        current = rows.get(change.physical)
        if change.value is not None:
            record = encrypt_record(request.unlocked.keyring, change.physical, change.value, seq)
            writes.append(Write(change.physical, _revision(current), record))
        elif current is not None:
            writes.append(Write(change.physical, current.revision, None))
    return writes


def _decrypt(
    keyring: Keyring, reload: Callable[[], Keyring], physical: str, record: bytes, name: str
) -> tuple[bytes, int | None]:
    try:
        return decrypt_record(keyring, physical, record)
    except UnknownTermError as missing:
        try:
            return decrypt_record(reload(), physical, record)
        except UnknownTermError:
            raise CorruptRecord(
                f"record {name!r} names key term {missing.term}, which the keyring does not have"
            ) from None


def _check_expectation(
    current: StoredValue | None, expected: Expected, deleting: bool, listed: bool, name: str
) -> None:
    if deleting and current is None and (expected is not ANY_VERSION or not listed):
        raise KeyNotFound(f"no record at {name!r}")
    if expected is ANY_VERSION:
        return
    revision = None if current is None else current.revision
    if revision != expected:
        raise ConflictError(
            f"record {name!r} is at version {revision}, not {expected}; read it again and retry"
        )


def _value(row: StoredValue | None) -> bytes | None:
    return None if row is None else row.value


def _revision(row: StoredValue | None) -> int | None:
    return None if row is None else row.revision


def _back_off(attempt: int) -> None:
    """A short random pause after losing a race, growing with each loss, so racers spread out."""
    if attempt:
        import secrets  # here: it loads random (~0.7 ms), which only a lost write race needs

        time.sleep(secrets.randbelow(min(_BACKOFF_CAP_US, 100 << min(attempt, 8))) / 1_000_000)
