"""Recognising files of another known format, so a mistake is named for what it is.

A transit ``vault:v1:`` string given to ``decapsulate`` should be reported as
a transit ciphertext, not as "unknown format version 0x76". Every check here
is strong (a multi-byte magic, or a whole document that parses), so a real
key, ciphertext or signature is never mistaken for something else.
"""

from __future__ import annotations

import re

__all__ = ["looks_like"]

_VAULT = re.compile(rb"\s*vault:v[0-9]+:")
_PEM = re.compile(rb"\s*-----BEGIN ([A-Z0-9 ]{1,40})-----")
_SHARE = re.compile(rb"\s*svs[0-9]+-")
_SQLITE = b"SQLite format 3\x00"


def looks_like(data: bytes, *, key_file: bool = True) -> str | None:
    """What ``data`` appears to be, as "a ..." phrase, or None when it matches no known format.

    ``key_file=False`` also names SecretumVault key files (for inputs that are not keys).
    """
    if _VAULT.match(data):
        return "a transit vault:v<N>: string"
    pem = _PEM.match(data)
    if pem:
        return f"a PEM file ({pem.group(1).decode('ascii')})"
    if _SHARE.match(data):
        return "unseal shares"
    if data.startswith(_SQLITE):
        return "an SQLite database (a SecretumVault store?)"
    if _is_json(data):
        return "a JSON document"
    if not key_file and _is_key_file(data):
        return "a SecretumVault key file"
    return None


def _is_json(data: bytes) -> bool:
    stripped = data.strip()
    if not stripped.startswith((b"{", b"[")):
        return False
    import json

    try:
        json.loads(stripped)
    except (ValueError, RecursionError):
        return False
    return True


def _is_key_file(data: bytes) -> bool:
    from secretumvault.encoding import keyfile
    from secretumvault.errors import InvalidKey

    try:
        _, algorithm = keyfile.peek(data)
    except InvalidKey:
        return False
    return algorithm in keyfile.ALGORITHMS
