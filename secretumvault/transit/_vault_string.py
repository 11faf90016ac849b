"""The ``vault:v<version>:<base64>`` strings that carry ciphertexts, signatures and HMACs."""

from __future__ import annotations

import base64
import binascii
import re

from secretumvault.errors import InvalidType, SecretumVaultError

__all__ = ["MAX_VERSION", "format_vault_string", "parse_vault_string"]

#: Versions are stored and bound as 32-bit unsigned integers.
MAX_VERSION = 2**32 - 1

# No leading zeros and standard padded base64, so each value has one spelling.
# The (possibly huge) base64 part is checked by the decoder, not by the regex.
_PREFIX = re.compile(r"vault:v([1-9][0-9]{0,9})")


def format_vault_string(version: int, body: bytes) -> str:
    return f"vault:v{version}:{base64.b64encode(body).decode('ascii')}"


def parse_vault_string(text: object, *, what: str, error: type[SecretumVaultError]) -> tuple[int, bytes]:
    """Split ``vault:v<version>:<base64>`` into ``(version, body)``.

    Anything else raises ``error``; messages say what is wrong without
    echoing the input.
    """
    if not isinstance(text, str):
        raise InvalidType(f"{what} must be a 'vault:v<version>:<base64>' str, not {type(text).__name__}")
    prefix, separator, encoded = text.rpartition(":")
    match = _PREFIX.fullmatch(prefix) if separator else None
    if match is None or not encoded:
        raise error(f"{what} is not of the form 'vault:v<version>:<base64>'")
    version = int(match.group(1))
    if version > MAX_VERSION:
        raise error(f"{what} names key version {version}, above the largest possible {MAX_VERSION}")
    try:
        body = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII text
        raise error(f"{what} has malformed base64") from None
    # Only the last 4-character group can hide nonzero padding bits.
    if base64.b64encode(base64.b64decode(encoded[-4:])).decode("ascii") != encoded[-4:]:
        raise error(f"{what} has non-canonical base64")
    return version, body
