"""What pyca/cryptography raises for malformed X.509 input, and reading PEM-or-DER arguments.

pyca/cryptography parses some fields only when they are read, and reports a
malformed one with several exception types besides ValueError; callers catch
them all as :data:`PARSE_ERRORS` and raise InvalidArgument instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from cryptography import x509

from secretumvault.errors import InvalidType

__all__ = ["PARSE_ERRORS", "load_pem_or_der", "pem_or_der"]

T = TypeVar("T")

PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    # A name attribute pyca/cryptography will not build, e.g. a BIT STRING under an OID
    # other than x500UniqueIdentifier, raises TypeError when the name is read. InvalidType
    # is a TypeError too: callers re-raise it before catching these.
    TypeError,
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


def load_pem_or_der(
    value: object, what: str, from_pem: Callable[[bytes], T], from_der: Callable[[bytes], T]
) -> T:
    """``value`` parsed by ``from_pem`` if it is PEM armoured, else by ``from_der``.

    pyca/cryptography's own errors (:data:`PARSE_ERRORS`) pass through for the caller to translate.
    """
    data = pem_or_der(value, what)
    return from_pem(data) if data.lstrip().startswith(b"-----BEGIN") else from_der(data)
