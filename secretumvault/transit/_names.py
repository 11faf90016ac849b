"""Transit key names and where their records live in the keystore."""

from __future__ import annotations

import re

from secretumvault.errors import InvalidArgument, InvalidType

__all__ = ["DEFAULT_MOUNT", "check_key_name", "check_mount", "key_prefix"]

#: Where keys live unless a Transit is given another mount: ``transit/keys/<name>``.
DEFAULT_MOUNT = "transit"

# Letters, digits, '.', '_' and '-', starting with a letter or digit: no '/',
# so one key's path is never a prefix of another's, and no '..' tricks.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_mount(mount: object) -> str:
    """A mount is a name of the same form as a key name: no '/', so mounts never nest."""
    if not isinstance(mount, str):
        raise InvalidType(f"a transit mount must be str, not {type(mount).__name__}")
    if _NAME.fullmatch(mount) is None:
        raise InvalidArgument(
            "a transit mount is 1 to 128 characters from A-Z, a-z, 0-9, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    return mount


def check_key_name(name: object) -> str:
    """Return ``name`` if it is a valid transit key name, else raise."""
    if not isinstance(name, str):
        raise InvalidType(f"a transit key name must be str, not {type(name).__name__}")
    if _NAME.fullmatch(name) is None:
        raise InvalidArgument(
            "a transit key name is 1 to 128 characters from A-Z, a-z, 0-9, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    return name


def key_prefix(mount: str) -> str:
    """The keystore prefix under which the keys of ``mount`` live."""
    return f"{mount}/keys/"
