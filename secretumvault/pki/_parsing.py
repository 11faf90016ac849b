"""What pyca/cryptography raises for malformed X.509 input, and reading PEM-or-DER arguments.

pyca/cryptography parses some fields only when they are read, and reports a
malformed one with several exception types besides ValueError; callers catch
them all as :data:`PARSE_ERRORS` and raise InvalidArgument instead.
"""

from __future__ import annotations

from cryptography import x509

from secretumvault.errors import InvalidType

__all__ = ["PARSE_ERRORS", "pem_or_der"]

PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


def pem_or_der(value: object, what: str) -> bytes:
    """The bytes of a PEM (str or bytes) or DER (bytes) argument; InvalidType for anything else."""
    if isinstance(value, str):
        value = value.encode("ascii", "replace")
    if not isinstance(value, (bytes, bytearray)):
        raise InvalidType(f"a {what} must be PEM text or DER bytes, not {type(value).__name__}")
    return bytes(value)
