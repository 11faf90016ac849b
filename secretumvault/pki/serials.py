"""Certificate serial numbers: random, and written the way Vault writes them."""

from __future__ import annotations

import secrets

from secretumvault.errors import InvalidArgument, InvalidType

__all__ = ["format_serial", "new_serial", "parse_serial", "record_name"]

# RFC 5280 4.1.2.2: positive, at most 20 octets; CA/B Forum asks for 64+ random bits.
_SERIAL_BITS = 159


def new_serial() -> int:
    """A random positive serial of up to 159 bits (never zero)."""
    return secrets.randbits(_SERIAL_BITS - 1) | (1 << (_SERIAL_BITS - 1))


def format_serial(serial: int) -> str:
    """``"4f:0a:..."``: lowercase hex byte pairs joined by colons, as Vault shows serials."""
    raw = serial.to_bytes((serial.bit_length() + 7) // 8, "big")
    return ":".join(f"{b:02x}" for b in raw)


def parse_serial(serial: object) -> int:
    """A serial given as an int, ``"4f:0a:..."`` or ``"4f0a..."``; InvalidArgument if malformed."""
    if isinstance(serial, bool) or not isinstance(serial, (int, str)):
        raise InvalidType(f"a serial number is an int or a hex string, not {type(serial).__name__}")
    if isinstance(serial, str):
        digits = serial.replace(":", "").lower()
        if not digits or len(digits) > 40 or any(c not in "0123456789abcdef" for c in digits):
            raise InvalidArgument("a serial number is up to 20 hex byte pairs, e.g. '4f:0a:...'")
        serial = int(digits, 16)
    if not 0 < serial < 2**160:
        raise InvalidArgument("a serial number is a positive integer of at most 20 octets")
    return serial


def record_name(serial: int) -> str:
    """The serial as stored: plain lowercase hex, no separators, no leading zeros."""
    return f"{serial:x}"
