"""The index: the high-water mark that makes rolling back a record detectable.

Every write to a store is numbered by one store-wide sequence ``seq``. The
record carries its ``seq`` in its authenticated header (``barrier.py``), and
the index remembers, for every path, the ``seq`` its record must have::

    core/index   root:   seq (the last write), core_seq (the core record's), and
                         the seq of each bucket (64, doubling as the store grows)
    index/<nn>   bucket: its own seq, and path tag -> record seq for its paths

A write re-seals the root and the bucket it touches, so both must stay small:
a store starts with 64 buckets, and the write that would leave a bucket with
more than twice as many entries as there are buckets doubles them, re-filing
every entry in the same apply. Root and bucket then both stay near the square
root of the store's size (:func:`needs_split`).

A write changes the record, its bucket and the root in one atomic
:meth:`~secretumvault.keystore.storage.Storage.apply`, so the three always
agree, and a reader checks that they do (one consistent
:meth:`~secretumvault.keystore.storage.Storage.get_many`; a bucket this process
already knows at the root's write is not fetched again, see :class:`IndexKeys`).
Both index records are AES-256-GCM encrypted under a key derived from the root key, so nobody
without it can write a valid one.

What an attacker who can write rows (but has no key) can no longer do unseen:
put back an older copy of a record (its seq is below the bucket's entry), put
back a deleted one (no entry), or delete one (an entry without a record). To
hide that, they must also put back the bucket, whose seq is then below the
root's, and then the root, whose seq is then below that of every record
written since. Only restoring every row changed since some moment, that is
the whole store as it was then, stays unseen: without state outside the
store, an old store and a current one look alike. (A Keystore object also
remembers the highest seq it has seen, so while it lives it notices even
that.)

A bucket entry of :data:`LEGACY` stands for a record written before record
versions existed (format 0x01), listed when the store was upgraded; the next
write of that path replaces it with a versioned record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from secretumvault._frozen import Frozen, set_field
from secretumvault.encoding import tagged_json as _json
from secretumvault.errors import CorruptRecord
from secretumvault.keystore._aead import KEY_SIZE, NONCE_SIZE, Aead, TagMismatchError

__all__ = [
    "BUCKETS",
    "BUCKET_PREFIX",
    "LEGACY",
    "MAX_BUCKETS",
    "MAX_SEQ",
    "ROOT_PATH",
    "Bucket",
    "IndexKeys",
    "RootIndex",
    "bucket_count_for",
    "bucket_path",
    "needs_split",
    "tag_key",
]

ROOT_PATH = "core/index"
BUCKET_PREFIX = "index/"
#: Buckets of a new store; the count doubles (up to MAX_BUCKETS) as the store grows.
BUCKETS = 64
MAX_BUCKETS = 2**14
LEGACY = 0
MAX_SEQ = 2**63 - 1  # records carry seq as u64; a bound keeps hostile JSON integers small
_TAG_SIZE = 16
_ROOT_FORMAT = "secretumvault.keystore.index-root"
_BUCKET_FORMAT = "secretumvault.keystore.index-bucket"
_VERSION = 1
_ROOT_DOMAIN = b"secretumvault.keystore.index-root.v1\x00"
_BUCKET_DOMAIN = b"secretumvault.keystore.index-bucket.v1\x00"  # + the bucket's number, one byte
_WIDE_BUCKET_DOMAIN = b"secretumvault.keystore.index-bucket-wide.v1\x00"  # + four bytes, from 256 on
_AEAD_INFO = b"secretumvault.keystore.index.aead.v1"
_TAG_INFO = b"secretumvault.keystore.index.path-tag.v1"


_NO_ENTRIES: Mapping[str, int] = MappingProxyType({})  # read-only, so every empty Bucket may share it


def bucket_path(number: int) -> str:
    return f"{BUCKET_PREFIX}{number:02x}"


def tag_key(tag: str) -> int:
    """The number a path's tag files it by: bucket ``key % count`` of ``count`` buckets.

    The first four bytes of the tag's digest, little-endian, so with 64 buckets
    it is the first byte modulo 64, as before buckets could split; and a
    doubling sends each entry of bucket ``n`` to ``n`` or ``n + count``.
    """
    return int.from_bytes(base64.b64decode(tag)[:4], "little")


def needs_split(buckets: Iterable[Bucket], count: int) -> bool:
    """Whether a write leaving ``buckets`` (of ``count``) must double the buckets first.

    Each write re-seals the root (``count`` seqs) and a bucket (about
    records / ``count`` entries); splitting once a bucket holds more than
    2 x ``count`` keeps both near the square root of the store's size.
    """
    return count < MAX_BUCKETS and any(len(bucket.entries) > 2 * count for bucket in buckets)


def bucket_count_for(records: int) -> int:
    """The bucket count a store of ``records`` records would have reached by splitting."""
    count = BUCKETS
    while count < MAX_BUCKETS and records > 2 * count * count:
        count *= 2
    return count


def _bucket_domain(number: int) -> bytes:
    # One byte keeps the buckets of stores from before splitting valid; a wider number
    # gets a domain of its own, so no two numbers share associated data.
    if number < 256:
        return _BUCKET_DOMAIN + bytes([number])
    return _WIDE_BUCKET_DOMAIN + number.to_bytes(4, "big")


class RootIndex(Frozen):
    __slots__ = _fields = ("seq", "core_seq", "buckets")
    seq: int
    core_seq: int
    buckets: tuple[int, ...]

    def __init__(self, seq: int, core_seq: int, buckets: tuple[int, ...]) -> None:
        set_field(self, "seq", seq)
        set_field(self, "core_seq", core_seq)
        set_field(self, "buckets", buckets)

    @classmethod
    def new(cls, seq: int) -> RootIndex:
        """The root of a new store, whose core record was written at ``seq``."""
        return cls(seq, seq, (0,) * BUCKETS)

    def bucket_of(self, key: int) -> int:
        """The number of the bucket that files a path of :func:`tag_key` ``key``."""
        return key % len(self.buckets)

    def split(self, seq: int) -> RootIndex:
        """This root after write ``seq`` doubled the buckets and wrote every one of them."""
        return RootIndex(seq, self.core_seq, (seq,) * (2 * len(self.buckets)))

    def advanced(self, seq: int, buckets: Iterable[int], *, core: bool = False) -> RootIndex:
        """This root after a write numbered ``seq`` to ``buckets`` and/or the core record."""
        seqs = list(self.buckets)
        for number in buckets:
            seqs[number] = seq
        return RootIndex(seq, seq if core else self.core_seq, tuple(seqs))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _ROOT_FORMAT,
            "version": _VERSION,
            "seq": self.seq,
            "core_seq": self.core_seq,
            "buckets": list(self.buckets),
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> RootIndex:
        buckets = _json.require(obj, "buckets", list)
        count = len(buckets)
        if not BUCKETS <= count <= MAX_BUCKETS or count & (count - 1):
            raise _json.FormatError(f"the index root has {count} buckets, not a power of two from {BUCKETS}")
        root = cls(_seq(obj.get("seq")), _seq(obj.get("core_seq")), tuple(_seq(s) for s in buckets))
        if root.core_seq > root.seq or max(root.buckets) > root.seq:
            raise _json.FormatError("the index root names writes after its own")
        return root


class Bucket(Frozen):
    """The record seq of each path (by tag) in one bucket; ``seq`` is the bucket's last write."""

    __slots__ = _fields = ("number", "seq", "entries")
    number: int
    seq: int
    entries: Mapping[str, int]

    def __init__(self, number: int, seq: int, entries: Mapping[str, int] = _NO_ENTRIES) -> None:
        set_field(self, "number", number)
        set_field(self, "seq", seq)
        set_field(self, "entries", entries)

    def with_entry(self, tag: str, record_seq: int | None, seq: int) -> Bucket:
        """This bucket after write ``seq``: ``tag`` now at ``record_seq`` (None: removed)."""
        return self.with_entries({tag: record_seq}, seq)

    def with_entries(self, changes: Mapping[str, int | None], seq: int) -> Bucket:
        """This bucket after write ``seq``: each tag of ``changes`` at its record seq (None: removed).

        One copy of the entries for all of them: a bucket grows with the store.
        """
        entries = dict(self.entries)
        for tag, record_seq in changes.items():
            if record_seq is None:
                entries.pop(tag, None)
            else:
                entries[tag] = record_seq
        return Bucket(self.number, seq, MappingProxyType(entries))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _BUCKET_FORMAT,
            "version": _VERSION,
            "bucket": self.number,
            "seq": self.seq,
            "entries": dict(self.entries),  # in tag order when sealed: dumps() sorts keys
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any], number: int) -> Bucket:
        if obj.get("bucket") != number:
            raise _json.FormatError("the index bucket is filed under another number")
        seq = _seq(obj.get("seq"))
        entries = _json.require(obj, "entries", dict)
        parsed = {str(tag): _seq(record_seq) for tag, record_seq in entries.items()}
        if any(record_seq > seq for record_seq in parsed.values()):
            raise _json.FormatError("the index bucket names writes after its own")
        return cls(number, seq, MappingProxyType(parsed))


class IndexKeys:
    """The keys of the index, derived from the root key (which a rekey keeps): repr shows none.

    The last root and each bucket opened or sealed are remembered with their
    exact stored bytes: the same bytes, already authenticated under (or sealed
    with) these keys, are not decrypted and parsed again (most reads find the
    index unchanged, or as this process last wrote it).

    Each bucket is also remembered as *current at its write*: once it was read
    with the seq the root gave it, or its write was committed. A write number
    belongs to one committed write only (the root's compare-and-set), so a root
    that expects bucket ``n`` at that seq expects exactly this bucket, and a
    reader need not fetch its row again (:meth:`current_bucket`): a bucket
    grows with the store, and so did every read that fetched it. A bucket
    sealed for a write that then failed is never remembered so.
    """

    __slots__ = ("_aead", "_current_buckets", "_opened_buckets", "_opened_root", "_tag_key")

    def __init__(self, root_key: bytes) -> None:
        self._aead = Aead(_derive(root_key, _AEAD_INFO))
        self._tag_key = _derive(root_key, _TAG_INFO)
        self._opened_root: tuple[bytes, RootIndex] | None = None
        self._opened_buckets: dict[int, tuple[bytes, Bucket]] = {}
        self._current_buckets: dict[int, Bucket] = {}

    def __repr__(self) -> str:
        return "IndexKeys(<hidden>)"

    def locate(self, physical_path: str) -> tuple[str, int]:
        """The path's tag in its bucket, and its :func:`tag_key` (which bucket depends on the root).

        A keyed hash, so bucket sizes and the index say nothing of the paths.
        """
        digest = hmac.new(self._tag_key, physical_path.encode("utf-8"), hashlib.sha256).digest()
        return base64.b64encode(digest[:_TAG_SIZE]).decode("ascii"), int.from_bytes(digest[:4], "little")

    def bucket_count(self) -> int:
        """The bucket count of the last root this process opened or sealed (a guess: check it)."""
        opened = self._opened_root
        return BUCKETS if opened is None else len(opened[1].buckets)

    def seal_root(self, root: RootIndex) -> bytes:
        sealed = self._seal(root.to_dict(), _ROOT_DOMAIN)
        self._opened_root = (sealed, root)  # so the next read of these bytes need not open them
        return sealed

    def open_root(self, data: bytes) -> RootIndex:
        opened = self._opened_root
        if opened is not None and opened[0] == data:
            return opened[1]
        obj = self._open(data, _ROOT_DOMAIN, _ROOT_FORMAT, f"the index root {ROOT_PATH!r}")
        try:
            root = RootIndex.from_dict(obj)
        except _json.FormatError as exc:
            raise CorruptRecord(f"the index root {ROOT_PATH!r} is malformed: {exc}") from None
        self._opened_root = (bytes(data), root)
        return root

    def seal_bucket(self, bucket: Bucket) -> bytes:
        sealed = self._seal(bucket.to_dict(), _bucket_domain(bucket.number))
        # Most writes are read back (or written over) next: spare that read decrypting and
        # parsing a bucket that grows with the store. Right even if the apply then fails:
        # these bytes, wherever found, are this bucket.
        self._opened_buckets[bucket.number] = (sealed, bucket)
        return sealed

    def open_bucket(self, data: bytes | None, number: int, expected_seq: int) -> Bucket:
        """Bucket ``number``, which the root says was last written at ``expected_seq`` (0: never)."""
        where = f"index bucket {bucket_path(number)!r}"
        if data is None:
            if expected_seq != 0:
                raise CorruptRecord(f"the {where} is missing; it was deleted outside the keystore")
            return Bucket(number, 0)
        opened = self._opened_buckets.get(number)
        if opened is not None and opened[0] == data:
            bucket = opened[1]
        else:
            obj = self._open(data, _bucket_domain(number), _BUCKET_FORMAT, f"the {where}")
            try:
                bucket = Bucket.from_dict(obj, number)
            except _json.FormatError as exc:
                raise CorruptRecord(f"the {where} is malformed: {exc}") from None
            self._opened_buckets[number] = (bytes(data), bucket)
        if bucket.seq != expected_seq:
            raise CorruptRecord(
                f"the {where} is at write {bucket.seq}, but the index root says {expected_seq}: "
                "one of them was rolled back (an older copy put back)"
            )
        self._current_buckets[number] = bucket
        return bucket

    def committed(self, bucket: Bucket) -> None:
        """``bucket``'s write was committed: it is bucket ``number`` as of its seq."""
        self._current_buckets[bucket.number] = bucket

    def current_bucket(self, number: int, expected_seq: int) -> Bucket | None:
        """Bucket ``number`` as the root expects it (at ``expected_seq``) if it is remembered, else None."""
        bucket = self._current_buckets.get(number)
        return bucket if bucket is not None and bucket.seq == expected_seq else None

    def _seal(self, obj: dict[str, Any], domain: bytes) -> bytes:
        nonce, ciphertext = self._aead.seal(_json.dumps(obj), domain)
        return nonce + ciphertext

    def _open(self, data: bytes, domain: bytes, fmt: str, where: str) -> dict[str, Any]:
        try:
            plaintext = self._aead.open(data[:NONCE_SIZE], data[NONCE_SIZE:], domain)
        except TagMismatchError:
            raise CorruptRecord(f"{where} failed authentication: it was altered or moved") from None
        try:
            return _json.loads(plaintext, fmt, _VERSION)
        except (_json.FormatError, ValueError):
            raise CorruptRecord(f"{where} is malformed") from None


def _derive(root_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=info).derive(root_key)


def _seq(value: object) -> int:
    if type(value) is not int or not 0 <= value <= MAX_SEQ:
        raise _json.FormatError("a write number is missing or out of range")
    return value
