"""Transit deletes with compare-and-delete: a policy change made meanwhile is not lost (issue 13, item 13)."""

from __future__ import annotations

import pytest

from secretumvault.errors import ConflictError, PolicyViolation
from secretumvault.keystore import Keystore
from secretumvault.transit import Transit
from secretumvault.transit._record import KeyRecord
from secretumvault.transit.engine import _require_deletion_allowed


def test_deletion_forbidden_during_a_delete_keeps_the_key(keystore: Keystore) -> None:
    transit, other = Transit(keystore), Transit(keystore)  # other: another process on the store
    transit.create_key("k")
    transit.update_key_config("k", deletion_allowed=True)

    def check_then_race(record: KeyRecord) -> None:
        _require_deletion_allowed(record)  # passes: deletion is allowed when checked ...
        other.update_key_config("k", deletion_allowed=False)  # ... and forbidden right after

    with pytest.raises(ConflictError):
        transit._store.delete("k", check_then_race)
    assert transit.read_key("k").deletion_allowed is False
    with pytest.raises(PolicyViolation):
        transit.delete_key("k")
