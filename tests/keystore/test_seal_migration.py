"""Migration between seals keeps every record (issue 25): Shamir -> transit (a real dev server's
ml-kem-768 key) -> Shamir, with the same shares throughout (recovery shares while auto-sealed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretumvault.errors import InvalidArgument, UnsealError
from secretumvault.keystore import Keystore, open_storage
from secretumvault.keystore.core import CORE_PATH

pytest.importorskip("uvicorn", reason="the transit seal's server needs the server extra")
from secretumvault.keystore.seals.transit import TransitSeal
from tests.server.conftest import start_dev_server

RECORDS = {f"app/{i}": f"value {i}".encode() for i in range(20)}


def test_shamir_to_transit_to_shamir_keeps_every_record(tmp_path: Path) -> None:
    kms = start_dev_server(tmp_path)
    try:
        assert kms.request("POST", "transit/keys/seal", json={"type": "ml-kem-768"}).status_code == 200
        transit = TransitSeal(kms.url, kms.root_token, "seal")
        assert kms.root_token not in repr(transit)
        storage = open_storage(path=str(tmp_path / "store.db"))
        ks = Keystore(storage)
        shares = ks.initialize_with_shares(shares=3, threshold=2)
        for share in shares[:2]:
            ks.unseal_share(share)
        for path, value in RECORDS.items():
            ks.put(path, value)

        # A wrong share changes nothing.
        before = storage.get(CORE_PATH)
        with pytest.raises(UnsealError):
            ks.prepare_seal_migration(current=[shares[0], shares[0]], new_wrapper=transit)
        assert storage.get(CORE_PATH) == before

        ks.complete_rekey(ks.prepare_seal_migration(current=shares[1:], new_wrapper=transit))
        fresh = Keystore(open_storage(path=str(tmp_path / "store.db")))
        with pytest.raises(UnsealError):  # the shares are recovery shares now: they do not unseal
            fresh.unseal_share(shares[0])
        fresh.unseal_auto(transit)
        assert {path: fresh.get(path) for path in RECORDS} == RECORDS
        fresh.verify_recovery(shares[:2])

        before = storage.get(CORE_PATH)
        with pytest.raises(UnsealError):  # moving off needs the recovery shares
            fresh.prepare_seal_migration(old_wrapper=transit, recovery=shares[:1])
        assert storage.get(CORE_PATH) == before
        fresh.complete_rekey(fresh.prepare_seal_migration(old_wrapper=transit, recovery=shares[::2]))
        back = Keystore(open_storage(path=str(tmp_path / "store.db")))
        with pytest.raises(UnsealError):
            back.unseal_auto(transit)
        for share in shares[1:]:
            back.unseal_share(share)
        assert {path: back.get(path) for path in RECORDS} == RECORDS
    finally:
        kms.stop()


def test_recovery_rekey_needs_an_auto_sealed_store_and_sound_counts(tmp_path: Path) -> None:
    kms = start_dev_server(tmp_path)
    try:
        assert kms.request("POST", "transit/keys/rk", json={"type": "ml-kem-768"}).status_code == 200
        transit = TransitSeal(kms.url, kms.root_token, "rk")
        storage = open_storage(path=str(tmp_path / "store.db"))
        ks = Keystore(storage)
        shares = ks.initialize_with_shares(shares=3, threshold=2)
        with pytest.raises(UnsealError, match="not auto-sealed"):
            ks.prepare_recovery_rekey(transit, shares, shares=3, threshold=2)
        ks.complete_rekey(ks.prepare_seal_migration(current=shares[:2], new_wrapper=transit))
        before = storage.get(CORE_PATH)
        with pytest.raises(InvalidArgument):  # threshold above the shares: refused before any I/O
            ks.prepare_recovery_rekey(transit, shares[:2], shares=2, threshold=3)
        with pytest.raises(UnsealError):  # too few recovery shares
            ks.prepare_recovery_rekey(transit, shares[:1], shares=2, threshold=2)
        assert storage.get(CORE_PATH) == before
        pending = ks.prepare_recovery_rekey(transit, shares[1:], shares=2, threshold=2)
        ks.complete_rekey(pending)
        with pytest.raises(UnsealError):  # the old recovery shares are void
            ks.verify_recovery(shares[:2])
        ks.verify_recovery(list(pending.shares))
        fresh = Keystore(open_storage(path=str(tmp_path / "store.db")))
        fresh.unseal_auto(transit)  # the seal itself is unchanged
    finally:
        kms.stop()
