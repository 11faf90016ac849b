"""The state of one server process: its keystore (sealed or not), tokens, policies, mounts, audit.

Seal state is per process, as the keystore's is: several processes sharing
one store are each sealed and unsealed on their own.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

from secretumvault import __version__
from secretumvault.errors import KeyNotFound, NotInitialized
from secretumvault.keystore import Keystore, Storage
from secretumvault.server import records
from secretumvault.server.audit import AUDIT_PATH, AuditBroker, AuditTable, parse_audit_table
from secretumvault.server.auth.table import AuthTable
from secretumvault.server.cached import CachedRecord
from secretumvault.server.errors import bad_request, permission_denied
from secretumvault.server.fresh import FreshRecords
from secretumvault.server.mounts import MountTable
from secretumvault.server.policy import Acl, PathRule, parse_policy
from secretumvault.server.rekey import Rekeying
from secretumvault.server.shares import share_to_vault_key, vault_key_to_share
from secretumvault.server.tokens import TokenEntry, TokenStore

__all__ = ["DEFAULT_POLICY", "ServerCore"]

_POLICY_PREFIX = "sys/policy/"
#: How many parsed policies a process keeps (see ``fresh.py``).
MAX_CACHED_POLICIES = 1024

#: Vault's default policy, cut to the paths this server has: a token may look after itself.
DEFAULT_POLICY = """{
  "path": {
    "auth/token/lookup-self": {"capabilities": ["read"]},
    "auth/token/renew-self": {"capabilities": ["update"]},
    "auth/token/revoke-self": {"capabilities": ["update"]},
    "sys/capabilities-self": {"capabilities": ["update"]},
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
        self._unseal_kind: str | None = None

    # -- seal ----------------------------------------------------------------------------------

    @property
    def sealed(self) -> bool:
        return self.keystore.sealed

    def seal_status(self, progress: int = 0) -> dict[str, Any]:
        initialized = self.keystore.initialized
        kind, shares, threshold = "shamir", 0, 0
        if initialized:
            kind, shares, threshold = self.seal_config()
        return {
            "type": kind,
            "initialized": initialized,
            "sealed": self.sealed,
            "t": threshold,
            "n": shares,
            "progress": progress if self.sealed else 0,
            "nonce": "",
            "version": __version__,
            "build_date": "",
            "migration": False,
            "recovery_seal": False,
            "storage_type": type(self.storage).__name__.removesuffix("Storage").lower(),
        }

    def seal_config(self) -> tuple[str, int, int]:
        """The store's seal: its kind, number of shares and threshold (1, 1 for a passphrase)."""
        # The seal configuration is stored in clear beside the wrapped root key.
        from secretumvault.keystore.core import CORE_PATH, CoreRecord
        from secretumvault.keystore.seal import ShamirSeal

        stored = self.storage.get(CORE_PATH)
        if stored is None:
            raise NotInitialized("the store is not initialised")
        seal = CoreRecord.decode(stored.value).seal
        if isinstance(seal, ShamirSeal):
            return "shamir", seal.shares, seal.threshold
        return "passphrase", 1, 1

    def initialize(self, shares: int, threshold: int, root_token: str | None = None) -> dict[str, Any]:
        """Vault's ``sys/init``: Shamir shares (as hex and base64) and a root token. Stays sealed."""
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

    def bootstrap(self, root_token: str | None) -> str:
        """In a fresh, unsealed store: the default policy and a root token (returned once)."""
        self.keystore.put(_POLICY_PREFIX + "default", records.dump("policy", {"policy": DEFAULT_POLICY}))
        token, _ = self.tokens.create(
            policies=("root",), ttl=0, renewable=False, display_name="root", parent=None, token_id=root_token
        )
        return token

    def unseal(self, key: str) -> dict[str, Any]:
        """One share (or, for a passphrase-sealed store, the passphrase); the seal status after it."""
        with self._seal_lock:
            if not self.sealed:
                return self.seal_status()
            kind = self.seal_config()[0]
            if kind == "passphrase":
                self.keystore.unseal(key)
                return self.seal_status()
            progress = self.keystore.unseal_share(vault_key_to_share(key))
            return self.seal_status(progress.provided)

    def reset_unseal(self) -> dict[str, Any]:
        with self._seal_lock:
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
            return Acl((), root=True)
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
        self.audit.close()
        self.storage.close()


def _parse_stored_policy(path: str, raw: bytes) -> tuple[PathRule, ...]:
    return parse_policy(records.load(raw, "policy", "policy")["policy"])
