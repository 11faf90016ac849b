"""Persistent, encrypted-at-rest, sealable storage for secrets and key material.

::

    from secretumvault.keystore import Keystore, open_storage

    ks = Keystore(open_storage(path="vault.db"))
    shares = ks.initialize_with_shares(shares=5, threshold=3)   # once; or initialize_with_passphrase()
    for share in shares[:3]:
        ks.unseal_share(share)                                # or ks.unseal(passphrase)
    ks.put("transit/keys/foo", b"...")
    ks.get("transit/keys/foo")
    ks.seal()

    # New unseal material (the root key is rewrapped, no record re-encrypted):
    pending = ks.prepare_rekey(shares[:3], shares=7, threshold=4)   # or passphrase="..."
    save_somewhere_safe(pending.shares)
    ks.complete_rekey(pending)

Every record is versioned by an encrypted index, so a record rolled back to an
older copy, put back after a delete, or deleted behind the keystore's back is
reported as CorruptRecord (``index.py`` says what stays undetectable).

Storage: :class:`SQLiteStorage` (embedded default) or :class:`PostgresStorage`
(psycopg 3; several processes or hosts on one store). Both implement
:class:`Storage`, which any other backend can implement too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretumvault.keystore.factory import open_storage
from secretumvault.keystore.rekey import PendingRekey
from secretumvault.keystore.seal import ScryptParams
from secretumvault.keystore.sqlite import SQLiteStorage
from secretumvault.keystore.storage import Storage, StoredValue, Write
from secretumvault.keystore.store import Change, Entry, Keystore, UnsealProgress

__all__ = [
    "Change",
    "Entry",
    "Keystore",
    "PendingRekey",
    "PostgresStorage",
    "SQLiteStorage",
    "ScryptParams",
    "Storage",
    "StoredValue",
    "UnsealProgress",
    "Write",
    "open_storage",
]

if TYPE_CHECKING:
    from secretumvault.keystore.postgres import PostgresStorage


def __getattr__(name: str) -> object:
    # PostgresStorage is loaded on first use: a SQLite store's commands need not pay for its module.
    if name == "PostgresStorage":
        from secretumvault.keystore.postgres import PostgresStorage

        return PostgresStorage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
