"""Which key version an operation may use: Vault's min_*_version rules.

Refusals by policy raise InvalidArgument (the version is known, the key's
configuration forbids it); a version the key never had raises the
operation's own "does not match" error, since such input was not made with
this key.
"""

from __future__ import annotations

from secretumvault.errors import (
    InvalidArgument,
    InvalidType,
    PolicyViolation,
    SecretumVaultError,
    UnsupportedAlgorithm,
)
from secretumvault.transit._record import KeyRecord

__all__ = ["check_key_version_argument", "require_support", "usable_for_reading", "usable_for_writing"]


def require_support(record: KeyRecord, supported: bool, operation: str) -> None:
    if not supported:
        raise UnsupportedAlgorithm(
            f"transit key {record.name!r} is of type {record.spec.name}, which does not do {operation}"
        )


def check_key_version_argument(key_version: object) -> int | None:
    if key_version is None:
        return None
    if not isinstance(key_version, int) or isinstance(key_version, bool):
        raise InvalidType(f"key_version must be int or None, not {type(key_version).__name__}")
    if key_version < 1:
        raise InvalidArgument("key_version must be a key version number (>= 1)")
    return key_version


def usable_for_writing(record: KeyRecord, requested: int | None) -> int:
    """The version to encrypt, sign or HMAC with: ``requested``, or the latest."""
    if requested is None:
        return record.latest_version
    if requested > record.latest_version:
        raise InvalidArgument(
            f"transit key {record.name!r} has no version {requested}; its latest is {record.latest_version}"
        )
    # Never below min_decryption_version either: such a ciphertext could not be decrypted.
    floor = max(record.min_encryption_version, record.min_decryption_version)
    if requested < floor:
        raise PolicyViolation(
            f"transit key {record.name!r} version {requested} is below its min_encryption_version "
            f"({record.min_encryption_version}) or min_decryption_version ({record.min_decryption_version})"
        )
    return requested


def usable_for_reading(record: KeyRecord, version: int, what: str, unknown: type[SecretumVaultError]) -> None:
    """Check that a ``what`` made under ``version`` may be decrypted or verified."""
    if version > record.latest_version:
        raise unknown(
            f"{what} names version {version} of transit key {record.name!r}, whose latest is "
            f"{record.latest_version}: it was made with another key"
        )
    if version < record.min_available_version:
        raise PolicyViolation(
            f"{what} was made with version {version} of transit key {record.name!r}, which was trimmed"
        )
    if version < record.min_decryption_version:
        raise PolicyViolation(
            f"{what} was made with version {version} of transit key {record.name!r}, below its "
            f"min_decryption_version ({record.min_decryption_version}); rewrap old ciphertexts before "
            "raising it"
        )
