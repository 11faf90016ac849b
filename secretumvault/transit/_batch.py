"""Batch decryption for the ciphers with no batch form of their own (RSA, AES-GCM, ChaCha20)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from secretumvault.errors import SecretumVaultError

__all__ = ["open_each"]


def open_each(
    open_one: Callable[[bytes, bytes], bytes], bodies: Sequence[bytes], associated_data: Sequence[bytes]
) -> list[bytes | SecretumVaultError]:
    """One outcome per body, in order: the plaintext, or the error that body raised (the caller
    decides whether one failure fails the batch)."""
    outcomes: list[bytes | SecretumVaultError] = []
    for body, ad in zip(bodies, associated_data, strict=True):
        try:
            outcomes.append(open_one(body, ad))
        except SecretumVaultError as exc:
            outcomes.append(exc)
    return outcomes
