"""What the transit engine returns: key metadata, exported keys and data keys."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DataKey", "ExportedKey", "KeyInfo", "KeyVersionInfo"]


@dataclass(frozen=True)
class KeyVersionInfo:
    """One available version: when it was made and, for asymmetric types, its public key."""

    version: int
    created_at: str
    public_key: bytes | None = field(repr=False)  # public, but kilobytes long


@dataclass(frozen=True)
class KeyInfo:
    """A key's metadata and policy, as Vault's ``read key`` reports it. Never private material."""

    name: str
    type: str
    latest_version: int
    min_available_version: int
    min_decryption_version: int
    min_encryption_version: int
    deletion_allowed: bool
    exportable: bool
    allow_plaintext_backup: bool
    client_type: dict[str, str]  # the type as the client spelled it (empty: as ``type``)
    supports_encryption: bool
    supports_decryption: bool
    supports_signing: bool
    supports_hmac: bool
    versions: dict[int, KeyVersionInfo]


@dataclass(frozen=True)
class ExportedKey:
    """One exported version: ``key`` in ``encoding`` (see the transit package docs). A secret."""

    version: int
    encoding: str
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class DataKey:
    """A fresh data key: ``ciphertext`` (wrapped under the transit key) and, if asked for, ``plaintext``."""

    ciphertext: str
    key_version: int
    plaintext: bytes | None = field(default=None, repr=False)
