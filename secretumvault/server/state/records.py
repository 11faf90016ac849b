"""The server's own records in the keystore: tagged JSON, as the engines keep theirs.

Layout (all under the keystore's encrypted barrier)::

    sys/token/id/<sha256 of the token>        a token (the token itself is never stored)
    sys/token/parent/<parent hash>/<hash>     the token tree, so revoking revokes children
    sys/policy/<name>                         an ACL policy
    sys/mounts                                the mount table (one record: one compare-and-set)
    sys/audit                                 the audit devices and their HMAC salt
    sys/auth                                  the auth method table (AppRole, userpass)
    sys/auth-method/<uuid>/...                each auth method's roles, users, secret IDs
    <mount storage name>/...                  each mount's engine (transit, pki or kv)
"""

from __future__ import annotations

from typing import Any

from secretumvault.encoding import tagged_json as tagged
from secretumvault.errors import CorruptRecord

__all__ = ["dump", "load"]

_VERSION = 1


def dump(fmt: str, fields: dict[str, Any]) -> bytes:
    return tagged.dumps({"format": f"secretumvault.server.{fmt}", "version": _VERSION, **fields})


def load(data: bytes, fmt: str, where: str) -> dict[str, Any]:
    """The record's fields; CorruptRecord naming ``where`` if it is not a ``fmt`` record."""
    try:
        return tagged.loads(data, f"secretumvault.server.{fmt}", _VERSION)
    except tagged.FormatError as exc:
        raise CorruptRecord(f"the server record {where!r} is corrupt: {exc}") from None
