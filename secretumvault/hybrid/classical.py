"""Ed25519 and ECDSA P-256, with one set of rules for every caller (hybrid signatures, transit).

- Ed25519 (RFC 8032): raw 32-byte private and public keys, 64-byte signatures.
- ECDSA P-256 with SHA-256:

  - private keys are the 32-byte big-endian scalar, which must lie in [1, n-1];
  - public keys are accepted only as uncompressed SEC 1 points (65 bytes), so each key
    has exactly one encoding;
  - signing is deterministic (RFC 6979: no RNG at sign time) and always gives the low
    ``s`` (at most n/2); verification refuses a high ``s``. Without that, ``(r, n - s)``
    is a second valid signature that anyone can make from a given one.

  Signatures travel either as fixed-size ``r || s`` (64 bytes, the hybrid halves) or as
  DER (transit, as Vault's default "asn1" marshaling). A DER signature must be the exact
  DER encoding of its ``(r, s)``: no second spelling of the same pair verifies.

Keys are pyca/cryptography objects; malformed key bytes raise ``ValueError``, which
each caller turns into its own ``InvalidKey`` message. ``is_valid`` answers ``False``
for any malformed or non-verifying signature; it never raises for bad input.
"""

from __future__ import annotations

import abc
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = ["ECDSA_P256", "ED25519", "ClassicalSignature", "EcdsaP256", "Ed25519"]


class ClassicalSignature(abc.ABC):
    """One classical signature scheme, reduced to fixed-size raw encodings."""

    name: str
    public_key_size: int
    private_key_size: int
    signature_size: int

    @abc.abstractmethod
    def generate(self) -> Any: ...

    @abc.abstractmethod
    def private_from_bytes(self, data: bytes) -> Any: ...

    @abc.abstractmethod
    def private_bytes(self, key: Any) -> bytes: ...

    @abc.abstractmethod
    def public_from_bytes(self, data: bytes) -> Any: ...

    @abc.abstractmethod
    def public_bytes(self, key: Any) -> bytes: ...

    @abc.abstractmethod
    def sign(self, key: Any, message: bytes) -> bytes: ...

    @abc.abstractmethod
    def is_valid(self, key: Any, signature: bytes, message: bytes) -> bool: ...

    def public_from_private(self, key: Any) -> Any:
        return key.public_key()


class Ed25519(ClassicalSignature):
    name = "Ed25519"
    public_key_size = 32
    private_key_size = 32
    signature_size = 64

    def generate(self) -> ed25519.Ed25519PrivateKey:
        return ed25519.Ed25519PrivateKey.generate()

    def private_from_bytes(self, data: bytes) -> ed25519.Ed25519PrivateKey:
        return ed25519.Ed25519PrivateKey.from_private_bytes(data)

    def private_bytes(self, key: ed25519.Ed25519PrivateKey) -> bytes:
        return key.private_bytes_raw()

    def public_from_bytes(self, data: bytes) -> ed25519.Ed25519PublicKey:
        return ed25519.Ed25519PublicKey.from_public_bytes(data)

    def public_bytes(self, key: ed25519.Ed25519PublicKey) -> bytes:
        return key.public_bytes_raw()

    def sign(self, key: ed25519.Ed25519PrivateKey, message: bytes) -> bytes:
        return key.sign(message)

    def is_valid(self, key: ed25519.Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
        try:
            key.verify(signature, message)
        except _CryptoInvalidSignature:
            return False
        return True


class EcdsaP256(ClassicalSignature):
    name = "ECDSA-P256"
    public_key_size = 65  # SEC 1 uncompressed point
    private_key_size = 32
    signature_size = 64  # r || s, 32 bytes each
    ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    _HALF_ORDER = ORDER // 2
    _CURVE = ec.SECP256R1()
    _SIGN = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)  # RFC 6979
    _VERIFY = ec.ECDSA(hashes.SHA256())

    def generate(self) -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(self._CURVE)

    def private_from_bytes(self, data: bytes) -> ec.EllipticCurvePrivateKey:
        if len(data) != self.private_key_size:
            raise ValueError("a P-256 private scalar is 32 bytes")
        scalar = int.from_bytes(data, "big")
        if not 0 < scalar < self.ORDER:
            raise ValueError("P-256 private scalar out of range")
        return ec.derive_private_key(scalar, self._CURVE)

    def private_bytes(self, key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_numbers().private_value.to_bytes(self.private_key_size, "big")

    def public_from_bytes(self, data: bytes) -> ec.EllipticCurvePublicKey:
        if len(data) != self.public_key_size or data[:1] != b"\x04":
            raise ValueError("expected an uncompressed SEC 1 point")  # one encoding per key
        return ec.EllipticCurvePublicKey.from_encoded_point(self._CURVE, data)

    def public_bytes(self, key: ec.EllipticCurvePublicKey) -> bytes:
        return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    # -- signatures: (r, s) with low s, as r || s or as DER --------------------------------

    def _sign_low_s(self, key: ec.EllipticCurvePrivateKey, message: bytes) -> tuple[int, int]:
        r, s = decode_dss_signature(key.sign(message, self._SIGN))
        return r, (self.ORDER - s if s > self._HALF_ORDER else s)

    def _is_valid_pair(self, key: ec.EllipticCurvePublicKey, r: int, s: int, message: bytes) -> bool:
        if not (0 < r < self.ORDER and 0 < s <= self._HALF_ORDER):
            return False
        try:
            key.verify(encode_dss_signature(r, s), message, self._VERIFY)
        except _CryptoInvalidSignature:
            return False
        return True

    def sign(self, key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
        r, s = self._sign_low_s(key, message)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def is_valid(self, key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
        if len(signature) != self.signature_size:
            return False
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        return self._is_valid_pair(key, r, s, message)

    def sign_der(self, key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
        """DER ``SEQUENCE { r, s }`` with low ``s``."""
        return encode_dss_signature(*self._sign_low_s(key, message))

    def is_valid_der(self, key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
        """True only for the exact DER of a low-``s`` pair that verifies."""
        try:
            r, s = decode_dss_signature(signature)
        except ValueError:
            return False
        if encode_dss_signature(r, s) != signature:  # trailing bytes or a non-minimal spelling
            return False
        return self._is_valid_pair(key, r, s, message)


#: The one instance of each scheme that callers share.
ED25519 = Ed25519()
ECDSA_P256 = EcdsaP256()
