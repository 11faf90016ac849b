"""The Keystore: sealed at rest, encrypted records, on any :class:`Storage`.

Physical layout in storage: ``core/keyring`` holds the seal configuration and
wrapped keys (``core.py``), ``core/index`` and ``index/<nn>`` the index that
versions every record (``index.py``); every user record lives at
``data/<path>``, so no user path can reach the others.
"""

from __future__ import annotations

import builtins
import threading
import weakref
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

from secretumvault._frozen import Frozen, set_field
from secretumvault.errors import (
    AlreadyInitialized,
    ConflictError,
    CorruptRecord,
    InvalidArgument,
    InvalidType,
    SealedError,
    UnsealError,
)
from secretumvault.keystore import autoseal as _auto
from secretumvault.keystore import rekey as _rekey
from secretumvault.keystore import shamir
from secretumvault.keystore._aead import KEY_SIZE, Aead, new_key
from secretumvault.keystore._paths import check_path, check_prefix, check_version
from secretumvault.keystore._records import ANY_VERSION, DATA_PREFIX, Expected, RecordChange, Records
from secretumvault.keystore.core import (
    CORE_PATH,
    CoreRecord,
    Unlocked,
    unlocked_from_root_key,
    wrap_root_key,
)
from secretumvault.keystore.index import ROOT_PATH, IndexKeys, RootIndex
from secretumvault.keystore.keyring import Keyring
from secretumvault.keystore.rekey import PendingRekey
from secretumvault.keystore.seal import (
    AutoSeal,
    KeyWrapper,
    PassphraseSeal,
    ScryptParams,
    SealConfig,
    ShamirSeal,
    check_scrypt_limit,
)
from secretumvault.keystore.storage import ChangeTracking, Storage, Write
from secretumvault.pqc._buffers import as_bytes

__all__ = ["Change", "Entry", "Keystore", "UnsealProgress"]

_FIRST_SEQ = 1


class Entry(Frozen):
    """A record read through the barrier: its plaintext and its version (for :meth:`Keystore.cas`)."""

    __slots__ = _fields = ("value", "version")
    _secret_fields = ("value",)
    value: bytes
    version: int

    def __init__(self, value: bytes, version: int) -> None:
        set_field(self, "value", value)
        set_field(self, "version", version)


class Change(Frozen):
    """One record's change in :meth:`Keystore.apply`; make it with :meth:`put`, :meth:`cas` or
    :meth:`delete`, which take what the Keystore methods of those names take."""

    __slots__ = _fields = ("path", "value", "expected_version")
    _secret_fields = ("value",)
    path: str
    value: bytes | None
    expected_version: Expected  # ANY_VERSION (put; delete without one), None or a version

    def __init__(self, path: str, value: bytes | None, expected_version: Expected) -> None:
        set_field(self, "path", path)
        set_field(self, "value", value)
        set_field(self, "expected_version", expected_version)

    @classmethod
    def put(cls, path: str, value: bytes | bytearray | memoryview) -> Change:
        return cls(check_path(path), as_bytes(value, "value"), ANY_VERSION)

    @classmethod
    def cas(cls, path: str, expected_version: int | None, value: bytes | bytearray | memoryview) -> Change:
        return cls(check_path(path), as_bytes(value, "value"), check_version(expected_version))

    @classmethod
    def delete(cls, path: str, *, expected_version: int | None = None) -> Change:
        expected = check_version(expected_version)
        return cls(check_path(path), None, ANY_VERSION if expected is None else expected)


class UnsealProgress(Frozen):
    """Where share unsealing stands: ``provided`` of ``threshold`` shares so far."""

    __slots__ = _fields = ("sealed", "provided", "threshold")
    sealed: bool
    provided: int
    threshold: int

    def __init__(self, sealed: bool, provided: int, threshold: int) -> None:
        set_field(self, "sealed", sealed)
        set_field(self, "provided", provided)
        set_field(self, "threshold", threshold)


class Keystore:
    """Encrypted, sealable key-value store for secrets and key material.

    Thread-safe. Several Keystore objects (in several processes) may share one
    storage; each is sealed or unsealed on its own.

    ``scrypt_limit`` bounds the scrypt cost this keystore will run to unseal
    (and will write at initialisation or rekey). The stored parameters are
    checked against it before scrypt runs, so a tampered store cannot make an
    unseal attempt spend gigabytes. The default is the cost the library writes
    by default; raise it only for a store made with a higher cost on purpose.

    Every record is versioned by the store's index: a record rolled back to an
    older copy, put back after a delete or deleted behind the keystore's back
    fails with CorruptRecord (see ``index.py`` for what stays undetectable).
    """

    #: The cost :meth:`initialize_with_passphrase` writes unless told otherwise.
    DEFAULT_SCRYPT_LIMIT = ScryptParams()

    def __init__(self, storage: Storage, *, scrypt_limit: ScryptParams = DEFAULT_SCRYPT_LIMIT) -> None:
        self._scrypt_limit = check_scrypt_limit(scrypt_limit)
        self._storage = storage
        self._records = Records(storage)
        self._lock = threading.Lock()
        self._unlocked: Unlocked | None = None
        self._pending_shares: dict[int, shamir.Share] = {}
        self._seal_listeners: weakref.WeakSet[_SealListener] = weakref.WeakSet()
        # Checked once: isinstance() against a runtime Protocol is slow for a per-call path.
        self._tracking = storage if isinstance(storage, ChangeTracking) else None

    def __repr__(self) -> str:
        return f"Keystore({self._storage!r}, sealed={self.sealed})"

    # -- status ------------------------------------------------------------------------

    @property
    def sealed(self) -> bool:
        return self._unlocked is None

    @property
    def initialized(self) -> bool:
        return self._storage.get(CORE_PATH) is not None

    @property
    def key_terms(self) -> builtins.list[int]:
        """The data-key terms known to this keystore (the last one is used for writing)."""
        return self._require_unsealed().keyring.terms

    # -- initialisation ------------------------------------------------------------------

    def initialize_with_passphrase(
        self, passphrase: str | bytes, *, scrypt: ScryptParams | None = None
    ) -> None:
        """Initialise a new store, unsealable with ``passphrase``. It stays sealed."""
        secret = _rekey.passphrase_bytes(passphrase)
        seal = _rekey.new_passphrase_seal(scrypt, self._scrypt_limit)
        self._refuse_if_initialized()
        self._create(seal, seal.derive_kek(secret))

    def initialize_with_shares(self, *, shares: int, threshold: int) -> builtins.list[str]:
        """Initialise a new store and return its ``shares`` unseal shares (shown only now).

        Any ``threshold`` of them unseal it; fewer do not. It stays sealed.
        """
        seal = ShamirSeal.new(shares, threshold)
        self._refuse_if_initialized()
        kek = new_key()
        # Split before writing: if splitting failed after the write, the store
        # would be initialised with no way to unseal it.
        encoded_shares = shamir.split(kek, seal)
        self._create(seal, kek)
        return encoded_shares

    def initialize_with_auto_seal(
        self, wrapper: KeyWrapper, *, recovery_shares: int, recovery_threshold: int
    ) -> builtins.list[str]:
        """Initialise a new store whose KEK ``wrapper`` wraps (transit, PKCS#11); return its
        recovery shares (shown only now). It stays sealed; :meth:`unseal_auto` opens it.

        The recovery shares authorise migrating the store off this seal; they do not unseal it.
        The wrapper is called before anything is written: if it cannot be reached
        (SealUnavailable), the store stays uninitialised.
        """
        _auto.check_wrapper(wrapper)
        recovery = ShamirSeal.new(recovery_shares, recovery_threshold)
        self._refuse_if_initialized()
        recovery_key, kek = new_key(), new_key()
        encoded_shares = shamir.split(recovery_key, recovery)
        self._create(_auto.make_auto_seal(wrapper, kek, recovery, recovery_key), kek)
        return encoded_shares

    def _refuse_if_initialized(self) -> None:
        if self.initialized:
            raise AlreadyInitialized("this store is already initialised; unseal it instead")
        self._records.refuse_if_damaged()

    def _create(self, seal: SealConfig, kek: bytes) -> None:
        """The core record and the index root, in one atomic create-if-absent."""
        root_key = new_key()
        index = IndexKeys(root_key)
        core = CoreRecord.build(
            seal, wrap_root_key(kek, root_key, seal), Aead(root_key), Keyring.new(), _FIRST_SEQ
        )
        try:
            self._storage.apply(
                [
                    Write(CORE_PATH, None, core.encode()),
                    Write(ROOT_PATH, None, index.seal_root(RootIndex.new(_FIRST_SEQ))),
                ]
            )
        except ConflictError:  # another process initialised it first, or the store is damaged
            if not self.initialized:
                self._records.refuse_if_damaged()
            raise AlreadyInitialized("this store is already initialised; unseal it instead") from None

    # -- seal and unseal -------------------------------------------------------------------

    def unseal(self, passphrase: str | bytes) -> None:
        """Unseal a passphrase-sealed store. UnsealError if the passphrase is wrong."""
        secret = _rekey.passphrase_bytes(passphrase)
        snapshot = self._records.core_snapshot()
        seal = snapshot.core.seal
        if not isinstance(seal, PassphraseSeal):
            raise _wrong_material(seal)
        seal.check_cost(self._scrypt_limit)
        unlocked = snapshot.core.unlock(seal.derive_kek(secret))
        self._records.check_core(snapshot, unlocked.index)
        with self._lock:
            self._unlocked = unlocked

    def unseal_share(self, share: str) -> UnsealProgress:
        """Give one Shamir share. The store unseals when ``threshold`` distinct shares are in.

        A garbled, foreign or repeated share raises UnsealError and is not counted.
        If the shares given are well-formed but do not rebuild the key, all of
        them are discarded (as in Vault) and UnsealError is raised.
        """
        parsed = shamir.parse_share(share)
        snapshot = self._records.core_snapshot()
        seal = snapshot.core.seal
        if not isinstance(seal, ShamirSeal):
            raise _wrong_material(seal)
        if parsed.set_id != seal.set_id or parsed.threshold != seal.threshold:
            raise UnsealError("this share belongs to another store (or to its shares before a rekey)")
        with self._lock:
            if self._unlocked is not None:
                return UnsealProgress(sealed=False, provided=0, threshold=seal.threshold)
            if parsed.index in self._pending_shares:
                raise UnsealError(f"share number {parsed.index} was already given")
            self._pending_shares[parsed.index] = parsed
            if len(self._pending_shares) < seal.threshold:
                return UnsealProgress(True, len(self._pending_shares), seal.threshold)
            shares, self._pending_shares = list(self._pending_shares.values()), {}
            unlocked = snapshot.core.unlock(shamir.combine(shares))
            self._records.check_core(snapshot, unlocked.index)
            self._unlocked = unlocked
            return UnsealProgress(sealed=False, provided=len(shares), threshold=seal.threshold)

    def unseal_auto(self, wrapper: KeyWrapper) -> None:
        """Unseal an auto-sealed store through its seal's key. SealUnavailable (retry later) if
        the key cannot be reached; UnsealError if it is not this store's key."""
        snapshot = self._records.core_snapshot()
        seal = snapshot.core.seal
        if not isinstance(seal, AutoSeal):
            raise _wrong_material(seal)
        unlocked = snapshot.core.unlock(_auto.unwrap_kek(seal, wrapper))
        self._records.check_core(snapshot, unlocked.index)
        with self._lock:
            self._unlocked = unlocked
            self._pending_shares = {}

    @property
    def seal_configuration(self) -> SealConfig:
        """The store's seal as stored (in clear): its kind and, for shares, their counts."""
        return self._records.core_snapshot().core.seal

    def verify_recovery(self, shares: Sequence[str]) -> None:
        """UnsealError unless ``shares`` are enough right recovery shares of this auto-sealed store."""
        seal = self.seal_configuration
        if not isinstance(seal, AutoSeal):
            raise UnsealError("this store has no recovery shares: it is not auto-sealed")
        _auto.combine_recovery(seal, shares)

    def seal(self) -> None:
        """Forget the keys (and any shares given so far). Every operation then raises SealedError."""
        with self._lock:
            self._unlocked = None
            self._pending_shares = {}
            listeners = list(self._seal_listeners)
        for listener in listeners:
            listener.keystore_sealed()

    def add_seal_listener(self, listener: _SealListener) -> None:
        """Call ``listener.keystore_sealed()`` on every :meth:`seal`, so caches of what was
        read while unsealed (transit keys) are dropped with the keys. Held weakly."""
        self._seal_listeners.add(listener)

    def _require_unsealed(self) -> Unlocked:
        unlocked = self._unlocked
        if unlocked is None:
            raise SealedError("the keystore is sealed: unseal it with unseal() or unseal_share() first")
        return unlocked

    # -- handing the unsealed state to a sibling process (server workers) ---------------------

    def export_root_key(self) -> bytes:
        """The root key of this unsealed keystore, for another process of the same server to
        unseal with (``server/workers.py`` sends it encrypted). SealedError if sealed."""
        return self._require_unsealed().root_key

    def unseal_with_root_key(self, root_key: bytes) -> None:
        """Unseal with a root key from :meth:`export_root_key` of a keystore on the same store.

        UnsealError (still sealed) if it does not open this store's keyring. Shares given so far
        are forgotten, as after any unseal.
        """
        if not isinstance(root_key, bytes) or len(root_key) != KEY_SIZE:
            raise UnsealError(f"a root key is {KEY_SIZE} bytes")
        snapshot = self._records.core_snapshot()
        try:
            keyring = snapshot.core.open_keyring(Aead(root_key))
        except CorruptRecord:
            raise UnsealError("this root key does not open this store's keyring") from None
        unlocked = unlocked_from_root_key(root_key, keyring)
        self._records.check_core(snapshot, unlocked.index)
        with self._lock:
            self._unlocked = unlocked
            self._pending_shares = {}

    # -- rekey ---------------------------------------------------------------------------------

    def prepare_rekey(
        self,
        current: str | bytes | Sequence[str],
        *,
        passphrase: str | bytes | None = None,
        shares: int | None = None,
        threshold: int | None = None,
        scrypt: ScryptParams | None = None,
    ) -> PendingRekey:
        """Check the ``current`` unseal material and make the new one; the store is not changed yet.

        ``current`` is the passphrase, or at least ``threshold`` of the current
        shares. The new material is ``passphrase`` (with ``scrypt``) or
        ``shares``/``threshold`` new Shamir shares, in ``PendingRekey.shares``.
        Record the new shares, then call :meth:`complete_rekey`: until then the
        store unseals with the current material only, and after it with the new
        material only. The keystore need not be unsealed.
        """
        snapshot = self._records.core_snapshot()
        root_key = _rekey.verify_current(snapshot.core, current, self._scrypt_limit)
        return _rekey.prepare(
            snapshot.core, root_key, passphrase, shares, threshold, scrypt, self._scrypt_limit
        )

    def prepare_seal_migration(
        self,
        *,
        current: str | bytes | Sequence[str] | None = None,
        old_wrapper: KeyWrapper | None = None,
        new_wrapper: KeyWrapper | None = None,
        recovery: Sequence[str] | None = None,
        recovery_shares: int = 1,
        recovery_threshold: int = 1,
    ) -> PendingRekey:
        """The root key wrapped for a new seal; the store is not changed until :meth:`complete_rekey`.

        - Shamir shares or passphrase (``current``) to an auto seal (``new_wrapper``): the shares
          become the recovery shares (a passphrase store gets ``recovery_shares`` new ones, in
          ``PendingRekey.shares``).
        - An auto seal (``old_wrapper``, and its ``recovery`` shares) to Shamir (no
          ``new_wrapper``): the recovery shares become the unseal shares.
        - An auto seal (``old_wrapper``) to another (``new_wrapper``): the recovery shares stay.
        """
        core = self._records.core_snapshot().core
        seal = core.seal
        new_shares: tuple[str, ...] = ()
        new_seal: SealConfig
        if isinstance(seal, AutoSeal):
            if old_wrapper is None:
                raise UnsealError("this store is auto-sealed: give its current seal (old_wrapper)")
            root_key = core.unwrap_root_key(_auto.unwrap_kek(seal, old_wrapper))
            if new_wrapper is None:
                if recovery is None:
                    raise UnsealError("moving off an auto seal needs the store's recovery shares")
                kek = _auto.combine_recovery(seal, recovery)
                new_seal = seal.recovery  # the recovery shares are now the unseal shares
            else:
                kek = new_key()
                # The recovery key is not known here; its check is carried over unchanged.
                wrapped = _auto.check_wrapper(new_wrapper).wrap(
                    kek, _auto.kek_associated_data(new_wrapper.seal_type, new_wrapper.key_id)
                )
                new_seal = AutoSeal(
                    new_wrapper.seal_type, new_wrapper.key_id, wrapped, seal.recovery, seal.recovery_check
                )
        else:
            if new_wrapper is None:
                raise UnsealError("give the new seal (new_wrapper); between shares and a passphrase, rekey")
            if current is None:
                raise UnsealError("give the store's current unseal shares or passphrase")
            root_key = _rekey.verify_current(core, current, self._scrypt_limit)
            if isinstance(seal, ShamirSeal):
                recovery_seal = seal  # the unseal shares become the recovery shares, as in Vault
                recovery_key = _rekey.current_kek(seal, current)
            else:
                recovery_seal = ShamirSeal.new(recovery_shares, recovery_threshold)
                recovery_key = new_key()
                new_shares = tuple(shamir.split(recovery_key, recovery_seal))
            kek = new_key()
            wrapper = _auto.check_wrapper(new_wrapper)
            new_seal = _auto.make_auto_seal(wrapper, kek, recovery_seal, recovery_key)
        unlocked = unlocked_from_root_key(root_key, core.open_keyring(Aead(root_key)))
        return PendingRekey(new_seal, wrap_root_key(kek, root_key, new_seal), new_shares, unlocked, core)

    def prepare_recovery_rekey(
        self, wrapper: KeyWrapper, recovery: Sequence[str], *, shares: int, threshold: int
    ) -> PendingRekey:
        """New recovery shares for an auto-sealed store (Vault's ``sys/rekey-recovery-key``).

        ``recovery`` are enough of the current recovery shares; ``wrapper`` is the store's seal,
        needed because the root key is bound to the seal configuration (recovery shares
        included) and so is rewrapped. The new shares are in ``PendingRekey.shares``; the store
        is unchanged until :meth:`complete_rekey`, and its seal stays the same.
        """
        core = self._records.core_snapshot().core
        seal = core.seal
        if not isinstance(seal, AutoSeal):
            raise UnsealError("this store has no recovery shares: it is not auto-sealed")
        _auto.combine_recovery(seal, recovery)  # checked before the seal is asked anything
        new_recovery = ShamirSeal.new(shares, threshold)
        kek = _auto.unwrap_kek(seal, wrapper)
        root_key = core.unwrap_root_key(kek)
        recovery_key = new_key()
        new_shares = tuple(shamir.split(recovery_key, new_recovery))
        new_seal = _auto.make_auto_seal(wrapper, kek, new_recovery, recovery_key)
        unlocked = unlocked_from_root_key(root_key, core.open_keyring(Aead(root_key)))
        return PendingRekey(new_seal, wrap_root_key(kek, root_key, new_seal), new_shares, unlocked, core)

    def complete_rekey(self, pending: PendingRekey) -> None:
        """Switch the store to the new unseal material of ``pending``, atomically.

        Only the root key is rewrapped; no record is re-encrypted, and keystores
        unsealed elsewhere stay unsealed. ConflictError (store unchanged) if
        the store was rekeyed by someone else since :meth:`prepare_rekey`.
        """
        if not isinstance(pending, PendingRekey):
            raise InvalidType(f"complete_rekey() takes a PendingRekey, not {type(pending).__name__}")

        def rekeyed(core: CoreRecord, seq: int) -> CoreRecord:
            pending.check_still_current(core)
            return CoreRecord.build(
                pending.seal,
                pending.wrapped_root_key,
                pending.unlocked.root,
                core.open_keyring(pending.unlocked.root),
                seq,
            )

        self._records.write_core(pending.unlocked, rekeyed)
        with self._lock:
            self._pending_shares = {}

    def rekey(
        self,
        current: str | bytes | Sequence[str],
        *,
        passphrase: str | bytes | None = None,
        shares: int | None = None,
        threshold: int | None = None,
        scrypt: ScryptParams | None = None,
    ) -> builtins.list[str]:
        """:meth:`prepare_rekey` then :meth:`complete_rekey`; returns the new shares ([] for a passphrase).

        With new shares, prefer the two steps: shares returned only after the
        switch are lost with them if the process dies in between.
        """
        pending = self.prepare_rekey(
            current, passphrase=passphrase, shares=shares, threshold=threshold, scrypt=scrypt
        )
        self.complete_rekey(pending)
        return list(pending.shares)

    # -- key rotation ------------------------------------------------------------------------

    def rotate(self) -> int:
        """Add a new data-key term and write with it from now on; return the new term.

        Records under older terms stay readable. Safe against concurrent
        rotation from other processes (compare-and-set on the core record).
        """
        unlocked = self._require_unsealed()
        core = self._records.write_core(
            unlocked,
            lambda core, seq: core.with_keyring(
                unlocked.root, core.open_keyring(unlocked.root).rotated(), seq
            ),
        )
        keyring = core.open_keyring(unlocked.root)
        self._adopt_keyring(unlocked, keyring)
        return keyring.active_term

    def _adopt_keyring(self, unlocked: Unlocked, keyring: Keyring) -> None:
        with self._lock:
            current = self._unlocked
            # Only while still unsealed under the same root key (nobody sealed or
            # re-unsealed meanwhile), and never back to an older keyring.
            if (
                current is not None
                and current.root is unlocked.root
                and current.keyring.active_term < keyring.active_term
            ):
                self._unlocked = Unlocked(unlocked.root, keyring, unlocked.index, unlocked.root_key)

    def _reload_keyring(self, unlocked: Unlocked) -> Keyring:
        """Another process may have rotated: read the keyring again from storage."""
        keyring = self._records.core_snapshot().core.open_keyring(unlocked.root)
        if keyring.active_term > unlocked.keyring.active_term:
            self._adopt_keyring(unlocked, keyring)
            return keyring
        return unlocked.keyring

    # -- records -------------------------------------------------------------------------------

    def get(self, path: str) -> bytes:
        """The plaintext at ``path``. KeyNotFound if absent, CorruptRecord if it fails authentication
        or is not the version the store's index lists (rolled back)."""
        return self.get_entry(path).value

    def get_entry(self, path: str) -> Entry:
        """The plaintext at ``path`` with its version, for a later :meth:`cas`."""
        unlocked = self._require_unsealed()
        checked = check_path(path)
        plaintext, revision = self._records.read(
            unlocked, lambda: self._reload_keyring(unlocked), DATA_PREFIX + checked, checked
        )
        return Entry(plaintext, revision)

    def record_version(self, path: str) -> int | None:
        """The version of the record at ``path`` (as :meth:`get_entry` gives it), or None if
        there is none; cheaper than reading it. For caches of records: an unchanged
        version means an unchanged record (versions are never reused, store-wide)."""
        self._require_unsealed()
        physical = DATA_PREFIX + check_path(path)
        if self._tracking is not None:
            return self._tracking.revision(physical)
        stored = self._storage.get(physical)
        return None if stored is None else stored.revision

    def change_counter(self) -> int | None:
        """A number that changes whenever any record may have changed (by any process), or None
        if the storage cannot tell this more cheaply than :meth:`record_version`."""
        self._require_unsealed()
        return None if self._tracking is None else self._tracking.change_counter()

    def pin_change_counter(self) -> AbstractContextManager[None]:
        """``with keystore.pin_change_counter():`` :meth:`change_counter` looks at the storage
        once for the block, and repeats that answer until a write goes through this storage
        object (see :meth:`SQLiteStorage.pin_change_counter`). A server request runs in one
        such block."""
        return nullcontext() if self._tracking is None else self._tracking.pin_change_counter()

    def put(self, path: str, value: bytes | bytearray | memoryview) -> int:
        """Store ``value`` at ``path`` (replacing any record); return its new version."""
        unlocked = self._require_unsealed()
        checked = check_path(path)
        plaintext = as_bytes(value, "value")
        revision = self._records.write(unlocked, DATA_PREFIX + checked, checked, plaintext, ANY_VERSION)
        assert revision is not None
        return revision

    def cas(self, path: str, expected_version: int | None, value: bytes | bytearray | memoryview) -> int:
        """Store ``value`` only if the record is at ``expected_version`` (None: only if absent).

        Returns the new version; ConflictError, with nothing written, otherwise.
        """
        unlocked = self._require_unsealed()
        checked = check_path(path)
        expected = check_version(expected_version)
        plaintext = as_bytes(value, "value")
        revision = self._records.write(unlocked, DATA_PREFIX + checked, checked, plaintext, expected)
        assert revision is not None
        return revision

    def delete(self, path: str, *, expected_version: int | None = None) -> None:
        """Remove the record at ``path``; KeyNotFound if there is none.

        With ``expected_version`` (from :meth:`get_entry`, :meth:`put` or :meth:`cas`)
        this is a compare-and-delete: ConflictError, with nothing deleted, if
        the record changed since that version was read.
        """
        unlocked = self._require_unsealed()
        checked = check_path(path)
        expected = check_version(expected_version)
        self._records.write(
            unlocked, DATA_PREFIX + checked, checked, None, ANY_VERSION if expected is None else expected
        )

    def apply(self, changes: Sequence[Change]) -> builtins.list[int | None]:
        """Make every change or none of them, atomically, in one storage transaction.

        Each :class:`Change` is checked as its Keystore method checks it: if any
        fails (ConflictError, KeyNotFound), nothing is written. Returns each
        change's new version, in order (None for a delete). Each path at most once.
        """
        unlocked = self._require_unsealed()
        if isinstance(changes, (str, bytes)) or not isinstance(changes, Sequence):
            raise InvalidType(f"apply() takes a sequence of Change, not {type(changes).__name__}")
        checked: builtins.list[RecordChange] = []
        for change in changes:
            if not isinstance(change, Change):
                raise InvalidType(f"apply() takes Change objects, not {type(change).__name__}")
            # Again here: Change(...) called directly skips the checks of put/cas/delete.
            path = check_path(change.path)
            value = None if change.value is None else as_bytes(change.value, "value")
            expected = change.expected_version
            if expected is not ANY_VERSION:
                expected = check_version(expected)
            checked.append(RecordChange(DATA_PREFIX + path, path, value, expected))
        if len({change.physical for change in checked}) != len(checked):
            raise InvalidArgument("apply() was given the same path twice")
        if not checked:
            return []
        return self._records.write_many(unlocked, checked)

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Every record path that starts with ``prefix``, sorted."""
        self._require_unsealed()
        physical = DATA_PREFIX + check_prefix(prefix)
        return [p[len(DATA_PREFIX) :] for p in self._storage.list(physical)]


def _seal_kind(seal: SealConfig) -> str:
    if isinstance(seal, AutoSeal):
        return f"a {seal.seal_type} auto-unseal seal"
    return "Shamir shares" if isinstance(seal, ShamirSeal) else "a passphrase"


def _wrong_material(seal: SealConfig) -> UnsealError:
    """Material of the wrong kind for ``seal``; ``seal`` names the kind the store needs."""
    needs = (
        "auto" if isinstance(seal, AutoSeal) else "shares" if isinstance(seal, ShamirSeal) else "passphrase"
    )
    return UnsealError(f"this store is sealed with {_seal_kind(seal)}: {_how_to_unseal(seal)}", seal=needs)


def _how_to_unseal(seal: SealConfig) -> str:
    if isinstance(seal, AutoSeal):
        return "use unseal_auto() with its seal (recovery shares do not unseal)"
    return "use unseal_share()" if isinstance(seal, ShamirSeal) else "use unseal()"


class _SealListener(Protocol):
    def keystore_sealed(self) -> None: ...
