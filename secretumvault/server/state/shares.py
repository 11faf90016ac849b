"""Unseal shares as Vault clients see them: the raw share bytes, as hex or base64 "keys"."""

from __future__ import annotations

import base64
import binascii

from secretumvault.errors import UnsealError
from secretumvault.keystore.shamir import SHARE_PREFIX

__all__ = ["share_to_vault_key", "vault_key_to_share"]


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
