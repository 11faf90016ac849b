"""The keyring: the data keys that encrypt records, one per key term.

As in Vault, rotation adds a new term and makes it the one used for writing;
older terms stay in the keyring so records written under them stay readable.
The keyring itself is stored encrypted under the root key (see ``core.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from secretumvault.encoding import tagged_json as _json
from secretumvault.keystore._aead import ALGORITHM, KEY_SIZE, Aead, new_key

__all__ = ["Keyring"]

_FORMAT = "secretumvault.keystore.keyring"
_VERSION = 1
MAX_TERM = 2**32 - 1  # the record header holds the term as u32


class Keyring:
    """An immutable set of data keys by term; ``active_term`` is the one for new writes."""

    __slots__ = ("_ciphers", "_keys", "active_term")

    def __init__(self, keys: Mapping[int, bytes], active_term: int) -> None:
        if active_term not in keys:
            raise ValueError("the active term must be in the keyring")
        self._keys = MappingProxyType(dict(keys))
        self._ciphers = {term: Aead(key) for term, key in keys.items()}
        self.active_term = active_term

    def __repr__(self) -> str:
        return f"Keyring(terms={sorted(self._keys)}, active_term={self.active_term})"

    @classmethod
    def new(cls) -> Keyring:
        return cls({1: new_key()}, active_term=1)

    @property
    def terms(self) -> list[int]:
        return sorted(self._keys)

    def cipher(self, term: int) -> Aead | None:
        return self._ciphers.get(term)

    def rotated(self) -> Keyring:
        """A keyring with one more term, fresh random key, which becomes active."""
        term = max(self._keys) + 1
        if term > MAX_TERM:
            raise ValueError("key term space exhausted")
        return Keyring({**self._keys, term: new_key()}, active_term=term)

    def to_json(self) -> bytes:
        return _json.dumps(
            {
                "format": _FORMAT,
                "version": _VERSION,
                "active_term": self.active_term,
                "keys": [
                    {"term": term, "algorithm": ALGORITHM, "key": _json.b64encode(key)}
                    for term, key in sorted(self._keys.items())
                ],
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> Keyring:
        """Parse :meth:`to_json` output; raises ``_json.FormatError`` if malformed."""
        obj = _json.loads(data, _FORMAT, _VERSION)
        keys: dict[int, bytes] = {}
        for entry in _json.require(obj, "keys", list):
            if not isinstance(entry, dict):
                raise _json.FormatError("keyring entry is not an object")
            keys[_parse_term(entry)] = _parse_key(entry)
        active = _json.require(obj, "active_term", int)
        if active not in keys:
            raise _json.FormatError("active term has no key")
        return cls(keys, active_term=active)


def _parse_term(entry: dict[str, Any]) -> int:
    term: int = _json.require(entry, "term", int)
    if not 1 <= term <= MAX_TERM:
        raise _json.FormatError("key term out of range")
    return term


def _parse_key(entry: dict[str, Any]) -> bytes:
    if entry.get("algorithm") != ALGORITHM:
        raise _json.FormatError(f"keyring algorithm is not {ALGORITHM}")
    key = _json.b64decode(_json.require(entry, "key", str))
    if len(key) != KEY_SIZE:
        raise _json.FormatError("keyring key has the wrong length")
    return key
