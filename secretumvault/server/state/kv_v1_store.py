"""Key/value secrets, version 1 (Vault's kv v1, also mounted as ``generic``), and the upgrade to v2.

One record per secret, ``<storage>/kv1/<path>``: the data as written, no
versions. A ``ttl`` (or ``lease``) key in the data is kept as a plain key;
reads report it as the answer's ``lease_duration``, as Vault does (advisory,
no lease is made).

The upgrade to version 2 (``sys/mounts/<path>/tune`` with ``options.version=2``)
runs in three steps, so a failure at any point leaves a usable mount:

1. copy: every v1 secret becomes a v2 secret with version 1, beside the v1
   records (anything a failed earlier attempt left under the v2 names is
   removed first). The mount is still v1 and serves the v1 records; a
   failure here changes nothing visible, and the tune can be sent again.
2. the mount table says version 2 (one compare-and-set, in ``mounts.py``):
   from then on every process serves the v2 records.
3. finish: each v1 record is removed if it is the one copied; one written
   while the copy ran (by a request that reached the v1 engine before the
   switch) becomes a new v2 version, one deleted then deletes its v2 copy.
   A failure here leaves v1 records that v2 never reads; disabling the mount
   deletes them with the rest.
"""

from __future__ import annotations

from typing import Any

from secretumvault.errors import ConflictError, KeyNotFound
from secretumvault.keystore import Keystore
from secretumvault.server.errors import HttpError, bad_request, not_found
from secretumvault.server.params import parse_duration
from secretumvault.server.state import records
from secretumvault.server.state.kv_store import KvStore, check_secret_path, list_names

__all__ = ["KvV1Store", "copy_to_v2", "finish_upgrade"]

_FORMAT = "kv1-secret"


def _prefix(storage: str) -> str:
    return f"{storage}/kv1/"


class KvV1Store:
    def __init__(self, keystore: Keystore, storage: str) -> None:
        self._keystore = keystore
        self._prefix = _prefix(storage)

    def read(self, path: str) -> dict[str, Any]:
        where = self._prefix + check_secret_path(path)
        try:
            raw = self._keystore.get(where)
        except KeyNotFound:
            raise not_found() from None
        data: dict[str, Any] = records.load(raw, _FORMAT, where)["data"]
        return data

    def exists(self, path: str) -> bool:
        return self._keystore.record_version(self._prefix + check_secret_path(path)) is not None

    def write(self, path: str, data: dict[str, Any]) -> None:
        checked = check_secret_path(path)
        if not data:
            raise bad_request("missing data fields")
        self._keystore.put(self._prefix + checked, records.dump(_FORMAT, {"data": data}))

    def delete(self, path: str) -> None:
        """Vault: deleting what is not there is no error."""
        try:
            self._keystore.delete(self._prefix + check_secret_path(path))
        except KeyNotFound:
            pass

    def list(self, directory: str) -> list[str]:
        """The names directly under ``directory``; sub-directories end with '/'."""
        return list_names(self._keystore, self._prefix + check_secret_path(directory, directory=True))


def lease_seconds(data: dict[str, Any], default: int) -> int:
    """The ``lease_duration`` of a read: the data's ``ttl`` (or ``lease``) if it is a duration,
    otherwise ``default`` (the mount's default lease TTL), as Vault's kv v1 reports it."""
    value = data.get("ttl", data.get("lease"))
    if value is None:
        return default
    try:
        return parse_duration(value, "ttl")
    except HttpError:  # Vault ignores a ttl it cannot parse: it is only a key of the secret
        return default


#: What the copy step saw: v1 record path -> (v1 record version, v2 record version written).
Copied = dict[str, tuple[int, int]]


def copy_to_v2(keystore: Keystore, storage: str) -> Copied:
    """Step 1 of the upgrade: each v1 secret as a v2 secret with version 1. Changes nothing
    a v1 mount serves; may be repeated (what an earlier attempt left is replaced)."""
    v2 = KvStore(keystore, storage)
    for record in v2.record_paths():  # a v1 mount has no v2 records but a failed attempt's
        try:
            keystore.delete(record)
        except KeyNotFound:
            continue
    prefix = _prefix(storage)
    copied: Copied = {}
    for record in keystore.list(prefix):
        try:
            entry = keystore.get_entry(record)
        except KeyNotFound:
            continue  # deleted meanwhile
        data = records.load(entry.value, _FORMAT, record)["data"]
        copied[record] = (entry.version, v2.put_first_version(record[len(prefix) :], data))
    return copied


def finish_upgrade(keystore: Keystore, storage: str, copied: Copied) -> None:
    """Step 3, once the mount serves v2: remove the v1 records, carrying over any change
    made to them while step 1 ran."""
    v2 = KvStore(keystore, storage)
    prefix = _prefix(storage)
    present = keystore.list(prefix)
    for record in present:
        try:
            entry = keystore.get_entry(record)
        except KeyNotFound:
            continue
        seen = copied.get(record)
        if seen is None or seen[0] != entry.version:  # written after it was copied
            v2.write(record[len(prefix) :], records.load(entry.value, _FORMAT, record)["data"], None)
        try:
            keystore.delete(record, expected_version=entry.version)
        except (KeyNotFound, ConflictError):
            continue  # a late v1 write: v2 never reads it; disabling the mount removes it
    for record in copied.keys() - set(present):
        # Deleted from v1 while the copy ran: delete the copy too, unless v2 changed it since.
        v2.remove_if_unchanged(record[len(prefix) :], copied[record][1])
