"""A process that migrates a store between seals and kills itself (SIGKILL) at a chosen step (a script).

Environment (no secret on a command line):
    SV_TEST_STORAGE   JSON keyword arguments of open_storage()
    SV_TEST_SEALS     JSON {"old": SEAL, "new": SEAL}; SEAL is null (Shamir) or a [seal] table
    SV_TEST_MATERIAL  the store's unseal shares (or its recovery shares), one per line

    _migrate_worker.py once STEP     migrate once; SIGKILL at STEP:
        unwrapped-old  the old auto seal unwrapped the KEK (nothing else done)
        wrapped-new    the new auto seal wrapped the new KEK, store not yet written
        prepared       the root key wrapped for the new seal, store not yet written
        first-write    inside the atomic write, after its first row
        all-writes     inside the atomic write, after its last row, before COMMIT
        committed      right after the switch
        none           no kill
    _migrate_worker.py loop          migrate OLD->NEW->OLD->... for ever, a line after each switch
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from secretumvault.keystore import Keystore, migration
from secretumvault.keystore.seal import KeyWrapper
from secretumvault.keystore.seals import seal_from_table
from tests.keystore._rekey_worker import _die, open_killing_storage

STEPS = ("unwrapped-old", "wrapped-new", "prepared", "first-write", "all-writes", "committed", "none")


class Killing:
    """A real seal that dies right after it has unwrapped (or wrapped), when told to."""

    def __init__(self, wrapper: KeyWrapper, on: str, step: str) -> None:
        self._wrapper, self._on, self._step = wrapper, on, step

    @property
    def seal_type(self) -> str:
        return self._wrapper.seal_type

    @property
    def key_id(self) -> str:
        return self._wrapper.key_id

    def wrap(self, plaintext: bytes, associated_data: bytes) -> bytes:
        blob = self._wrapper.wrap(plaintext, associated_data)
        if self._step == "wrapped-new" and self._on == "new":
            _die()
        return blob

    def unwrap(self, blob: bytes, associated_data: bytes) -> bytes:
        kek = self._wrapper.unwrap(blob, associated_data)
        if self._step == "unwrapped-old" and self._on == "old":
            _die()
        return kek


def _seal(table: dict[str, Any] | None, on: str, step: str) -> KeyWrapper | None:
    wrapper = None if table is None else seal_from_table(table, "<test>")
    return None if wrapper is None else Killing(wrapper, on, step)


def migrate(
    ks: Keystore, old: KeyWrapper | None, new: KeyWrapper | None, material: list[str], step: str
) -> None:
    pending_migration = migration.plan(ks.seal_configuration, new, old)
    if pending_migration is None:
        raise SystemExit("nothing to migrate")
    pending = migration.prepare(ks, pending_migration, material)
    if step == "prepared":
        _die()
    ks.complete_rekey(pending)
    if step == "committed":
        _die()


if __name__ == "__main__":
    seals = json.loads(os.environ["SV_TEST_SEALS"])
    material = os.environ["SV_TEST_MATERIAL"].split()
    if sys.argv[1] == "once":
        step = sys.argv[2]
        ks = Keystore(open_killing_storage(step))
        migrate(ks, _seal(seals["old"], "old", step), _seal(seals["new"], "new", step), material, step)
    else:
        ks = Keystore(open_killing_storage("none"))
        ends = [_seal(seals["old"], "old", "none"), _seal(seals["new"], "new", "none")]
        while True:
            migrate(ks, ends[0], ends[1], material, "none")
            ends.reverse()
            print("switched", flush=True)
