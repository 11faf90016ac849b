"""Signing key types: Ed25519, ECDSA P-256, ML-DSA and hybrid Ed25519 + ML-DSA-65.

Post-quantum signers verify with the stored public key alone and load the
private key only when they first sign (loading may need another backend, see
``_operators``).

- Ed25519: RFC 8032 pure Ed25519 over the data.
- ECDSA P-256: SHA-256, DER-encoded signature (as Vault's default "asn1"
  marshaling), deterministic nonces (RFC 6979), low ``s`` only: a high-``s``
  twin of a valid signature, or another DER spelling of it, does not verify.
  Keys load only with an uncompressed public point. Both classical types use
  the shared :mod:`secretumvault.hybrid.classical` helper.
- ML-DSA and the hybrid: FIPS 204 pure signing with the caller's context
  string (the hybrid binds it into both halves, see ``hybrid``).

Ed25519 and ECDSA have no context string; a non-empty one is refused rather
than silently ignored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, cast

from secretumvault.errors import InvalidArgument, InvalidKey, InvalidSignature
from secretumvault.pqc.keys import SigPublicKey, SigSecretKey

if TYPE_CHECKING:
    from secretumvault.hybrid.classical import ClassicalSignature, EcdsaP256

__all__ = ["EcdsaP256Signer", "Ed25519Signer", "PqcSigner", "Signer"]


class Signer(Protocol):
    def sign(self, data: bytes, context: bytes) -> bytes: ...
    def verify(self, signature: bytes, data: bytes, context: bytes) -> None: ...


def _refuse_context(context: bytes, algorithm: str) -> None:
    if context:
        raise InvalidArgument(f"{algorithm} keys take no context string; pass context=b''")


class _ClassicalSigner:
    """Ed25519 or ECDSA P-256 through the one shared helper (:mod:`secretumvault.hybrid.classical`)."""

    __slots__ = ("_label", "_private", "_public", "_scheme")

    @staticmethod
    def _load_scheme() -> ClassicalSignature:
        raise NotImplementedError

    def __init__(self, private_raw: bytes, public_raw: bytes, label: str) -> None:
        self._label = label
        self._scheme = scheme = self._load_scheme()
        try:
            self._private = scheme.private_from_bytes(private_raw)
            self._public = scheme.public_from_bytes(public_raw)
        except ValueError:
            raise InvalidKey(f"{label}: stored {scheme.name} key is malformed") from None
        if scheme.public_bytes(scheme.public_from_private(self._private)) != public_raw:
            raise InvalidKey(f"{label}: stored {scheme.name} public key does not match its private key")

    def sign(self, data: bytes, context: bytes) -> bytes:
        _refuse_context(context, self._scheme.name)
        return self._sign(data)

    def verify(self, signature: bytes, data: bytes, context: bytes) -> None:
        _refuse_context(context, self._scheme.name)
        if not self._is_valid(signature, data):
            raise InvalidSignature(f"signature does not verify under {self._label}")

    def _sign(self, data: bytes) -> bytes:
        return self._scheme.sign(self._private, data)

    def _is_valid(self, signature: bytes, data: bytes) -> bool:
        return self._scheme.is_valid(self._public, signature, data)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._label}>"


# The schemes are imported when a key of their type is loaded, not with this module:
# hybrid.classical brings in pyca's Ed25519/ECDSA, which no other key type needs.


class Ed25519Signer(_ClassicalSigner):
    __slots__ = ()

    @staticmethod
    def _load_scheme() -> ClassicalSignature:
        from secretumvault.hybrid.classical import ED25519

        return ED25519


class EcdsaP256Signer(_ClassicalSigner):
    """DER signatures (Vault's "asn1" marshaling), low ``s`` only."""

    __slots__ = ()

    @staticmethod
    def _load_scheme() -> EcdsaP256:
        from secretumvault.hybrid.classical import ECDSA_P256

        return ECDSA_P256

    def _sign(self, data: bytes) -> bytes:
        return cast("EcdsaP256", self._scheme).sign_der(self._private, data)

    def _is_valid(self, signature: bytes, data: bytes) -> bool:
        return cast("EcdsaP256", self._scheme).is_valid_der(self._public, signature, data)


class PqcSigner:
    """ML-DSA or hybrid: anything with the :class:`SigSecretKey`/:class:`SigPublicKey` interface."""

    __slots__ = ("_label", "_load_secret", "_lock", "_public", "_secret")

    def __init__(self, public_key: SigPublicKey, load_secret: Callable[[], SigSecretKey], label: str) -> None:
        self._public = public_key
        self._load_secret = load_secret
        self._secret: SigSecretKey | None = None
        self._lock = threading.Lock()
        self._label = label

    def sign(self, data: bytes, context: bytes) -> bytes:
        with self._lock:
            if self._secret is None:
                self._secret = self._load_secret()
            secret = self._secret
        return secret.sign(data, context)

    def verify(self, signature: bytes, data: bytes, context: bytes) -> None:
        try:
            self._public.verify(signature, data, context)
        except InvalidSignature:
            raise InvalidSignature(f"signature does not verify under {self._label}") from None

    def __repr__(self) -> str:
        return f"<PqcSigner {self._label}>"
