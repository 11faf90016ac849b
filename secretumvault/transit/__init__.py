"""Transit: named, versioned, rotatable keys for encryption, signing and HMAC.

As HashiCorp Vault's transit secrets engine, as a library, with post-quantum
key types. Keys live in an unsealed :class:`~secretumvault.keystore.Keystore`
and survive restarts; callers never see key material unless a key is made
exportable.

>>> from secretumvault.transit import Transit
>>> transit = Transit(keystore)                              # doctest: +SKIP
>>> transit.create_key("orders", type="ml-kem-768")          # doctest: +SKIP
>>> ct = transit.encrypt("orders", b"card 4111...", associated_data=b"order 17")   # doctest: +SKIP
>>> transit.decrypt("orders", ct, associated_data=b"order 17")                    # doctest: +SKIP
b'card 4111...'
>>> transit.rotate_key("orders"); ct2 = transit.rewrap("orders", ct, b"order 17")  # doctest: +SKIP

Key types (``KEY_TYPES``): aes256-gcm96, chacha20-poly1305, ml-kem-768,
ml-kem-1024, hybrid-x25519-ml-kem-768 (encryption); ed25519, ecdsa-p256,
ml-dsa-44, ml-dsa-65, ml-dsa-87, hybrid-ed25519-ml-dsa-65, composite-ml-dsa-*, slh-dsa-sha2-128s ...
slh-dsa-shake-256f (signing); rsa-2048,
rsa-3072, rsa-4096 (both); hmac. Every key computes HMACs (each version has an HMAC key).

Ciphertexts, signatures and HMACs are ``vault:v<key version>:<base64>``.
Symmetric bodies are ``nonce | ciphertext | tag``; KEM bodies are
``0x02 | kem_ct | AES-256-GCM(ciphertext | tag)`` with a fresh key per
message (format 2; format 1 bodies are still read: see ``_kem_cipher``). Every ciphertext is bound to the key
name, version and type, and to the caller's ``associated_data``.

Errors (all from :mod:`secretumvault.errors`): KeyNotFound (no such key or
version), DecryptionError (altered ciphertext, another key's ciphertext,
wrong associated data), InvalidCiphertext (malformed ``vault:`` string or
body), InvalidSignature (bad or malformed signature or HMAC),
UnsupportedAlgorithm (unknown type, or an operation the key type does not
do), PolicyViolation (refused by the key's policy: version below
min_decryption_version, deletion not allowed, not exportable, ...),
ConflictError (the key exists; or a compare-and-set kept losing races),
SealedError. A failed call leaves the stored key unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretumvault.transit.engine import Transit
from secretumvault.transit.key_types import KEY_TYPES, KeyTypeSpec, Purpose

if TYPE_CHECKING:
    from secretumvault.transit.results import DataKey, ExportedKey, KeyInfo, KeyVersionInfo

__all__ = [
    "KEY_TYPES",
    "DataKey",
    "ExportedKey",
    "KeyInfo",
    "KeyTypeSpec",
    "KeyVersionInfo",
    "Purpose",
    "Transit",
]

_RESULTS = frozenset({"DataKey", "ExportedKey", "KeyInfo", "KeyVersionInfo"})


def __getattr__(name: str) -> object:
    # The result classes load on first use: encrypting or signing builds none of them.
    if name in _RESULTS:
        from secretumvault.transit import results

        return getattr(results, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
