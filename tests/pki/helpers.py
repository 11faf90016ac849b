"""Small helpers shared by the PKI tests."""

from __future__ import annotations

from secretumvault.keystore import Storage


def snapshot(storage: Storage) -> dict[str, tuple[bytes, int]]:
    """Every raw record, to show that a refused call changed nothing."""
    result = {}
    for path in storage.list(""):
        stored = storage.get(path)
        assert stored is not None
        result[path] = (stored.value, stored.revision)
    return result
