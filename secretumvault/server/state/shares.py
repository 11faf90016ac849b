"""Unseal shares as Vault clients see them (the raw share bytes, as hex or base64 "keys"), and
the collection of a quorum of them one request at a time that ``sys/rekey`` and
``sys/generate-root`` share."""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from secretumvault.errors import UnsealError
from secretumvault.keystore.shamir import SHARE_PREFIX
from secretumvault.server.errors import bad_request

if TYPE_CHECKING:
    from secretumvault.server.state.core import ServerCore

__all__ = ["AUTO_SEALS", "Attempt", "ShareCollector", "share_to_vault_key", "vault_key_to_share"]

#: The seal kinds of an auto-sealed store: it has recovery shares, which authorise, never unseal.
AUTO_SEALS = ("transit", "pkcs11")


def share_to_vault_key(share: str) -> bytes:
    """The raw bytes of a keystore share, which Vault clients see as hex and base64 "keys"."""
    body = share[len(SHARE_PREFIX) :]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def vault_key_to_share(key: str) -> str:
    """A share given as Vault gives keys (hex or base64), or as the keystore's own text."""
    text = key.strip()
    if text.startswith(SHARE_PREFIX):
        return text
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise UnsealError("the unseal key is neither hex nor base64") from None
    return SHARE_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@dataclass
class Attempt:
    """One collection in progress: its nonce and the shares given so far."""

    nonce: str
    given: list[str] = field(default_factory=list, repr=False, kw_only=True)


A = TypeVar("A", bound=Attempt)


class ShareCollector(Generic[A]):
    """One attempt at a time (per process, only in memory), fed one share a request.

    The nonce must match, a share counts once, and once the threshold of the store's
    unseal (or, auto-sealed, recovery) shares is in, the attempt is over and
    :meth:`_collect` hands them over; a store sealed by a passphrase takes the
    passphrase as its one key. The subclass says what the shares then authorise.
    """

    #: The 400's words for an update with no attempt, or with another attempt's nonce.
    not_started = "no attempt is in progress"
    wrong_nonce = "incorrect nonce"

    def __init__(self, core: ServerCore) -> None:
        self._core = core
        self._lock = threading.Lock()
        self._attempt: A | None = None

    def status(self) -> dict[str, Any]:
        with self._lock:
            return self._status_locked()

    def _status_locked(self) -> dict[str, Any]:
        raise NotImplementedError

    def cancel(self) -> None:
        with self._lock:
            self._attempt = None

    def _collect(self, key: str, nonce: str) -> tuple[A, str, str | list[str]] | None:
        """With the lock held: count ``key``. None while more shares are needed; at the threshold
        the attempt, the seal kind and what was given (the passphrase, or the shares)."""
        attempt = self._attempt
        if attempt is None:
            raise bad_request(self.not_started)
        # Compared as bytes: any text (not only ASCII) is a wrong nonce, never a TypeError.
        if not secrets.compare_digest(nonce.encode(), attempt.nonce.encode()):
            raise bad_request(self.wrong_nonce)
        kind, _, required = self._core.seal_config()
        if kind == "passphrase":
            given: str | list[str] = key
        else:
            share = vault_key_to_share(key)
            if share in attempt.given:
                raise bad_request("this key was already given")
            attempt.given.append(share)
            if len(attempt.given) < required:
                return None
            given = list(attempt.given)
        self._attempt = None  # complete or failed: this attempt is over either way, as in Vault
        return attempt, kind, given
