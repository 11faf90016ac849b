"""AES-256-GCM with a random 96-bit nonce, the one cipher of the keystore.

Every caller passes associated data naming what is being protected (a record
path, the keyring, the root key), so a ciphertext cannot be replayed in
another role.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["ALGORITHM", "KEY_SIZE", "NONCE_SIZE", "TAG_SIZE", "Aead", "TagMismatchError", "new_key"]

ALGORITHM = "AES-256-GCM"
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


class TagMismatchError(Exception):
    """Internal: the tag did not verify. Callers turn it into the error that fits."""


def new_key() -> bytes:
    return os.urandom(KEY_SIZE)


class Aead:
    """An AES-256-GCM key. Its repr never shows the key."""

    __slots__ = ("_aesgcm",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError(f"{ALGORITHM} needs a {KEY_SIZE}-byte key")
        self._aesgcm = AESGCM(key)

    def __repr__(self) -> str:
        return f"Aead({ALGORITHM}, key=<hidden>)"

    def seal(self, plaintext: bytes, associated_data: bytes) -> tuple[bytes, bytes]:
        """Return ``(nonce, ciphertext_with_tag)``."""
        nonce = os.urandom(NONCE_SIZE)
        return nonce, self._aesgcm.encrypt(nonce, plaintext, associated_data)

    def open(self, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
        if len(nonce) != NONCE_SIZE or len(ciphertext) < TAG_SIZE:
            raise TagMismatchError
        try:
            return self._aesgcm.decrypt(nonce, ciphertext, associated_data)
        except InvalidTag:
            raise TagMismatchError from None
