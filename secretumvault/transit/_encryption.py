"""encrypt, decrypt, rewrap and their batch forms, on one loaded key."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from secretumvault.errors import DecryptionError, InvalidCiphertext, InvalidType, SecretumVaultError
from secretumvault.pqc._buffers import as_bytes
from secretumvault.transit._binding import associated_data
from secretumvault.transit._kem_cipher import KemCipher
from secretumvault.transit._policy import require_support, usable_for_reading, usable_for_writing
from secretumvault.transit._store import LoadedKey
from secretumvault.transit._symmetric import SymmetricCipher
from secretumvault.transit._vault_string import format_vault_string, parse_vault_string

__all__ = ["check_associated_data", "decrypt", "decrypt_many", "encrypt", "encrypt_many"]


def check_associated_data(value: object) -> bytes:
    """``None`` means none: the same as ``b""``."""
    return b"" if value is None else as_bytes(value, "associated_data")


def check_items(values: object, what: str) -> list[object]:
    if isinstance(values, (str, bytes, bytearray, memoryview)) or not isinstance(values, Sequence):
        raise InvalidType(f"{what} must be a sequence (list or tuple) of items")
    return list(values)


def _ad(loaded: LoadedKey, version: int, user_data: bytes) -> bytes:
    record = loaded.record
    return associated_data(record.name, version, record.spec.name, user_data)


def encrypt(
    loaded: LoadedKey, plaintext: bytes, user_data: bytes, key_version: int | None
) -> tuple[int, str]:
    """``(version used, "vault:v<version>:<base64>")``."""
    record = loaded.record
    require_support(record, record.spec.supports_encryption, "encryption")
    version = usable_for_writing(record, key_version)
    body = loaded.cipher(version).seal(plaintext, _ad(loaded, version, user_data))
    return version, format_vault_string(version, body)


def encrypt_many(
    loaded: LoadedKey, plaintexts: Sequence[bytes], user_data: Sequence[bytes], key_version: int | None
) -> list[str]:
    record = loaded.record
    require_support(record, record.spec.supports_encryption, "encryption")
    version = usable_for_writing(record, key_version)
    cipher = loaded.cipher(version)
    ads = [_ad(loaded, version, data) for data in user_data]
    if isinstance(cipher, KemCipher):
        bodies = cipher.seal_many(plaintexts, ads)
    else:
        bodies = [cipher.seal(pt, ad) for pt, ad in zip(plaintexts, ads, strict=True)]
    return [format_vault_string(version, body) for body in bodies]


def _parse(loaded: LoadedKey, ciphertext: object) -> tuple[int, bytes]:
    version, body = parse_vault_string(ciphertext, what="ciphertext", error=InvalidCiphertext)
    usable_for_reading(loaded.record, version, "ciphertext", DecryptionError)
    return version, body


def decrypt(loaded: LoadedKey, ciphertext: object, user_data: bytes) -> bytes:
    record = loaded.record
    require_support(record, record.spec.supports_encryption, "decryption")
    version, body = _parse(loaded, ciphertext)
    return loaded.cipher(version).open(body, _ad(loaded, version, user_data))


def decrypt_many(loaded: LoadedKey, ciphertexts: Sequence[object], user_data: Sequence[bytes]) -> list[bytes]:
    """All or nothing: the first item that fails raises its own error type, naming its index."""
    record = loaded.record
    require_support(record, record.spec.supports_encryption, "decryption")
    parsed: list[tuple[int, bytes]] = []
    for index, ciphertext in enumerate(ciphertexts):
        with batch_item(index):
            parsed.append(_parse(loaded, ciphertext))
    outcomes: dict[int, bytes | SecretumVaultError] = {}
    for version in sorted({version for version, _ in parsed}):
        indices = [i for i, (v, _) in enumerate(parsed) if v == version]
        bodies = [parsed[i][1] for i in indices]
        ads = [_ad(loaded, version, user_data[i]) for i in indices]
        cipher = loaded.cipher(version)
        if isinstance(cipher, KemCipher):
            opened = cipher.open_many(bodies, ads)  # batched KEM work on "oqs"
        else:
            opened = [_try_open(cipher, body, ad) for body, ad in zip(bodies, ads, strict=True)]
        outcomes.update(zip(indices, opened, strict=True))
    plaintexts: list[bytes] = []
    for index in range(len(parsed)):
        outcome = outcomes[index]
        if isinstance(outcome, SecretumVaultError):
            with batch_item(index):
                raise outcome
        plaintexts.append(outcome)
    return plaintexts


def _try_open(cipher: SymmetricCipher, body: bytes, ad: bytes) -> bytes | SecretumVaultError:
    try:
        return cipher.open(body, ad)
    except SecretumVaultError as exc:
        return exc


@contextlib.contextmanager
def batch_item(index: int) -> Iterator[None]:
    """Re-raise a library error from one batch item as the same type, naming the item."""
    try:
        yield
    except SecretumVaultError as exc:
        raise type(exc)(f"batch item {index}: {exc}") from None
