"""export_key, backup_key and restore_key."""

from __future__ import annotations

import base64
import json

import pytest

from secretumvault.errors import (
    ConflictError,
    CorruptRecord,
    InvalidArgument,
    InvalidType,
    KeyNotFound,
    PolicyViolation,
    UnsupportedAlgorithm,
)
from secretumvault.keystore import Keystore
from secretumvault.transit import KEY_TYPES, Transit
from tests.conftest import untyped
from tests.transit.conftest import Unchanged


def test_export_needs_exportable(transit: Transit, unchanged: Unchanged) -> None:
    transit.create_key("k")
    check = unchanged()
    with pytest.raises(PolicyViolation, match="not exportable"):
        transit.export_key("k", "encryption-key")
    with pytest.raises(UnsupportedAlgorithm):
        transit.export_key("k", "public-key")
    with pytest.raises(UnsupportedAlgorithm):
        transit.export_key("k", "signing-key")
    with pytest.raises(InvalidArgument, match="unknown export kind"):
        transit.export_key("k", "private-key")
    check()
    transit.update_key_config("k", exportable=True)
    transit.rotate_key("k")
    exported = transit.export_key("k", "encryption-key")
    assert sorted(exported) == [1, 2] and all(len(e.key) == 32 for e in exported.values())
    assert exported[1].key != exported[2].key
    assert exported[1].key.hex() not in repr(exported)
    assert list(transit.export_key("k", "encryption-key", 2)) == [2]
    with pytest.raises(KeyNotFound):
        transit.export_key("k", "encryption-key", 3)


def test_public_keys_need_no_exportable(transit: Transit) -> None:
    transit.create_key("s", "ml-dsa-65")
    public = transit.export_key("s", "public-key")[1]
    assert public.key == transit.read_key("s").versions[1].public_key
    with pytest.raises(PolicyViolation, match="not exportable"):
        transit.export_key("s", "signing-key")


def test_backup_restore_round_trip_every_type(transit: Transit, unchanged: Unchanged) -> None:
    for key_type in KEY_TYPES:
        transit.create_key(key_type, key_type, exportable=True, allow_plaintext_backup=True)
        transit.rotate_key(key_type)
    ciphertext = transit.encrypt("ml-kem-768", b"kept", b"ad")
    signature = transit.sign("hybrid-ed25519-ml-dsa-65", b"kept")
    backups = {key_type: transit.backup_key(key_type) for key_type in KEY_TYPES}
    check = unchanged()
    with pytest.raises(ConflictError, match="already exists"):
        transit.restore_key(backups["ml-kem-768"])
    check()
    for key_type in KEY_TYPES:
        transit.update_key_config(key_type, deletion_allowed=True)
        transit.delete_key(key_type)
    for key_type, backup in backups.items():
        info = transit.restore_key(backup)
        assert (info.name, info.type, info.latest_version) == (key_type, key_type, 2)
    assert transit.decrypt("ml-kem-768", ciphertext, b"ad") == b"kept"
    transit.verify("hybrid-ed25519-ml-dsa-65", b"kept", signature)
    assert transit.restore_key(backups["hmac"], force=True).name == "hmac"


def test_backup_needs_both_flags(transit: Transit) -> None:
    transit.create_key("k", exportable=True)
    with pytest.raises(PolicyViolation, match="allow_plaintext_backup"):
        transit.backup_key("k")
    transit.create_key("j", allow_plaintext_backup=True)
    with pytest.raises(PolicyViolation, match="exportable"):
        transit.backup_key("j")


def _reencode(document: dict[str, object]) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def test_restore_refuses_damaged_backups(transit: Transit, unchanged: Unchanged) -> None:
    transit.create_key("k", "ed25519", exportable=True, allow_plaintext_backup=True)
    backup = transit.backup_key("k")
    transit.update_key_config("k", deletion_allowed=True)
    transit.delete_key("k")
    document = json.loads(base64.b64decode(backup))
    other_public = dict(document)
    other_key = json.loads(json.dumps(document["key"]))
    other_key["versions"]["1"]["material"]["public_key"] = base64.b64encode(bytes(32 * [9])).decode()
    other_public["key"] = other_key
    wrong_version = {**document, "version": 2}
    check = unchanged()
    for damaged in ("", "!!!", backup[:-8], _reencode(wrong_version), _reencode(other_public)):
        with pytest.raises(InvalidArgument):
            transit.restore_key(damaged)
    with pytest.raises(InvalidType):
        transit.restore_key(untyped(backup.encode()))
    check()
    assert transit.list_keys() == []


def test_restore_refuses_a_5000_digit_integer(transit: Transit, unchanged: Unchanged) -> None:
    """Issue 13 item 7: Python's int-digit limit raised a bare ValueError out of restore_key."""
    transit.create_key("k", exportable=True, allow_plaintext_backup=True)
    text = base64.b64decode(transit.backup_key("k")).decode()
    huge = text.replace('"latest_version":1', '"latest_version":1' + "0" * 5000)
    assert huge != text
    check = unchanged()
    with pytest.raises(InvalidArgument, match="out of range"):
        transit.restore_key(base64.b64encode(huge.encode()).decode(), force=True)
    check()


def test_stored_record_with_a_5000_digit_integer_is_corrupt(transit: Transit, keystore: Keystore) -> None:
    transit.create_key("k")
    text = keystore.get("transit/keys/k").decode()
    keystore.put(
        "transit/keys/k", text.replace('"latest_version":1', '"latest_version":1' + "0" * 5000).encode()
    )
    with pytest.raises(CorruptRecord, match="out of range"):
        transit.encrypt("k", b"x")
