"""Vault's ``sys/generate-root``: a new root token from a quorum of unseal shares.

As in Vault (1.10 and later), ``attempt`` starts a generation and answers,
once, a one-time password: ``otp_length`` base62 characters, as long as the
root token will be. The current unseal shares are then given one request at
a time (``update``, echoing the nonce); when ``t`` of them are in and they
rebuild the store's root key, a root token is made and returned only as
``encoded_token``: base64 (unpadded) of the token's bytes XOR the OTP's, which
``vault operator generate-root -decode`` (or :func:`decode_token`) reverses.
The shares are the authority: like Vault's, these routes need no token. A
store sealed by a passphrase takes the passphrase as its one ``key``; an
auto-sealed store takes its recovery shares (they authorise, never unseal).

PGP-encrypted tokens and the 16-byte base64 OTP of Vault before 1.10 are
refused with a 400 that says so. Progress is per process and only in memory;
``DELETE attempt`` cancels it.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import string
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from secretumvault.errors import SecretumVaultError
from secretumvault.server.envelope import Reply
from secretumvault.server.errors import bad_request
from secretumvault.server.state.shares import AUTO_SEALS, Attempt, ShareCollector
from secretumvault.server.state.tokens import new_token_id

if TYPE_CHECKING:
    from secretumvault.server.routing import Call
    from secretumvault.server.state.core import ServerCore

__all__ = ["OTP_LENGTH", "RootGeneration", "decode_token", "encode_token"]

#: The length of the tokens this server makes, so of its OTPs.
OTP_LENGTH = len(new_token_id())
#: Vault's (1.10 and later) root token and OTP length: ``hvs.`` and 24 base62 characters. Clients
#: that make their OTP at that length, as Vault documents it, get a root token that long (143
#: random bits, as Vault's) instead of this server's longer one.
VAULT_OTP_LENGTH = 28
_BASE62 = string.ascii_letters + string.digits


def encode_token(token: str, otp: str) -> str:
    """Vault's encoding: base64 (no padding) of token XOR otp, byte by byte (equal lengths)."""
    raw, pad = token.encode("ascii"), otp.encode("ascii")
    if len(raw) != len(pad):
        raise bad_request("the OTP and the token differ in length")
    return base64.b64encode(bytes(a ^ b for a, b in zip(raw, pad, strict=True))).decode("ascii").rstrip("=")


def decode_token(encoded: str, otp: str) -> str:
    """The token from ``encoded_token`` and the OTP (``vault operator generate-root -decode``)."""
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("the encoded token is not base64") from None
    pad = otp.encode("ascii")
    if len(raw) != len(pad):
        raise bad_request("the OTP and the encoded token differ in length")
    return bytes(a ^ b for a, b in zip(raw, pad, strict=True)).decode("ascii")


@dataclass
class _Attempt(Attempt):
    otp: str = field(repr=False)


class RootGeneration(ShareCollector[_Attempt]):
    not_started = "no root generation in progress"
    wrong_nonce = "incorrect nonce"

    def _status_locked(self, otp: str = "", encoded: str = "") -> dict[str, Any]:
        attempt = self._attempt
        return {
            "started": attempt is not None,
            "nonce": "" if attempt is None else attempt.nonce,
            "progress": 0 if attempt is None else len(attempt.given),
            "required": self._core.seal_config()[2],
            "encoded_token": encoded,
            "encoded_root_token": encoded,
            "pgp_fingerprint": "",
            "otp": otp,
            "otp_length": OTP_LENGTH,
            "complete": bool(encoded),
        }

    def start(self, otp: str, pgp_key: str) -> dict[str, Any]:
        """Start an attempt; the answer carries the OTP (made here unless the client chose one)."""
        if pgp_key:
            raise bad_request("pgp_key is not supported by this server: use the OTP it returns")
        if otp and (len(otp) not in (OTP_LENGTH, VAULT_OTP_LENGTH) or not all(c in _BASE62 for c in otp)):
            raise bad_request(
                f"otp must be {OTP_LENGTH} (otp_length) or {VAULT_OTP_LENGTH} (Vault's) letters and digits; "
                "the 16-byte base64 OTP of Vault before 1.10 is not supported"
            )
        with self._lock:
            if self._attempt is not None:
                raise bad_request("root generation already in progress")
            chosen = otp or "".join(secrets.choice(_BASE62) for _ in range(OTP_LENGTH))
            self._attempt = _Attempt(str(uuid.uuid4()), chosen)
            return self._status_locked(otp="" if otp else chosen)

    def update(self, key: str, nonce: str) -> dict[str, Any]:
        """Give one share (or the passphrase); at the threshold, make the root token."""
        with self._lock:
            collected = self._collect(key, nonce)
            if collected is None:
                return self._status_locked()
            attempt, kind, current = collected
            try:
                if kind in AUTO_SEALS:  # an auto seal: its recovery shares authorise, as Vault's
                    self._core.keystore.verify_recovery(current)
                else:
                    # Only proves the shares rebuild the root key: the new material made is discarded.
                    self._core.keystore.prepare_rekey(current, shares=1, threshold=1)
            except SecretumVaultError as exc:
                raise bad_request(f"root generation failed, nothing changed: {exc}") from None
            token_id = None
            if len(attempt.otp) == VAULT_OTP_LENGTH:
                token_id = "hvs." + "".join(secrets.choice(_BASE62) for _ in range(VAULT_OTP_LENGTH - 4))
            token, _ = self._core.tokens.create(
                policies=("root",),
                ttl=0,
                renewable=False,
                display_name="root",
                parent=None,
                token_id=token_id,
            )
            encoded = encode_token(token, attempt.otp)
            return {
                **self._status_locked(encoded=encoded),
                "started": True,
                "nonce": attempt.nonce,
                "progress": self._core.seal_config()[2],
            }


_BY_CORE: weakref.WeakKeyDictionary[ServerCore, RootGeneration] = weakref.WeakKeyDictionary()
_BY_CORE_LOCK = threading.Lock()


def _generation(call: Call) -> RootGeneration:
    """The process's one root generation for this core (progress is per process, as rekey's)."""
    with _BY_CORE_LOCK:
        found = _BY_CORE.get(call.core)
        if found is None:
            found = _BY_CORE[call.core] = RootGeneration(call.core)
        return found


def _bare(obj: dict[str, Any]) -> Reply:
    """Vault answers these routes with the status object itself, no envelope (as sys/rekey)."""
    return Reply(body=json.dumps(obj).encode("utf-8"))


def read_attempt(call: Call) -> Reply:
    return _bare(_generation(call).status())


def start_attempt(call: Call) -> Reply:
    p = call.params
    return _bare(_generation(call).start(p.string("otp"), p.string("pgp_key")))


def cancel_attempt(call: Call) -> Reply:
    _generation(call).cancel()
    return Reply()


def update(call: Call) -> Reply:
    p = call.params
    key = p.string("key", required=True)
    return _bare(_generation(call).update(key, p.string("nonce", required=True)))
