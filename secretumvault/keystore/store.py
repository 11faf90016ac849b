"""The Keystore: sealed at rest, encrypted records, on any :class:`Storage`.

Physical layout in storage: ``core/keyring`` holds the seal configuration and
wrapped keys (``core.py``); every user record lives at ``data/<path>``, so no
user path can reach the core record.
"""

from __future__ import annotations

import builtins
import threading
from dataclasses import dataclass, field

from secretumvault.errors import (
    AlreadyInitialized,
    ConflictError,
    CorruptRecord,
    InvalidArgument,
    InvalidType,
    KeyNotFound,
    NotInitialized,
    SealedError,
    UnsealError,
)
from secretumvault.keystore import shamir
from secretumvault.keystore._aead import Aead, new_key
from secretumvault.keystore._paths import check_path, check_prefix, check_version
from secretumvault.keystore.barrier import UnknownTermError, decrypt_record, encrypt_record
from secretumvault.keystore.core import CORE_PATH, CoreRecord, Unlocked
from secretumvault.keystore.keyring import Keyring
from secretumvault.keystore.seal import PassphraseSeal, ScryptParams, ShamirSeal, check_scrypt_limit
from secretumvault.keystore.storage import Storage
from secretumvault.pqc._buffers import as_bytes

__all__ = ["Entry", "Keystore", "UnsealProgress"]

_DATA_PREFIX = "data/"
_ROTATE_ATTEMPTS = 16


@dataclass(frozen=True)
class Entry:
    """A record read through the barrier: its plaintext and its version (for :meth:`Keystore.cas`)."""

    value: bytes = field(repr=False)
    version: int


@dataclass(frozen=True)
class UnsealProgress:
    """Where share unsealing stands: ``provided`` of ``threshold`` shares so far."""

    sealed: bool
    provided: int
    threshold: int


class Keystore:
    """Encrypted, sealable key-value store for secrets and key material.

    Thread-safe. Several Keystore objects (in several processes) may share one
    storage; each is sealed or unsealed on its own.

    ``scrypt_limit`` bounds the scrypt cost this keystore will run to unseal
    (and will write at initialisation). The stored parameters are checked
    against it before scrypt runs, so a tampered store cannot make an unseal
    attempt spend gigabytes. The default is the cost the library writes by
    default; raise it only for a store made with a higher cost on purpose.
    """

    #: The cost :meth:`initialize_with_passphrase` writes unless told otherwise.
    DEFAULT_SCRYPT_LIMIT = ScryptParams()

    def __init__(self, storage: Storage, *, scrypt_limit: ScryptParams = DEFAULT_SCRYPT_LIMIT) -> None:
        self._scrypt_limit = check_scrypt_limit(scrypt_limit)
        self._storage = storage
        self._lock = threading.Lock()
        self._unlocked: Unlocked | None = None
        self._pending_shares: dict[int, shamir.Share] = {}

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
        secret = _passphrase_bytes(passphrase)
        params = scrypt or ScryptParams()
        if not params.within(self._scrypt_limit):
            raise InvalidArgument(
                f"scrypt cost {params} is above this keystore's scrypt_limit ({self._scrypt_limit}); "
                "a store this keystore could not unseal is not created. Raise scrypt_limit first"
            )
        self._refuse_if_initialized()
        seal = PassphraseSeal.new(params)
        self._create(CoreRecord.create(seal, seal.derive_kek(secret)))

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
        self._create(CoreRecord.create(seal, kek))
        return encoded_shares

    def _refuse_if_initialized(self) -> None:
        if self.initialized:
            raise AlreadyInitialized("this store is already initialised; unseal it instead")

    def _create(self, record: CoreRecord) -> None:
        try:
            self._storage.cas(CORE_PATH, None, record.encode())
        except ConflictError:  # another process initialised it first
            raise AlreadyInitialized("this store is already initialised; unseal it instead") from None

    # -- seal and unseal -------------------------------------------------------------------

    def unseal(self, passphrase: str | bytes) -> None:
        """Unseal a passphrase-sealed store. UnsealError if the passphrase is wrong."""
        secret = _passphrase_bytes(passphrase)
        core = self._load_core()
        if not isinstance(core.seal, PassphraseSeal):
            raise UnsealError("this store is sealed with Shamir shares: use unseal_share()")
        core.seal.check_cost(self._scrypt_limit)
        unlocked = core.unlock(core.seal.derive_kek(secret))
        with self._lock:
            self._unlocked = unlocked

    def unseal_share(self, share: str) -> UnsealProgress:
        """Give one Shamir share. The store unseals when ``threshold`` distinct shares are in.

        A garbled, foreign or repeated share raises UnsealError and is not counted.
        If the shares given are well-formed but do not rebuild the key, all of
        them are discarded (as in Vault) and UnsealError is raised.
        """
        parsed = shamir.parse_share(share)
        core = self._load_core()
        seal = core.seal
        if not isinstance(seal, ShamirSeal):
            raise UnsealError("this store is sealed with a passphrase: use unseal()")
        if parsed.set_id != seal.set_id or parsed.threshold != seal.threshold:
            raise UnsealError("this share belongs to another store")
        with self._lock:
            if self._unlocked is not None:
                return UnsealProgress(sealed=False, provided=0, threshold=seal.threshold)
            if parsed.index in self._pending_shares:
                raise UnsealError(f"share number {parsed.index} was already given")
            self._pending_shares[parsed.index] = parsed
            if len(self._pending_shares) < seal.threshold:
                return UnsealProgress(True, len(self._pending_shares), seal.threshold)
            shares, self._pending_shares = list(self._pending_shares.values()), {}
            self._unlocked = core.unlock(shamir.combine(shares))
            return UnsealProgress(sealed=False, provided=len(shares), threshold=seal.threshold)

    def seal(self) -> None:
        """Forget the keys (and any shares given so far). Every operation then raises SealedError."""
        with self._lock:
            self._unlocked = None
            self._pending_shares = {}

    def _load_core(self) -> CoreRecord:
        stored = self._storage.get(CORE_PATH)
        if stored is None:
            raise NotInitialized(
                "this store is not initialised: call initialize_with_passphrase() "
                "or initialize_with_shares() first"
            )
        return CoreRecord.decode(stored.value)

    def _require_unsealed(self) -> Unlocked:
        unlocked = self._unlocked
        if unlocked is None:
            raise SealedError("the keystore is sealed: unseal it with unseal() or unseal_share() first")
        return unlocked

    # -- key rotation ------------------------------------------------------------------------

    def rotate(self) -> int:
        """Add a new data-key term and write with it from now on; return the new term.

        Records under older terms stay readable. Safe against concurrent
        rotation from other processes (compare-and-set on the core record).
        """
        unlocked = self._require_unsealed()
        for _ in range(_ROTATE_ATTEMPTS):
            stored = self._storage.get(CORE_PATH)
            if stored is None:
                raise NotInitialized("the core record disappeared from storage")
            core = CoreRecord.decode(stored.value)
            keyring = core.open_keyring(unlocked.root).rotated()
            try:
                self._storage.cas(
                    CORE_PATH, stored.revision, core.with_keyring(unlocked.root, keyring).encode()
                )
            except ConflictError:
                continue
            self._adopt_keyring(unlocked.root, keyring)
            return keyring.active_term
        raise ConflictError("key rotation kept racing with other writers; try again")

    def _adopt_keyring(self, root: Aead, keyring: Keyring) -> None:
        with self._lock:
            current = self._unlocked
            # Only while still unsealed under the same root key (nobody sealed or
            # re-unsealed meanwhile), and never back to an older keyring.
            if (
                current is not None
                and current.root is root
                and current.keyring.active_term < keyring.active_term
            ):
                self._unlocked = Unlocked(root, keyring)

    def _reload_keyring(self, unlocked: Unlocked) -> Unlocked:
        """Another process may have rotated: read the keyring again from storage."""
        core = self._load_core()
        keyring = core.open_keyring(unlocked.root)
        if keyring.active_term > unlocked.keyring.active_term:
            self._adopt_keyring(unlocked.root, keyring)
            return Unlocked(unlocked.root, keyring)
        return unlocked

    # -- records -------------------------------------------------------------------------------

    def get(self, path: str) -> bytes:
        """The plaintext at ``path``. KeyNotFound if absent, CorruptRecord if it fails authentication."""
        return self.get_entry(path).value

    def get_entry(self, path: str) -> Entry:
        """The plaintext at ``path`` with its version, for a later :meth:`cas`."""
        unlocked = self._require_unsealed()
        physical = _DATA_PREFIX + check_path(path)
        stored = self._storage.get(physical)
        if stored is None:
            raise KeyNotFound(f"no record at {path!r}")
        try:
            plaintext = decrypt_record(unlocked.keyring, physical, stored.value)
        except UnknownTermError as missing:
            reloaded = self._reload_keyring(unlocked)
            try:
                plaintext = decrypt_record(reloaded.keyring, physical, stored.value)
            except UnknownTermError:
                raise CorruptRecord(
                    f"record {path!r} names key term {missing.term}, which the keyring does not have"
                ) from None
        return Entry(plaintext, stored.revision)

    def put(self, path: str, value: bytes | bytearray | memoryview) -> int:
        """Store ``value`` at ``path`` (replacing any record); return its new version."""
        unlocked = self._require_unsealed()
        physical = _DATA_PREFIX + check_path(path)
        record = encrypt_record(unlocked.keyring, physical, as_bytes(value, "value"))
        return self._storage.put(physical, record)

    def cas(self, path: str, expected_version: int | None, value: bytes | bytearray | memoryview) -> int:
        """Store ``value`` only if the record is at ``expected_version`` (None: only if absent).

        Returns the new version; ConflictError, with nothing written, otherwise.
        """
        unlocked = self._require_unsealed()
        physical = _DATA_PREFIX + check_path(path)
        expected = check_version(expected_version)
        record = encrypt_record(unlocked.keyring, physical, as_bytes(value, "value"))
        return self._storage.cas(physical, expected, record)

    def delete(self, path: str, *, expected_version: int | None = None) -> None:
        """Remove the record at ``path``; KeyNotFound if there is none.

        With ``expected_version`` (from :meth:`get_entry`, :meth:`put` or :meth:`cas`)
        this is a compare-and-delete: ConflictError, with nothing deleted, if
        the record changed since that version was read.
        """
        self._require_unsealed()
        physical = _DATA_PREFIX + check_path(path)
        expected = check_version(expected_version)
        if expected is None:
            if not self._storage.delete(physical):
                raise KeyNotFound(f"no record at {path!r}")
            return
        try:
            self._storage.delete_if(physical, expected)
        except ConflictError:
            if self._storage.get(physical) is None:
                raise KeyNotFound(f"no record at {path!r}") from None
            raise ConflictError(
                f"record {path!r} changed since version {expected} was read; read it again and retry"
            ) from None

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Every record path that starts with ``prefix``, sorted."""
        self._require_unsealed()
        physical = _DATA_PREFIX + check_prefix(prefix)
        return [p[len(_DATA_PREFIX) :] for p in self._storage.list(physical)]


def _passphrase_bytes(passphrase: object) -> bytes:
    if isinstance(passphrase, str):
        secret = passphrase.encode("utf-8")
    elif isinstance(passphrase, (bytes, bytearray, memoryview)):
        secret = as_bytes(passphrase, "passphrase")
    else:
        raise InvalidType(f"passphrase must be str or bytes, not {type(passphrase).__name__}")
    if not secret:
        raise InvalidArgument("passphrase must not be empty")
    return secret
