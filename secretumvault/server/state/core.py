"""The state of one server process: its keystore (sealed or not), tokens, policies, mounts, audit.

Seal state is per process, as the keystore's is: several processes sharing
one store are each sealed and unsealed on their own.
"""

from __future__ import annotations

import base64
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from secretumvault import __version__
from secretumvault.errors import KeyNotFound, KeystoreError, NotInitialized, SealUnavailable
from secretumvault.keystore import Keystore, Storage, migration
from secretumvault.keystore.migration import SealMigration
from secretumvault.keystore.seal import KeyWrapper
from secretumvault.server.auth.table import AuthTable
from secretumvault.server.errors import HttpError, bad_request, permission_denied
from secretumvault.server.state import records
from secretumvault.server.state.audit import AUDIT_PATH, AuditBroker, AuditTable, parse_audit_table
from secretumvault.server.state.cached import CachedRecord
from secretumvault.server.state.fresh import FreshRecords
from secretumvault.server.state.mounts import MountTable
from secretumvault.server.state.policy import Acl, PathRule, parse_policy
from secretumvault.server.state.rekey import Rekeying
from secretumvault.server.state.shares import share_to_vault_key, vault_key_to_share
from secretumvault.server.state.tokens import TokenEntry, TokenStore

__all__ = ["DEFAULT_POLICY", "ServerCore"]

_POLICY_PREFIX = "sys/policy/"
#: Root tokens all have the same ACL, which no method of Acl changes.
_ROOT_ACL = Acl((), root=True)
#: How many parsed policies a process keeps (see ``fresh.py``).
MAX_CACHED_POLICIES = 1024
#: Auto-unseal at start: the first retry after this many seconds, doubling up to the cap.
AUTO_UNSEAL_FIRST_DELAY = 0.5
AUTO_UNSEAL_MAX_DELAY = 10.0
#: sys/unseal on an auto-sealed store asks the seal again at most this often: anyone may call
#: it, and each call would otherwise be one more request to the KMS or HSM.
AUTO_UNSEAL_MIN_INTERVAL = 1.0

#: Vault's default policy, in its order, cut to the paths this server has: a token may look
#: after itself and use response wrapping. Left out, as nothing serves them here:
#: ``identity/*``, ``sys/internal/ui/resultant-acl``, ``sys/renew``, ``sys/leases/*``,
#: ``cubbyhole/*``, ``sys/tools/*``, ``sys/control-group/request``. Written once, at
#: initialisation (as Vault, an existing ``default`` policy is never overwritten).
DEFAULT_POLICY = """{
  "path": {
    "auth/token/lookup-self": {"capabilities": ["read"]},
    "auth/token/renew-self": {"capabilities": ["update"]},
    "auth/token/revoke-self": {"capabilities": ["update"]},
    "sys/capabilities-self": {"capabilities": ["update"]},
    "sys/wrapping/wrap": {"capabilities": ["update"]},
    "sys/wrapping/lookup": {"capabilities": ["update"]},
    "sys/wrapping/unwrap": {"capabilities": ["update"]},
    "sys/internal/ui/mounts/*": {"capabilities": ["read"]}
  }
}"""


class ServerCore:
    def __init__(self, storage: Storage, *, backend: str | None = None, dev: bool = False) -> None:
        self.storage = storage
        self.keystore = Keystore(storage)
        self.backend = backend
        self.dev = dev
        #: ``[server] pq_defaults``: post-quantum key types where a request names none (set by run.py).
        self.pq_defaults = False
        self.tokens = TokenStore(self.keystore)
        self.mounts = MountTable(self.keystore, backend)
        self.auth_methods = AuthTable(self.keystore, self.tokens)
        self.audit_table: CachedRecord[AuditTable] = CachedRecord(
            self.keystore, AUDIT_PATH, parse_audit_table
        )
        self.audit = AuditBroker()
        self._policies: FreshRecords[tuple[PathRule, ...]] = FreshRecords(
            self.keystore, _parse_stored_policy, MAX_CACHED_POLICIES
        )
        self._seal_lock = threading.Lock()
        self.rekeying = Rekeying(self)
        self.recovery_rekeying = Rekeying(self, recovery=True)  # sys/rekey-recovery-key
        self._unseal_kind: str | None = None
        #: The ``[seal]`` this process unseals itself with (None: shares or a passphrase).
        self.auto_seal: KeyWrapper | None = None
        #: The seal marked ``disabled = true``: the store's old seal during a migration.
        self.old_seal: KeyWrapper | None = None
        #: Why the last auto-unseal attempt failed (shown by seal-status), None once unsealed.
        self.auto_unseal_error: str | None = None
        #: Shares given with ``migrate=true`` so far (unseal or recovery shares); in memory only.
        self._migration_shares: list[str] = []
        self._auto_unseal_stop = threading.Event()
        self._last_auto_unseal = -AUTO_UNSEAL_MIN_INTERVAL  # time.monotonic() of the last attempt

    # -- seal ----------------------------------------------------------------------------------

    @property
    def sealed(self) -> bool:
        return self.keystore.sealed

    def seal_status(self, progress: int = 0) -> dict[str, Any]:
        initialized = self.keystore.initialized
        kind, shares, threshold = "shamir", 0, 0
        if initialized:
            kind, shares, threshold = self.seal_config()
        elif self.auto_seal is not None:
            kind = self.auto_seal.seal_type
        status = {
            "type": kind,
            "initialized": initialized,
            "sealed": self.sealed,
            "t": threshold,
            "n": shares,
            "progress": progress if self.sealed else 0,
            "nonce": "",
            "version": __version__,
            "build_date": "",
            "migration": self.sealed and initialized and self.pending_migration() is not None,
            "recovery_seal": kind in ("transit", "pkcs11"),
            "storage_type": type(self.storage).__name__.removesuffix("Storage").lower(),
        }
        if self.auto_seal is not None or kind in ("transit", "pkcs11"):
            status["auto_unseal_error"] = self.auto_unseal_error if self.sealed else None
        return status

    def seal_config(self) -> tuple[str, int, int]:
        """The store's seal: its kind, number of shares and threshold (1, 1 for a passphrase;
        the recovery shares' for an auto seal)."""
        # The seal configuration is stored in clear beside the wrapped root key.
        from secretumvault.keystore.core import CORE_PATH, CoreRecord
        from secretumvault.keystore.seal import AutoSeal, ShamirSeal

        stored = self.storage.get(CORE_PATH)
        if stored is None:
            raise NotInitialized("the store is not initialised")
        seal = CoreRecord.decode(stored.value).seal
        if isinstance(seal, ShamirSeal):
            return "shamir", seal.shares, seal.threshold
        if isinstance(seal, AutoSeal):
            return seal.seal_type, seal.recovery.shares, seal.recovery.threshold
        return "passphrase", 1, 1

    def pending_migration(self) -> SealMigration | None:
        """The seal migration the configured seals ask of the store (read now), None if none."""
        from secretumvault.keystore.core import CORE_PATH, CoreRecord

        if self.auto_seal is None and self.old_seal is None:
            return None
        stored = self.storage.get(CORE_PATH)
        if stored is None:
            return None
        return migration.plan(CoreRecord.decode(stored.value).seal, self.auto_seal, self.old_seal)

    def initialize(self, shares: int, threshold: int, root_token: str | None = None) -> dict[str, Any]:
        """Vault's ``sys/init``: Shamir shares (as hex and base64) and a root token. Stays sealed.

        With an auto seal, ``shares``/``threshold`` are the recovery shares' (Vault's
        ``recovery_shares``/``recovery_threshold``), and the store is left unsealed, as in Vault.
        """
        if self.auto_seal is not None:
            return self._initialize_auto(self.auto_seal, shares, threshold, root_token)
        with self._seal_lock:
            created = self.keystore.initialize_with_shares(shares=shares, threshold=threshold)
            for share in created[:threshold]:
                self.keystore.unseal_share(share)
            try:
                token = self.bootstrap(root_token)
            finally:
                self.keystore.seal()
        raw = [share_to_vault_key(share) for share in created]
        return {
            "keys": [key.hex() for key in raw],
            "keys_base64": [base64.b64encode(key).decode("ascii") for key in raw],
            "root_token": token,
        }

    def _initialize_auto(
        self, wrapper: KeyWrapper, shares: int, threshold: int, root_token: str | None
    ) -> dict[str, Any]:
        with self._seal_lock:
            created = self.keystore.initialize_with_auto_seal(
                wrapper, recovery_shares=shares, recovery_threshold=threshold
            )
            self.keystore.unseal_auto(wrapper)
            self.auto_unseal_error = None
            token = self.bootstrap(root_token)
        raw = [share_to_vault_key(share) for share in created]
        return {
            "keys": [],
            "keys_base64": [],
            "recovery_keys": [key.hex() for key in raw],
            "recovery_keys_base64": [base64.b64encode(key).decode("ascii") for key in raw],
            "root_token": token,
        }

    def try_auto_unseal(self, *, throttled: bool = False) -> bool:
        """One attempt to unseal through the configured seal; whether the store is unsealed.
        A failure is kept in :attr:`auto_unseal_error` (one line, no secret). ``throttled``
        (a caller's sys/unseal): no attempt within AUTO_UNSEAL_MIN_INTERVAL of the last one."""
        wrapper = self.auto_seal
        with self._seal_lock:
            if not self.sealed:
                return True
            if throttled and time.monotonic() - self._last_auto_unseal < AUTO_UNSEAL_MIN_INTERVAL:
                return False  # the last attempt's error stands
            self._last_auto_unseal = time.monotonic()
            if wrapper is None:
                self.auto_unseal_error = "no [seal] is configured in this server"
                return False
            pending = self.pending_migration()
            if pending is not None:
                self.auto_unseal_error = (
                    f"seal migration pending ({pending}): unseal with migrate=true and {pending.material}"
                )
                return False
            try:
                self.keystore.unseal_auto(wrapper)
            except KeystoreError as exc:  # SealUnavailable, UnsealError, NotInitialized, ...
                self.auto_unseal_error = " ".join(str(exc).split())
                return False
            self.auto_unseal_error = None
            return True

    def start_auto_unseal(
        self, wrapper: KeyWrapper, log: Callable[[str], None] | None = None
    ) -> threading.Thread:
        """Unseal through ``wrapper`` now, in a thread, retrying with capped backoff until it
        works; each failure is one line on ``log`` (stderr by default) and in seal-status."""
        self.auto_seal = wrapper
        say = log or (lambda line: print(line, file=sys.stderr, flush=True))
        stop = self._auto_unseal_stop

        def attempts() -> None:
            delay = AUTO_UNSEAL_FIRST_DELAY
            while not stop.is_set():
                if self.try_auto_unseal():
                    say(f"secretumvault server: unsealed by its {wrapper.seal_type} seal ({wrapper.key_id})")
                    return
                say(
                    "secretumvault server: still sealed, auto-unseal retry in "
                    f"{delay:g}s: {self.auto_unseal_error}"
                )
                stop.wait(delay)
                delay = min(delay * 2, AUTO_UNSEAL_MAX_DELAY)

        thread = threading.Thread(target=attempts, name="auto-unseal", daemon=True)
        thread.start()
        return thread

    def bootstrap(self, root_token: str | None) -> str:
        """In a fresh, unsealed store: the default policy and a root token (returned once)."""
        self.keystore.put(_POLICY_PREFIX + "default", records.dump("policy", {"policy": DEFAULT_POLICY}))
        token, _ = self.tokens.create(
            policies=("root",), ttl=0, renewable=False, display_name="root", parent=None, token_id=root_token
        )
        return token

    def unseal(self, key: str, migrate: bool = False) -> dict[str, Any]:
        """One share (or, for a passphrase-sealed store, the passphrase); the seal status after it.

        While a seal migration is pending (see :meth:`pending_migration`), shares count only
        with ``migrate`` (Vault's ``operator unseal -migrate``), and the last one migrates."""
        pending = self.pending_migration() if self.sealed else None
        if pending is not None or migrate:
            return self._migrate(pending, key, migrate)
        if self.sealed and self.seal_config()[0] in ("transit", "pkcs11"):
            # Recovery keys never unseal: this is one more attempt through the seal, key or not.
            self.try_auto_unseal(throttled=True)
            return self.seal_status()
        with self._seal_lock:
            if not self.sealed:
                return self.seal_status()
            kind = self.seal_config()[0]
            if kind == "passphrase":
                self.keystore.unseal(key)
                return self.seal_status()
            progress = self.keystore.unseal_share(vault_key_to_share(key))
            return self.seal_status(progress.provided)

    def _migrate(self, pending: SealMigration | None, key: str, migrate: bool) -> dict[str, Any]:
        if pending is None:
            raise bad_request("migrate=true, but no seal migration is pending for this store")
        if not migrate:
            raise bad_request(
                f"a seal migration is pending ({pending}): give {pending.material} with migrate=true "
                "(vault operator unseal -migrate)"
            )
        if not key:
            raise bad_request(f"missing key: give one of {pending.material}")
        if pending.source == "passphrase":
            # Its new recovery shares would have no one to be shown to: the command line prints them.
            raise bad_request(
                "a passphrase store moves to an auto seal with `secretumvault operator migrate-seal` "
                "(server stopped), which prints its new recovery shares"
            )
        with self._seal_lock:
            if not self.sealed:
                return self.seal_status()
            share = vault_key_to_share(key)
            if share in self._migration_shares:
                raise bad_request("this key was already given")
            self._migration_shares.append(share)
            if len(self._migration_shares) < pending.threshold:
                return self.seal_status(len(self._migration_shares))
            material = list(self._migration_shares)
            self._migration_shares = []  # done or failed: start again from none, as an unseal
            # Nothing is written before complete_rekey's one compare-and-set: a failure (or a kill)
            # leaves the store on its old seal.
            try:
                changed = migration.prepare(self.keystore, pending, material)
            except SealUnavailable as exc:  # the new (or old) seal's KMS or HSM: try again later
                raise HttpError(503, f"seal migration failed, nothing changed: {exc}") from None
            except KeystoreError as exc:
                raise bad_request(f"seal migration failed, nothing changed: {exc}") from None
            self.keystore.complete_rekey(changed)
            self.keystore.unseal_with_root_key(changed.unlocked.root_key)
            self.auto_unseal_error = None
        print(f"secretumvault server: seal migrated ({pending}); unsealed", file=sys.stderr, flush=True)
        return self.seal_status()

    def reset_unseal(self) -> dict[str, Any]:
        with self._seal_lock:
            self._migration_shares = []
            if self.sealed:
                self.keystore.seal()  # sealed already: this only forgets the shares given so far
            return self.seal_status()

    def seal(self) -> None:
        with self._seal_lock:
            self.keystore.seal()
            self.mounts.clear()
            self.auth_methods.clear()
            self.audit_table.clear()
            self._policies.clear()  # the keystore's seal listeners did it already; no harm
            self.tokens.cache.clear()
            self._last_auto_unseal = -AUTO_UNSEAL_MIN_INTERVAL  # the next sys/unseal asks the seal

    # -- tokens and policies -------------------------------------------------------------------

    def authenticate(self, token: str | None) -> TokenEntry:
        if not token:
            raise permission_denied()
        entry = self.tokens.lookup(token)
        if entry is None:
            raise permission_denied()
        return entry

    def acl(self, entry: TokenEntry) -> Acl:
        if entry.is_root:
            return _ROOT_ACL
        rules: list[PathRule] = []
        for name in entry.policies:
            rules.extend(self.policy_rules(name))
        return Acl(rules)

    def policy_rules(self, name: str) -> tuple[PathRule, ...]:
        """The policy's rules as stored now (cached, never stale: see ``fresh.py``); none if unknown."""
        return self._policies.get(_POLICY_PREFIX + name) or ()

    def read_policy(self, name: str) -> str:
        if name == "root":
            return ""
        try:
            return str(records.load(self.keystore.get(_POLICY_PREFIX + name), "policy", name)["policy"])
        except KeyNotFound:
            raise KeyNotFound(f"no policy named {name!r}") from None

    def write_policy(self, name: str, text: str) -> None:
        if name == "root":
            raise bad_request("cannot update the root policy")
        if name == "response-wrapping":  # Vault reserves it: wrapping tokens carry it and nothing else
            raise bad_request('cannot write the reserved policy "response-wrapping"')
        parse_policy(text)
        self.keystore.put(_POLICY_PREFIX + name, records.dump("policy", {"policy": text}))

    def delete_policy(self, name: str) -> None:
        if name in ("root", "default"):
            raise bad_request(f"cannot delete the {name} policy")
        try:
            self.keystore.delete(_POLICY_PREFIX + name)
        except KeyNotFound:
            pass  # Vault: deleting a missing policy succeeds

    def list_policies(self) -> list[str]:
        return sorted({"root", *(p[len(_POLICY_PREFIX) :] for p in self.keystore.list(_POLICY_PREFIX))})

    def close(self) -> None:
        self._auto_unseal_stop.set()
        self.audit.close()
        self.storage.close()


def _parse_stored_policy(path: str, raw: bytes) -> tuple[PathRule, ...]:
    return parse_policy(records.load(raw, "policy", "policy")["policy"])
