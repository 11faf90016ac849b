"""Signing key types: Ed25519, ECDSA P-256, ML-DSA and hybrid Ed25519 + ML-DSA-65.

Post-quantum signers verify with the stored public key alone and load the
private key only when they first sign (loading may need another backend, see
``_operators``).

- Ed25519: RFC 8032 pure Ed25519 over the data.
- ECDSA P-256: SHA-256, DER-encoded signature (as Vault's default "asn1"
  marshaling), deterministic nonces (RFC 6979).
- ML-DSA and the hybrid: FIPS 204 pure signing with the caller's context
  string (the hybrid binds it into both halves, see ``hybrid``).

Ed25519 and ECDSA have no context string; a non-empty one is refused rather
than silently ignored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from secretumvault.errors import InvalidArgument, InvalidKey, InvalidSignature
from secretumvault.pqc.keys import SigPublicKey, SigSecretKey

__all__ = ["EcdsaP256Signer", "Ed25519Signer", "PqcSigner", "Signer"]


class Signer(Protocol):
    def sign(self, data: bytes, context: bytes) -> bytes: ...
    def verify(self, signature: bytes, data: bytes, context: bytes) -> None: ...


def _refuse_context(context: bytes, algorithm: str) -> None:
    if context:
        raise InvalidArgument(f"{algorithm} keys take no context string; pass context=b''")


class Ed25519Signer:
    __slots__ = ("_label", "_private", "_public")

    def __init__(self, private_raw: bytes, public_raw: bytes, label: str) -> None:
        self._label = label
        try:
            self._private = ed25519.Ed25519PrivateKey.from_private_bytes(private_raw)
            self._public = ed25519.Ed25519PublicKey.from_public_bytes(public_raw)
        except ValueError:
            raise InvalidKey(f"{label}: stored Ed25519 key is malformed") from None

    def sign(self, data: bytes, context: bytes) -> bytes:
        _refuse_context(context, "Ed25519")
        return self._private.sign(data)

    def verify(self, signature: bytes, data: bytes, context: bytes) -> None:
        _refuse_context(context, "Ed25519")
        try:
            self._public.verify(signature, data)
        except _CryptoInvalidSignature:
            raise InvalidSignature(f"signature does not verify under {self._label}") from None

    def __repr__(self) -> str:
        return f"<Ed25519Signer {self._label}>"


class EcdsaP256Signer:
    __slots__ = ("_label", "_private", "_public")

    _CURVE = ec.SECP256R1()
    _SIGN = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    _VERIFY = ec.ECDSA(hashes.SHA256())

    def __init__(self, private_scalar: bytes, public_point: bytes, label: str) -> None:
        self._label = label
        try:
            if len(private_scalar) != 32:
                raise ValueError("wrong scalar length")
            self._private = ec.derive_private_key(int.from_bytes(private_scalar, "big"), self._CURVE)
            self._public = ec.EllipticCurvePublicKey.from_encoded_point(self._CURVE, public_point)
        except ValueError:
            raise InvalidKey(f"{label}: stored ECDSA P-256 key is malformed") from None

    def sign(self, data: bytes, context: bytes) -> bytes:
        _refuse_context(context, "ECDSA P-256")
        return self._private.sign(data, self._SIGN)

    def verify(self, signature: bytes, data: bytes, context: bytes) -> None:
        _refuse_context(context, "ECDSA P-256")
        try:
            self._public.verify(signature, data, self._VERIFY)
        except _CryptoInvalidSignature:
            raise InvalidSignature(f"signature does not verify under {self._label}") from None

    def __repr__(self) -> str:
        return f"<EcdsaP256Signer {self._label}>"


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
