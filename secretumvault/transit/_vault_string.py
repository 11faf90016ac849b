"""The ``vault:v<version>:<base64>`` strings that carry ciphertexts, signatures and HMACs.

Each value has one spelling: the version has no leading zeros and the body is
standard, padded, canonical base64 (unused bits of the last character zero).
binascii decodes directly (``base64.b64decode(validate=True)`` runs a
regular expression over the whole text first, which costs more than decoding).

Encoding is the native core's ``base64_text`` where it is built, binascii
otherwise; both write the same text (tests/transit/test_vault_string.py). The
native encoder exists for one budget line (issue 24): binascii encodes bit by
bit, 2.3 µs of a 16 µs ML-KEM-768 encryption of 1 KiB, and with it transit
stayed above 1.6x its floor. pybase64 would be as fast, but it releases the GIL
on every call, which single transit calls must not (tests/transit/test_gil.py).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable

from secretumvault.errors import InvalidType, SecretumVaultError

__all__ = ["MAX_VERSION", "format_vault_string", "format_vault_strings", "parse_vault_string", "vault_prefix"]

#: Versions are stored and bound as 32-bit unsigned integers.
MAX_VERSION = 2**32 - 1

_HEAD = "vault:v"
_MAX_DIGITS = 10
_MAX_PREFIX = len(_HEAD) + _MAX_DIGITS
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_VALUE = {char: index for index, char in enumerate(_ALPHABET)}


def vault_prefix(version: int) -> str:
    """``"vault:v<version>:"``."""
    return f"{_HEAD}{version}:"


def _binascii_text(prefix: str, data: bytes) -> str:
    return prefix + binascii.b2a_base64(data, newline=False).decode("ascii")


_base64_text: Callable[[str, bytes], str]
try:
    from secretumvault.pqc.backends._oqs import base64_text as _native_base64_text
except ImportError:  # no native core: the portable build
    _base64_text = _binascii_text
else:
    _base64_text = _native_base64_text


def format_vault_string(version: int, body: bytes) -> str:
    return _base64_text(vault_prefix(version), body)


def format_vault_strings(version: int, bodies: list[bytes]) -> list[str]:
    prefix, encode = vault_prefix(version), _base64_text
    return [encode(prefix, body) for body in bodies]


def parse_vault_string(text: object, *, what: str, error: type[SecretumVaultError]) -> tuple[int, bytes]:
    """Split ``vault:v<version>:<base64>`` into ``(version, body)``.

    Anything else raises ``error``; messages say what is wrong without
    echoing the input.
    """
    if not isinstance(text, str):
        raise InvalidType(f"{what} must be a 'vault:v<version>:<base64>' str, not {type(text).__name__}")
    prefix, _, encoded = text.rpartition(":")  # no ":" gives prefix "", refused below
    version = _version_in(prefix) if len(prefix) <= _MAX_PREFIX else None
    if version is None or not encoded:
        raise error(f"{what} is not of the form 'vault:v<version>:<base64>'")
    if version > MAX_VERSION:
        raise error(f"{what} names key version {version}, above the largest possible {MAX_VERSION}")
    try:
        # strict_mode: only the alphabet, correct padding, nothing after it.
        body = binascii.a2b_base64(encoded, strict_mode=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise error(f"{what} has malformed base64") from None
    if len(encoded) % 4 or not _canonical_tail(encoded):
        raise error(f"{what} has non-canonical base64")
    return version, body


def _version_in(prefix: str) -> int | None:
    """The version in ``"vault:v<version>"``, or None if ``prefix`` is not of that form."""
    digits = prefix[len(_HEAD) :]
    if (
        not prefix.startswith(_HEAD)
        or not 0 < len(digits) <= _MAX_DIGITS
        or not (digits.isascii() and digits.isdigit())
        or digits[0] == "0"
    ):
        return None
    return int(digits)


def _canonical_tail(encoded: str) -> bool:
    """At most two padding characters, and the bits of the last character they leave unused are zero."""
    data = encoded.rstrip("=")
    padding = len(encoded) - len(data)
    if padding == 0:
        return True
    # Python 3.11's strict mode still accepts a whole quantum of excess padding ("AAAA====").
    if padding > 2 or not data:
        return False
    last = _VALUE.get(data[-1])
    return last is not None and last & (0x0F if padding == 2 else 0x03) == 0
