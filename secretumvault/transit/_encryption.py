"""encrypt, decrypt, rewrap and their batch forms, on one loaded key."""

from __future__ import annotations

from collections.abc import Sequence

from secretumvault.errors import DecryptionError, InvalidCiphertext, InvalidType, SecretumVaultError
from secretumvault.pqc._buffers import as_bytes
from secretumvault.transit._policy import require_support, usable_for_reading, usable_for_writing
from secretumvault.transit._store import LoadedKey
from secretumvault.transit._vault_string import format_vault_string, format_vault_strings, parse_vault_string

__all__ = ["check_associated_data", "decrypt", "decrypt_many", "encrypt", "encrypt_many", "item_error"]


def check_associated_data(value: object) -> bytes:
    """``None`` means none: the same as ``b""``."""
    return b"" if value is None else as_bytes(value, "associated_data")


def check_items(values: object, what: str) -> list[object]:
    if isinstance(values, (str, bytes, bytearray, memoryview)) or not isinstance(values, Sequence):
        raise InvalidType(f"{what} must be a sequence (list or tuple) of items")
    return list(values)


def encrypt(
    loaded: LoadedKey, plaintext: bytes, user_data: bytes, key_version: int | None
) -> tuple[int, str]:
    """``(version used, "vault:v<version>:<base64>")``."""
    record = loaded.record
    require_support(record, record.spec.supports_encryption, "encryption")
    version = usable_for_writing(record, key_version)
    body = loaded.cipher(version).seal(plaintext, loaded.associated_data(version, user_data))
    return version, format_vault_string(version, body)


def encrypt_many(
    loaded: LoadedKey, plaintexts: Sequence[bytes], user_data: Sequence[bytes], key_version: int | None
) -> list[str]:
    record = loaded.record
    require_support(record, record.spec.supports_encryption, "encryption")
    version = usable_for_writing(record, key_version)
    cipher = loaded.cipher(version)
    ads = [loaded.associated_data(version, data) for data in user_data]
    return format_vault_strings(version, cipher.seal_many(plaintexts, ads))


def _parse(loaded: LoadedKey, ciphertext: object) -> tuple[int, bytes]:
    version, body = parse_vault_string(ciphertext, what="ciphertext", error=InvalidCiphertext)
    usable_for_reading(loaded.record, version, "ciphertext", DecryptionError)
    return version, body


def decrypt(loaded: LoadedKey, ciphertext: object, user_data: bytes) -> bytes:
    record = loaded.record
    require_support(record, record.spec.supports_encryption, "decryption")
    version, body = _parse(loaded, ciphertext)
    return loaded.cipher(version).open(body, loaded.associated_data(version, user_data))


def decrypt_many(loaded: LoadedKey, ciphertexts: Sequence[object], user_data: Sequence[bytes]) -> list[bytes]:
    """All or nothing: the first item that fails raises its own error type, naming its index."""
    record = loaded.record
    require_support(record, record.spec.supports_encryption, "decryption")
    parsed: list[tuple[int, bytes]] = []
    try:
        for ciphertext in ciphertexts:
            parsed.append(_parse(loaded, ciphertext))
    except SecretumVaultError as exc:
        raise item_error(len(parsed), exc) from None
    by_version: dict[int, list[int]] = {}
    for index, (version, _) in enumerate(parsed):
        by_version.setdefault(version, []).append(index)
    outcomes: list[bytes | SecretumVaultError] = [b""] * len(parsed)
    for version, indices in sorted(by_version.items()):
        bodies = [parsed[i][1] for i in indices]
        ads = [loaded.associated_data(version, user_data[i]) for i in indices]
        cipher = loaded.cipher(version)
        opened = cipher.open_many(bodies, ads)  # KEM work in one native call on "oqs"
        for index, outcome in zip(indices, opened, strict=True):
            outcomes[index] = outcome
    plaintexts: list[bytes] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, SecretumVaultError):
            raise item_error(index, outcome) from None
        plaintexts.append(outcome)
    return plaintexts


def item_error(index: int, exc: SecretumVaultError) -> SecretumVaultError:
    """A library error from one batch item, as the same type, naming the item."""
    return type(exc)(f"batch item {index}: {exc}")
