"""AES-256-GCM and ChaCha20-Poly1305 keys: body = nonce (12 bytes) | ciphertext | tag (16 bytes).

Nonces are 96 random bits from ``os.urandom`` (the OS CSPRNG), drawn per
message: nothing is kept between calls, so a forked child or another thread
can never repeat one. With random nonces a key should encrypt at most 2**32
messages (NIST SP 800-38D); rotate keys well before that.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from secretumvault.errors import DecryptionError, InvalidCiphertext, SecretumVaultError
from secretumvault.transit._batch import open_each

__all__ = ["NONCE_SIZE", "TAG_SIZE", "SymmetricCipher"]

NONCE_SIZE = 12
TAG_SIZE = 16


class SymmetricCipher:
    """One version of a symmetric transit key. ``label`` names it in error messages."""

    __slots__ = ("_aead", "_label")

    def __init__(self, algorithm: str, key: bytes, label: str) -> None:
        self._aead = AESGCM(key) if algorithm == "AES-256-GCM" else ChaCha20Poly1305(key)
        self._label = label

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def seal_many(self, plaintexts: Sequence[bytes], associated_data: Sequence[bytes]) -> list[bytes]:
        """:meth:`seal` for each item; the random nonces come from one OS call."""
        randomness = os.urandom(NONCE_SIZE * len(plaintexts))
        encrypt = self._aead.encrypt
        bodies = []
        for index, (plaintext, ad) in enumerate(zip(plaintexts, associated_data, strict=True)):
            nonce = randomness[index * NONCE_SIZE : (index + 1) * NONCE_SIZE]
            bodies.append(nonce + encrypt(nonce, plaintext, ad))
        return bodies

    def open(self, body: bytes, associated_data: bytes) -> bytes:
        if len(body) < NONCE_SIZE + TAG_SIZE:
            raise InvalidCiphertext(
                f"ciphertext for {self._label} is truncated: {len(body)} bytes, "
                f"at least {NONCE_SIZE + TAG_SIZE} expected"
            )
        try:
            return self._aead.decrypt(body[:NONCE_SIZE], body[NONCE_SIZE:], associated_data)
        except InvalidTag:
            raise DecryptionError(
                f"ciphertext does not authenticate under {self._label}: it was altered, made with "
                "another key, or the associated data differs"
            ) from None

    def open_many(
        self, bodies: Sequence[bytes], associated_data: Sequence[bytes]
    ) -> list[bytes | SecretumVaultError]:
        """One outcome per body, in order: the plaintext, or the error that body raised."""
        return open_each(self.open, bodies, associated_data)

    def __repr__(self) -> str:
        return f"<SymmetricCipher {self._label}>"
