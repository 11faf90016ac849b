"""Checks on the paths and values callers hand the keystore."""

from __future__ import annotations

from secretumvault.errors import InvalidArgument, InvalidType

__all__ = ["MAX_PATH_LENGTH", "check_path", "check_prefix", "check_version"]

MAX_PATH_LENGTH = 1024


def check_prefix(prefix: object) -> str:
    """A listing prefix: any path text, including the empty string (everything)."""
    if not isinstance(prefix, str):
        raise InvalidType(f"a keystore path must be str, not {type(prefix).__name__}")
    if len(prefix) > MAX_PATH_LENGTH:
        raise InvalidArgument(f"a keystore path is at most {MAX_PATH_LENGTH} characters")
    if "\x00" in prefix:
        raise InvalidArgument("a keystore path must not contain NUL characters")
    try:
        prefix.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument("a keystore path must be valid Unicode (no lone surrogates)") from None
    return prefix


def check_path(path: object) -> str:
    """A record path: non-empty text, no NUL, encodable as UTF-8."""
    checked = check_prefix(path)
    if not checked:
        raise InvalidArgument("a keystore path must not be empty")
    return checked


def check_version(version: object) -> int | None:
    """A compare-and-set expectation: None (must not exist) or a positive int."""
    if version is None:
        return None
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidType(f"expected_version must be int or None, not {type(version).__name__}")
    if version < 1:
        raise InvalidArgument("expected_version must be a version returned by put/cas/get_entry (>= 1)")
    return version
