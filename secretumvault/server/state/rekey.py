"""Vault's ``sys/rekey``: new unseal shares (``t`` and ``n`` may change) for the same root key.

As in Vault, a rekey is started with the new share counts (``rekey/init``),
then the current shares are given one request at a time (``rekey/update``,
echoing the nonce); when ``t`` of them are in, the keystore rewraps its root
key in one atomic write (``Keystore.prepare_rekey`` then ``complete_rekey``)
and the new shares are returned, once. No record is re-encrypted, and other
processes sharing the store stay unsealed. A store sealed by a passphrase is
rekeyed by giving the passphrase as the one ``key``.

Progress is per process and only in memory; ``DELETE rekey/init`` cancels it.

On an auto-sealed store there are no unseal shares: ``sys/rekey`` is refused, and
``sys/rekey-recovery-key`` (the same calls, ``recovery=True`` here) issues new recovery shares
for the current ones (``Keystore.prepare_recovery_rekey``), as Vault does.
"""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from secretumvault.errors import SecretumVaultError
from secretumvault.server.errors import bad_request
from secretumvault.server.state.shares import share_to_vault_key, vault_key_to_share

if TYPE_CHECKING:
    from secretumvault.server.state.core import ServerCore

__all__ = ["Rekeying"]

_MAX_SHARES = 255


@dataclass
class _Attempt:
    nonce: str
    shares: int
    threshold: int
    given: list[str] = field(default_factory=list, repr=False)


_AUTO = ("transit", "pkcs11")


class Rekeying:
    def __init__(self, core: ServerCore, *, recovery: bool = False) -> None:
        self._core = core
        #: True: the recovery shares of an auto-sealed store (sys/rekey-recovery-key).
        self.recovery = recovery
        self._lock = threading.Lock()
        self._attempt: _Attempt | None = None

    def status(self) -> dict[str, Any]:
        with self._lock:
            return self._status_locked()

    def _status_locked(self) -> dict[str, Any]:
        attempt = self._attempt
        required = self._core.seal_status()["t"] if self._core.keystore.initialized else 0
        return {
            "started": attempt is not None,
            "nonce": "" if attempt is None else attempt.nonce,
            "t": 0 if attempt is None else attempt.threshold,
            "n": 0 if attempt is None else attempt.shares,
            "progress": 0 if attempt is None else len(attempt.given),
            "required": required,
            "pgp_fingerprints": None,
            "backup": False,
            "verification_required": False,
        }

    def start(self, shares: int, threshold: int) -> dict[str, Any]:
        if not 1 <= shares <= _MAX_SHARES or not 1 <= threshold <= shares or (shares > 1 and threshold == 1):
            raise bad_request(
                f"secret_shares must be from 1 to {_MAX_SHARES}, and secret_threshold from 2 to "
                "secret_shares (1 only with a single share)"
            )
        kind = self._core.seal_config()[0]
        if self.recovery and kind not in _AUTO:
            raise bad_request(
                f"this store is sealed with {kind}: it has no recovery keys; rekey its unseal keys "
                "with sys/rekey"
            )
        if not self.recovery and kind in _AUTO:
            raise bad_request(
                f"this store is auto-sealed ({kind}): it has no unseal keys; rekey its recovery keys "
                "with sys/rekey-recovery-key"
            )
        with self._lock:
            if self._attempt is not None:
                raise bad_request("a rekey is already in progress; cancel it first")
            self._attempt = _Attempt(secrets.token_hex(16), shares, threshold)
            return self._status_locked()

    def cancel(self) -> None:
        with self._lock:
            self._attempt = None

    def update(self, key: str, nonce: str) -> dict[str, Any]:
        """Give one current share (or the passphrase); at the threshold, rekey and return the new shares."""
        with self._lock:
            attempt = self._attempt
            if attempt is None:
                raise bad_request("no rekey is in progress: start one with sys/rekey/init")
            if not secrets.compare_digest(nonce.encode(), attempt.nonce.encode()):  # str: ASCII only
                raise bad_request("the nonce does not match the rekey in progress")
            kind, _, required = self._core.seal_config()
            if kind == "passphrase":
                current: str | list[str] = key
            else:
                share = vault_key_to_share(key)
                if share in attempt.given:
                    raise bad_request("this key was already given")
                attempt.given.append(share)
                if len(attempt.given) < required:
                    return self._status_locked()
                current = list(attempt.given)
            self._attempt = None  # done or failed: either way this attempt is over, as in Vault
            try:
                if kind in _AUTO:
                    wrapper = self._core.auto_seal
                    if wrapper is None or isinstance(current, str):
                        raise bad_request("this server has no [seal] to rewrap the root key with")
                    pending = self._core.keystore.prepare_recovery_rekey(
                        wrapper, current, shares=attempt.shares, threshold=attempt.threshold
                    )
                else:
                    pending = self._core.keystore.prepare_rekey(
                        current, shares=attempt.shares, threshold=attempt.threshold
                    )
                self._core.keystore.complete_rekey(pending)
            except SecretumVaultError as exc:
                raise bad_request(f"rekey failed, nothing changed: {exc}") from None
            raw = [share_to_vault_key(share) for share in pending.shares]
            return {
                "complete": True,
                "nonce": attempt.nonce,
                "keys": [k.hex() for k in raw],
                "keys_base64": [base64.b64encode(k).decode("ascii") for k in raw],
                "pgp_fingerprints": None,
                "backup": False,
                "verification_required": False,
            }
