"""sign / verify and hmac / verify_hmac, on one loaded key.

Signatures and HMACs travel as ``vault:v<version>:<base64>``, so a verifier
knows which key version to check against.
"""

from __future__ import annotations

from secretumvault.errors import InvalidSignature
from secretumvault.transit._policy import require_support, usable_for_reading, usable_for_writing
from secretumvault.transit._store import LoadedKey
from secretumvault.transit._vault_string import format_vault_string, parse_vault_string

__all__ = ["compute_hmac", "sign", "verify", "verify_hmac"]


def sign(loaded: LoadedKey, data: bytes, context: bytes, key_version: int | None) -> str:
    record = loaded.record
    require_support(record, record.spec.supports_signing, "signing")
    version = usable_for_writing(record, key_version)
    return format_vault_string(version, loaded.signer(version).sign(data, context))


def verify(loaded: LoadedKey, data: bytes, signature: object, context: bytes) -> None:
    record = loaded.record
    require_support(record, record.spec.supports_signing, "signing")
    version, raw = parse_vault_string(signature, what="signature", error=InvalidSignature)
    usable_for_reading(record, version, "signature", InvalidSignature)
    loaded.signer(version).verify(raw, data, context)


def compute_hmac(loaded: LoadedKey, data: bytes, key_version: int | None) -> str:
    record = loaded.record
    require_support(record, record.spec.supports_hmac, "HMAC")
    version = usable_for_writing(record, key_version)
    return format_vault_string(version, loaded.hmac_key(version).compute(data))


def verify_hmac(loaded: LoadedKey, data: bytes, tag: object) -> None:
    record = loaded.record
    require_support(record, record.spec.supports_hmac, "HMAC")
    version, raw = parse_vault_string(tag, what="HMAC", error=InvalidSignature)
    usable_for_reading(record, version, "HMAC", InvalidSignature)
    loaded.hmac_key(version).verify(raw, data)
