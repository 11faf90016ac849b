"""Tokens: random bearer secrets, stored only as their SHA-256 in the keystore.

A token carries policies, a time to live and whether it may be renewed. Each
token but the root token and orphans has a parent, and revocation follows
the tree, as in Vault, so nobody escapes it by making child tokens:

- revoking a token revokes every token made from it. The token is first
  marked revocation-pending (one compare-and-set), so from that moment it and
  its whole tree are refused and it can mint nothing more; then the tree is
  deleted, children before parents;
- a token is live only while every ancestor is: each use walks up the tree
  (cached, see below), so a child is refused as soon as an ancestor expired or
  was revoked, whether or not anyone used that ancestor. An expired ancestor
  found this way is revoked with its tree on the spot;
- a child made while its parent was being revoked is revoked at once (its
  creation checks the parent again after writing it);
- ``revoke-orphan`` revokes one token and makes its children orphans: the
  mark says so, so a revocation finished after a crash does the same.

Each token's accessor resolves through an index (accessor -> token hash),
written and deleted in one transaction with the token (and its tree link),
so a live token always has its accessor; an index entry only ever leads
through ``lookup_hash``, so a revoked token's accessor resolves to nothing
even if an entry lingers (written by a version before these transactions).
``tidy`` removes what a crash left behind (index entries and tree links of
tokens that are gone, expired tokens) and indexes tokens made before the
index existed.

A periodic token (``period``) has no maximum TTL unless ``explicit_max_ttl``
sets one: each renewal extends it by the period, whatever was asked.

Tokens have at least 192 random bits, so an unsalted hash cannot be reversed
by guessing; the hash is still domain-separated and stored under the
keystore's encryption. Decoded entries are cached by hash and proved current
before each use (``fresh.py``), so a revocation anywhere is seen at once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from secretumvault.errors import ConflictError, CorruptRecord, KeyNotFound
from secretumvault.keystore import Change, Entry, Keystore
from secretumvault.server.errors import bad_request, permission_denied
from secretumvault.server.state import records
from secretumvault.server.state.fresh import FreshRecords

__all__ = ["MAX_CACHED_TOKENS", "MAX_TTL", "TokenEntry", "TokenStore", "new_token_id"]

#: Vault's default system max TTL: 32 days.
MAX_TTL = 32 * 86400
_ID_PREFIX = "sys/token/id/"
_PARENT_PREFIX = "sys/token/parent/"
_ACCESSOR_PREFIX = "sys/token/accessor/"
_HASH_DOMAIN = b"secretumvault.server.token.v1\x00"
_MAX_TOKEN_LENGTH = 256
_UPDATE_ATTEMPTS = 8
#: How many decoded token entries a process keeps (keyed by hash; see ``fresh.py``).
MAX_CACHED_TOKENS = 4096
#: The deepest a token tree may grow: each use of a token walks up to its root.
MAX_TREE_DEPTH = 64
#: A revocation still pending after this long was interrupted (the process died): finish it.
_STALE_REVOCATION_SECONDS = 60


def new_token_id() -> str:
    """``hvs.`` and 32 url-safe characters (192 random bits), shaped like Vault's service tokens."""
    return "hvs." + secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(_HASH_DOMAIN + token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenEntry:
    hash: str = field(repr=False)
    accessor: str
    policies: tuple[str, ...]
    display_name: str
    creation_time: int
    ttl: int  # seconds; 0: never expires (root tokens)
    explicit_max_ttl: int
    expire_time: int | None
    renewable: bool
    parent: str | None = field(repr=False)
    meta: dict[str, str] = field(default_factory=dict)
    #: When its revocation began (epoch seconds): refused from then on, with its tree.
    revoking: int | None = None
    #: The revocation under way is ``revoke-orphan``: its children stay, as orphans.
    revoking_orphan: bool = False
    #: Periodic tokens: each renewal extends the token by this many seconds (0: not periodic).
    period: int = 0
    #: The token role it was made from ("" for none).
    role: str = ""
    #: The path it was made by (``auth/token/create``, ``auth/token/create/<role>`` ...).
    path: str = "auth/token/create"
    #: When it was last renewed (epoch seconds), if ever.
    last_renewal: int | None = None

    @property
    def granted(self) -> int:
        """The seconds its creation or last renewal granted (the ``lease_duration`` then shown)."""
        if self.expire_time is None:
            return 0
        return max(0, self.expire_time - (self.last_renewal or self.creation_time))

    @property
    def is_root(self) -> bool:
        return "root" in self.policies

    def encode(self) -> bytes:
        return records.dump(
            "token",
            {
                "accessor": self.accessor,
                "policies": list(self.policies),
                "display_name": self.display_name,
                "creation_time": self.creation_time,
                "ttl": self.ttl,
                "explicit_max_ttl": self.explicit_max_ttl,
                "expire_time": self.expire_time,
                "renewable": self.renewable,
                "parent": self.parent,
                "meta": self.meta,
                "revoking": self.revoking,
                "revoking_orphan": self.revoking_orphan,
                "period": self.period,
                "role": self.role,
                "path": self.path,
                "last_renewal": self.last_renewal,
            },
        )

    @classmethod
    def decode(cls, hashed: str, data: bytes) -> TokenEntry:
        where = _ID_PREFIX + hashed
        obj: dict[str, Any] = records.load(data, "token", where)
        try:
            return cls._from_fields(hashed, obj)
        except (KeyError, TypeError, ValueError):
            raise CorruptRecord(f"the server record {where!r} is corrupt: a field is missing") from None

    @classmethod
    def _from_fields(cls, hashed: str, obj: dict[str, Any]) -> TokenEntry:
        return cls(
            hash=hashed,
            accessor=str(obj["accessor"]),
            policies=tuple(obj["policies"]),
            display_name=str(obj["display_name"]),
            creation_time=int(obj["creation_time"]),
            ttl=int(obj["ttl"]),
            explicit_max_ttl=int(obj["explicit_max_ttl"]),
            expire_time=None if obj["expire_time"] is None else int(obj["expire_time"]),
            renewable=bool(obj["renewable"]),
            parent=obj["parent"],
            meta=dict(obj["meta"]),
            revoking=None if obj.get("revoking") is None else int(obj["revoking"]),
            # Fields added later: records written before them have their defaults.
            revoking_orphan=bool(obj.get("revoking_orphan", False)),
            period=int(obj.get("period", 0)),
            role=str(obj.get("role", "")),
            path=str(obj.get("path", "auth/token/create")),
            last_renewal=None if obj.get("last_renewal") is None else int(obj["last_renewal"]),
        )

    def lookup_data(self, now: int, token_id: str | None = None) -> dict[str, Any]:
        """What ``auth/token/lookup*`` shows (the token id only to its own holder)."""
        data: dict[str, Any] = {
            "id": token_id if token_id is not None else "",
            "accessor": self.accessor,
            "policies": list(self.policies),
            "display_name": self.display_name,
            "creation_time": self.creation_time,
            "creation_ttl": self.ttl,
            "ttl": 0 if self.expire_time is None else max(0, self.expire_time - now),
            "expire_time": None if self.expire_time is None else _iso(self.expire_time),
            "explicit_max_ttl": self.explicit_max_ttl,
            "renewable": self.renewable,
            "orphan": self.parent is None,
            "path": self.path,
            "meta": dict(self.meta) or None,
            "num_uses": 0,
            "type": "service",
            "entity_id": "",
        }
        if self.period:  # as Vault: only periodic tokens and role tokens show these
            data["period"] = self.period
        if self.role:
            data["role"] = self.role
        if self.last_renewal is not None:
            data["last_renewal_time"] = self.last_renewal
            data["last_renewal"] = _iso(self.last_renewal)
        return data


def _decode_at(path: str, data: bytes) -> TokenEntry:
    return TokenEntry.decode(path[len(_ID_PREFIX) :], data)


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class TokenStore:
    def __init__(self, keystore: Keystore, clock: Callable[[], float] = time.time) -> None:
        self._keystore = keystore
        self._clock = clock
        self.cache: FreshRecords[TokenEntry] = FreshRecords(keystore, _decode_at, MAX_CACHED_TOKENS)

    def now(self) -> int:
        return int(self._clock())

    def create(
        self,
        *,
        policies: tuple[str, ...],
        ttl: int,
        renewable: bool,
        display_name: str,
        parent: TokenEntry | None,
        explicit_max_ttl: int = 0,
        meta: dict[str, str] | None = None,
        token_id: str | None = None,
        period: int = 0,
        role: str = "",
        path: str = "auth/token/create",
    ) -> tuple[str, TokenEntry]:
        """A new token and its entry; the token string is returned once and never stored."""
        token = token_id if token_id is not None else new_token_id()
        if not 1 <= len(token) <= _MAX_TOKEN_LENGTH or not token.isprintable():
            raise bad_request("a token id must be 1 to 256 printable characters")
        now = self.now()
        entry = TokenEntry(
            hash=token_hash(token),
            accessor=secrets.token_urlsafe(18),
            policies=policies,
            display_name=display_name,
            creation_time=now,
            ttl=ttl,
            explicit_max_ttl=explicit_max_ttl,
            expire_time=None if ttl == 0 else now + ttl,
            renewable=renewable,
            parent=None if parent is None else parent.hash,
            meta=meta or {},
            period=period,
            role=role,
            path=path,
        )
        if self._keystore.list(_ID_PREFIX + entry.hash):
            raise bad_request("a token with this id already exists")
        if parent is not None and self._depth(parent) >= MAX_TREE_DEPTH:
            raise bad_request(f"token trees are at most {MAX_TREE_DEPTH} levels deep")
        # The token, its accessor index entry and its tree link in one transaction (one fsync,
        # issue 29): a token never exists that its accessor or revoking its parent would miss.
        # Index entry and link carry their time, for tidy (see there).
        stamp = records.dump("token-link", {"hash": entry.hash, "created": now})
        changes = [
            Change.cas(_ACCESSOR_PREFIX + entry.accessor, None, stamp),
            Change.cas(_ID_PREFIX + entry.hash, None, entry.encode()),
        ]
        if parent is not None:
            changes.append(Change.put(f"{_PARENT_PREFIX}{parent.hash}/{entry.hash}", stamp))
        try:
            self._keystore.apply(changes)
        except ConflictError:  # nothing was written
            raise bad_request("a token with this id already exists") from None
        if parent is not None and self.lookup_hash(parent.hash) is None:
            # The parent's revocation began while this child was being made, and its walk of
            # the tree may have missed it: the child goes too.
            self.revoke(entry)
            raise permission_denied()
        return token, entry

    def lookup(self, token: str) -> TokenEntry | None:
        """The live entry of ``token``, or None (unknown, expired, revoked, or an ancestor is not live)."""
        if not 1 <= len(token) <= _MAX_TOKEN_LENGTH:
            return None
        return self.lookup_hash(token_hash(token))

    def lookup_hash(self, hashed: str) -> TokenEntry | None:
        entry = self._live(hashed)
        if entry is None:
            return None
        ancestor_hash, depth = entry.parent, 0
        while ancestor_hash is not None:
            depth += 1
            ancestor = self.cache.get(_ID_PREFIX + ancestor_hash)
            if ancestor is None:  # revoked: its tree goes with it (finish that here)
                self.revoke(entry)
                return None
            if ancestor.revoking is not None:  # being revoked right now: refused meanwhile
                self._finish_if_stale(ancestor)
                return None
            if self._expired(ancestor):
                self.revoke(ancestor)
                return None
            if depth > MAX_TREE_DEPTH:  # never made so (see create); refuse rather than walk on
                return None
            ancestor_hash = ancestor.parent
        return entry

    def _live(self, hashed: str) -> TokenEntry | None:
        """The entry itself, if it exists, is not being revoked and has not expired."""
        entry = self.cache.get(_ID_PREFIX + hashed)  # current as stored: see fresh.py
        if entry is None:
            return None
        if entry.revoking is not None:
            self._finish_if_stale(entry)
            return None
        if self._expired(entry):
            self.revoke(entry)
            return None
        return entry

    def _expired(self, entry: TokenEntry) -> bool:
        return entry.expire_time is not None and entry.expire_time <= self.now()

    def _depth(self, entry: TokenEntry) -> int:
        """How many ancestors ``entry`` has."""
        depth, parent = 0, entry.parent
        while parent is not None and depth <= MAX_TREE_DEPTH:
            depth += 1
            ancestor = self.cache.get(_ID_PREFIX + parent)
            parent = None if ancestor is None else ancestor.parent
        return depth

    def lookup_accessor(self, accessor: str) -> TokenEntry | None:
        """The live token whose accessor this is, or None (unknown, revoked, expired ...)."""
        if not 1 <= len(accessor) <= _MAX_TOKEN_LENGTH or "/" in accessor:
            return None
        try:
            stamp = records.load(self._keystore.get(_ACCESSOR_PREFIX + accessor), "token-link", "accessor")
        except KeyNotFound:
            return None
        entry = self.lookup_hash(str(stamp["hash"]))
        return entry if entry is not None and entry.accessor == accessor else None

    def accessors(self) -> list[str]:
        """Every accessor in the index (a crash may leave a few of revoked tokens: ``tidy``)."""
        return sorted(path[len(_ACCESSOR_PREFIX) :] for path in self._keystore.list(_ACCESSOR_PREFIX))

    def renew(self, entry: TokenEntry, increment: int | None) -> TokenEntry:
        """Extend the token's life by ``increment`` (default: its ttl), within its max TTL.

        A periodic token is extended by its period whatever the increment, capped only by
        its explicit max TTL, as in Vault.
        """
        if not entry.renewable or entry.expire_time is None:
            raise bad_request("this token is not renewable")
        path = _ID_PREFIX + entry.hash
        for _ in range(_UPDATE_ATTEMPTS):
            try:
                stored = self._keystore.get_entry(path)
            except KeyNotFound:
                raise bad_request("the token was revoked") from None
            current = TokenEntry.decode(entry.hash, stored.value)
            if current.revoking is not None:
                raise bad_request("the token was revoked")
            now = self.now()
            if current.period:
                wanted = now + current.period
                cap = current.explicit_max_ttl
                limit = current.creation_time + cap if cap else wanted
            else:
                wanted = now + (increment if increment else current.ttl)
                limit = current.creation_time + (current.explicit_max_ttl or MAX_TTL)
            renewed = replace(current, expire_time=min(wanted, limit), last_renewal=now)
            try:
                self._keystore.cas(path, stored.version, renewed.encode())
            except ConflictError:
                continue
            return renewed
        raise ConflictError("the token kept changing; try again")

    def revoke(self, entry: TokenEntry) -> None:
        """Revoke the token and every token made from it, children before parents.

        The token is first marked revocation-pending, so it and its tree are refused
        from that moment; if another request is revoking it already, this one returns
        at once rather than walk the same tree again. Iterative, so a long chain of
        tokens cannot exhaust the stack.
        """
        if not self._mark_revoking(entry):
            return
        order: list[str] = []
        pending = [entry.hash]
        while pending:
            hashed = pending.pop()
            order.append(hashed)
            pending.extend(self._children(hashed))
        for hashed in reversed(order):
            links = [f"{_PARENT_PREFIX}{hashed}/{child}" for child in self._children(hashed)]
            if hashed == entry.hash and entry.parent is not None:
                links.append(f"{_PARENT_PREFIX}{entry.parent}/{entry.hash}")
            self._delete_token(hashed, links)

    def revoke_orphan(self, entry: TokenEntry) -> None:
        """Revoke the token alone: each child loses its parent and becomes an orphan.

        Marked first, as ``revoke`` does (the mark says "orphan", so a revocation finished
        after a crash does the same); each child is made an orphan before its link goes.
        """
        if not self._mark_revoking(entry, orphan=True):
            return
        for child in self._children(entry.hash):
            self._make_orphan(child)
            self._delete(f"{_PARENT_PREFIX}{entry.hash}/{child}")
        links = [] if entry.parent is None else [f"{_PARENT_PREFIX}{entry.parent}/{entry.hash}"]
        self._delete_token(entry.hash, links)

    def _make_orphan(self, hashed: str) -> None:
        path = _ID_PREFIX + hashed
        for _ in range(_UPDATE_ATTEMPTS):
            try:
                stored = self._keystore.get_entry(path)
            except KeyNotFound:
                return  # revoked meanwhile: nothing to keep
            current = TokenEntry.decode(hashed, stored.value)
            try:
                self._keystore.cas(path, stored.version, replace(current, parent=None).encode())
            except ConflictError:
                continue
            self.cache.forget(path)
            return
        raise ConflictError("the token kept changing; try again")

    def _delete_token(self, hashed: str, links: list[str]) -> None:
        """Delete the token's entry, its accessor's index entry and ``links`` (tree links to or
        from it) in one transaction, each only as it was just read (a compare-and-delete)."""
        path = _ID_PREFIX + hashed
        self.cache.forget(path)
        for _ in range(_UPDATE_ATTEMPTS):
            try:
                stored: Entry | None = self._keystore.get_entry(path)
            except KeyNotFound:
                stored = None
            targets = list(links)
            if stored is not None:
                targets.append(_ACCESSOR_PREFIX + TokenEntry.decode(hashed, stored.value).accessor)
            changes = [] if stored is None else [Change.delete(path, expected_version=stored.version)]
            for target in targets:
                version = self._keystore.record_version(target)
                if version is not None:
                    changes.append(Change.delete(target, expected_version=version))
            try:
                self._keystore.apply(changes)
            except (ConflictError, KeyNotFound):
                continue  # another revocation of the same tree changed some of them: read again
            return
        raise ConflictError("the token kept changing; try again")

    def tidy(self) -> dict[str, int]:
        """Clean up after crashes: what ``auth/token/tidy`` does. Returns what it did, by kind.

        Expired tokens and tokens under a revoked or expired ancestor are revoked; stale
        revocations finished; tokens without an accessor index entry get one. Index entries
        and tree links of tokens that are gone are removed once they are older than a
        creation can take (a token being made writes them just before itself).
        """
        done = {"revoked": 0, "indexed": 0, "accessors_removed": 0, "links_removed": 0}
        now = self.now()
        for path in self._keystore.list(_ID_PREFIX):
            hashed = path[len(_ID_PREFIX) :]
            entry = self.cache.get(path)
            if entry is None:
                continue
            if entry.revoking is not None:
                self._finish_if_stale(entry)
                continue
            if self.lookup_hash(hashed) is None:
                done["revoked"] += 1
                continue
            stamp = records.dump("token-link", {"hash": hashed, "created": now})
            try:
                self._keystore.cas(_ACCESSOR_PREFIX + entry.accessor, None, stamp)
                done["indexed"] += 1
            except ConflictError:
                pass  # indexed already
        for path in self._keystore.list(_ACCESSOR_PREFIX):
            target = self._stale_target(path, now)
            if target is not None and not self._keystore.list(_ID_PREFIX + target):
                self._delete(path)
                done["accessors_removed"] += 1
        for path in self._keystore.list(_PARENT_PREFIX):
            child = path.rsplit("/", 1)[-1]
            stale = self._stale_target(path, now, child) is not None
            if stale and not self._keystore.list(_ID_PREFIX + child):
                self._delete(path)
                done["links_removed"] += 1
        return done

    def _stale_target(self, path: str, now: int, default: str | None = None) -> str | None:
        """The token hash an index entry or link names, if it is old enough to judge; else None."""
        try:
            raw = self._keystore.get(path)
        except KeyNotFound:
            return None
        if not raw:  # a link from before links carried their time: old by definition
            return default
        stamp = records.load(raw, "token-link", path)
        if now - int(stamp["created"]) < _STALE_REVOCATION_SECONDS:
            return None
        return str(stamp["hash"]) if default is None else default

    def _mark_revoking(self, entry: TokenEntry, *, orphan: bool = False) -> bool:
        """Mark the token revocation-pending; False if it is gone or another revocation is under way."""
        path = _ID_PREFIX + entry.hash
        for _ in range(_UPDATE_ATTEMPTS):
            try:
                stored = self._keystore.get_entry(path)
            except KeyNotFound:
                return True  # gone already: what may be left is links, which the walk removes
            current = TokenEntry.decode(entry.hash, stored.value)
            now = self.now()
            if current.revoking is not None and now - current.revoking < _STALE_REVOCATION_SECONDS:
                return False
            try:
                marked = replace(current, revoking=now, revoking_orphan=orphan)
                self._keystore.cas(path, stored.version, marked.encode())
            except ConflictError:
                continue
            self.cache.forget(path)
            return True
        raise ConflictError("the token kept changing; try again")

    def _finish_if_stale(self, entry: TokenEntry) -> None:
        """Finish a revocation that began long ago and never ended (its process died)."""
        assert entry.revoking is not None
        if self.now() - entry.revoking >= _STALE_REVOCATION_SECONDS:
            if entry.revoking_orphan:
                self.revoke_orphan(entry)
            else:
                self.revoke(entry)

    def _children(self, hashed: str) -> list[str]:
        prefix = f"{_PARENT_PREFIX}{hashed}/"
        return [path[len(prefix) :] for path in self._keystore.list(prefix)]

    def _delete(self, path: str) -> None:
        self.cache.forget(path)
        try:
            self._keystore.delete(path)
        except KeyNotFound:
            pass  # revoked concurrently: the goal is reached
