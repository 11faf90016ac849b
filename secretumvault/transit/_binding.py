"""What a transit ciphertext is bound to: key name, key version, key type and the caller's data.

Every field is length-prefixed (or fixed-size), so no two different tuples
encode to the same bytes.
"""

from __future__ import annotations

import struct

__all__ = ["ad_prefix", "associated_data", "kem_kdf_fixed_info", "kem_kdf_info", "user_data_field"]

_AD_DOMAIN = b"secretumvault.transit.ciphertext.v1\x00"
_KDF_DOMAIN = b"secretumvault.transit.kem-aead-key.v1\x00"  # format 1 bodies: HKDF info
_KDF_DOMAIN_V2 = b"secretumvault.transit.kem-aead-key.v2\x00"  # format 2 bodies: SP 800-56C FixedInfo
_U32 = struct.Struct(">I")


def _field(data: bytes) -> bytes:
    return _U32.pack(len(data)) + data


def _key_identity(name: str, version: int, key_type: str) -> bytes:
    return _field(name.encode("utf-8")) + _U32.pack(version) + _field(key_type.encode("ascii"))


def associated_data(name: str, version: int, key_type: str, user_data: bytes) -> bytes:
    """AEAD associated data: a ciphertext opens only under the key, version and data it was made for.

    ``ad_prefix(name, version, key_type) + user_data_field(user_data)``; callers
    that use one key version many times keep the prefix.
    """
    return ad_prefix(name, version, key_type) + _field(user_data)


def ad_prefix(name: str, version: int, key_type: str) -> bytes:
    return _AD_DOMAIN + _key_identity(name, version, key_type)


def user_data_field(user_data: bytes) -> bytes:
    return _U32.pack(len(user_data)) + user_data


def kem_kdf_info(name: str, version: int, key_type: str) -> bytes:
    """HKDF info turning a KEM shared secret into the AEAD key of one message (format 1 bodies)."""
    return _KDF_DOMAIN + _key_identity(name, version, key_type)


def kem_kdf_fixed_info(name: str, version: int, key_type: str) -> bytes:
    """One-step KDF FixedInfo turning a KEM shared secret into one message's AEAD key (format 2)."""
    return _KDF_DOMAIN_V2 + _key_identity(name, version, key_type)
