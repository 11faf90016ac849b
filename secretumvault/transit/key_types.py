"""The transit key types: what each one is for and which algorithm it runs."""

from __future__ import annotations

import enum

from secretumvault._frozen import Frozen, set_field
from secretumvault.errors import InvalidType, UnsupportedAlgorithm
from secretumvault.pqc.params import SLH_DSA_NAMES

__all__ = ["KEY_TYPES", "VAULT_TYPES_NOT_SUPPORTED", "KeyTypeSpec", "Purpose", "key_type_spec"]


class Purpose(enum.Enum):
    """What a key type is for. Every type also computes HMACs (each version has an HMAC key)."""

    SYMMETRIC_ENCRYPTION = "symmetric-encryption"
    KEM_ENCRYPTION = "kem-encryption"
    SIGNING = "signing"
    HMAC = "hmac"
    RSA = "rsa"  # Vault's rsa-* types: RSA-OAEP encryption and RSA signatures, both


class KeyTypeSpec(Frozen):
    __slots__ = _fields = ("name", "purpose", "algorithm")
    name: str
    purpose: Purpose
    algorithm: str  # the algorithm underneath, e.g. "ML-KEM-768"

    def __init__(self, name: str, purpose: Purpose, algorithm: str) -> None:
        set_field(self, "name", name)
        set_field(self, "purpose", purpose)
        set_field(self, "algorithm", algorithm)

    @property
    def supports_encryption(self) -> bool:
        return self.purpose in (Purpose.SYMMETRIC_ENCRYPTION, Purpose.KEM_ENCRYPTION, Purpose.RSA)

    @property
    def supports_signing(self) -> bool:
        return self.purpose in (Purpose.SIGNING, Purpose.RSA)

    @property
    def supports_hmac(self) -> bool:
        return True  # as in Vault: every key version carries an HMAC key

    @property
    def asymmetric(self) -> bool:
        return self.purpose in (Purpose.KEM_ENCRYPTION, Purpose.SIGNING, Purpose.RSA)


_SPECS = (
    KeyTypeSpec("aes256-gcm96", Purpose.SYMMETRIC_ENCRYPTION, "AES-256-GCM"),
    KeyTypeSpec("chacha20-poly1305", Purpose.SYMMETRIC_ENCRYPTION, "ChaCha20-Poly1305"),
    KeyTypeSpec("ml-kem-768", Purpose.KEM_ENCRYPTION, "ML-KEM-768"),
    KeyTypeSpec("ml-kem-1024", Purpose.KEM_ENCRYPTION, "ML-KEM-1024"),
    KeyTypeSpec("hybrid-x25519-ml-kem-768", Purpose.KEM_ENCRYPTION, "X25519-ML-KEM-768"),
    KeyTypeSpec("ed25519", Purpose.SIGNING, "Ed25519"),
    KeyTypeSpec("ecdsa-p256", Purpose.SIGNING, "ECDSA-P256"),
    KeyTypeSpec("ml-dsa-44", Purpose.SIGNING, "ML-DSA-44"),
    KeyTypeSpec("ml-dsa-65", Purpose.SIGNING, "ML-DSA-65"),
    KeyTypeSpec("ml-dsa-87", Purpose.SIGNING, "ML-DSA-87"),
    KeyTypeSpec("hybrid-ed25519-ml-dsa-65", Purpose.SIGNING, "Ed25519-ML-DSA-65"),
    # Composite ML-DSA (draft-ietf-lamps-pq-composite-sigs-19, hybrid.composite): the draft's algorithms.
    KeyTypeSpec("composite-ml-dsa-44-ed25519-sha512", Purpose.SIGNING, "MLDSA44-Ed25519-SHA512"),
    KeyTypeSpec("composite-ml-dsa-65-ed25519-sha512", Purpose.SIGNING, "MLDSA65-Ed25519-SHA512"),
    KeyTypeSpec("composite-ml-dsa-65-ecdsa-p256-sha512", Purpose.SIGNING, "MLDSA65-ECDSA-P256-SHA512"),
    KeyTypeSpec("composite-ml-dsa-87-ecdsa-p384-sha512", Purpose.SIGNING, "MLDSA87-ECDSA-P384-SHA512"),
    # SLH-DSA (FIPS 205), all twelve sets: "slh-dsa-sha2-128s" runs SLH-DSA-SHA2-128s
    *(KeyTypeSpec(name.lower(), Purpose.SIGNING, name) for name in SLH_DSA_NAMES),
    KeyTypeSpec("rsa-2048", Purpose.RSA, "RSA-2048"),
    KeyTypeSpec("rsa-3072", Purpose.RSA, "RSA-3072"),
    KeyTypeSpec("rsa-4096", Purpose.RSA, "RSA-4096"),
    KeyTypeSpec("hmac", Purpose.HMAC, "HMAC"),
)

#: Every key type by name, in the order they are documented.
KEY_TYPES: dict[str, KeyTypeSpec] = {spec.name: spec for spec in _SPECS}


#: Vault's transit key types that this engine does not have (refused as "not supported", not "unknown").
VAULT_TYPES_NOT_SUPPORTED = frozenset({"aes128-gcm96", "ecdsa-p384", "ecdsa-p521", "managed_key"})


def key_type_spec(name: object) -> KeyTypeSpec:
    """The spec of key type ``name``; UnsupportedAlgorithm if there is none."""
    if not isinstance(name, str):
        raise InvalidType(f"a key type must be str, not {type(name).__name__}")
    try:
        return KEY_TYPES[name]
    except KeyError:
        if name in VAULT_TYPES_NOT_SUPPORTED:
            raise UnsupportedAlgorithm(
                f"transit key type {name!r} is not supported here; use one of {', '.join(KEY_TYPES)}"
            ) from None
        raise UnsupportedAlgorithm(
            f"unknown transit key type {name!r}; expected one of {', '.join(KEY_TYPES)}"
        ) from None
