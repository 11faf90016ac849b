"""Keys, versions, rotation and policy, persisted through the keystore."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from secretumvault import pqc
from secretumvault.errors import (
    ConflictError,
    CorruptRecord,
    InvalidArgument,
    InvalidType,
    KeyNotFound,
    PolicyViolation,
    SealedError,
    UnsupportedAlgorithm,
)
from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.transit import KEY_TYPES, Transit
from tests.conftest import untyped
from tests.keystore.conftest import PASSPHRASE
from tests.transit.conftest import Unchanged


@pytest.mark.parametrize("key_type", list(KEY_TYPES))
def test_create_and_read_every_type(transit: Transit, key_type: str) -> None:
    info = transit.create_key("k", key_type)
    assert info == transit.read_key("k")
    assert (info.type, info.latest_version, info.min_decryption_version, info.min_encryption_version) == (
        key_type,
        1,
        1,
        0,
    )
    assert not info.exportable and not info.deletion_allowed
    public = info.versions[1].public_key
    assert (public is not None) == KEY_TYPES[key_type].asymmetric


def test_create_refuses_existing_name_and_bad_input(transit: Transit, unchanged: Unchanged) -> None:
    transit.create_key("k")
    check = unchanged()
    with pytest.raises(ConflictError, match="already exists"):
        transit.create_key("k", "ed25519")
    with pytest.raises(UnsupportedAlgorithm, match="unknown transit key type"):
        transit.create_key("other", "rsa-1024")
    with pytest.raises(UnsupportedAlgorithm, match="'aes128-gcm96' is not supported here"):
        transit.create_key("other", "aes128-gcm96")  # a Vault type this engine does not have
    for bad_name in ["", "a/b", "../x", "-x", "x" * 129, "k\x00"]:
        with pytest.raises(InvalidArgument):
            transit.create_key(bad_name)
    with pytest.raises(InvalidType):
        transit.create_key(untyped(b"k"))
    with pytest.raises(InvalidType):
        transit.create_key("other", exportable=untyped(1))
    check()
    assert transit.list_keys() == ["k"]


def test_unknown_key(transit: Transit) -> None:
    for call in (
        lambda: transit.read_key("nope"),
        lambda: transit.rotate_key("nope"),
        lambda: transit.encrypt("nope", b"x"),
        lambda: transit.sign("nope", b"x"),
        lambda: transit.delete_key("nope"),
    ):
        with pytest.raises(KeyNotFound, match="transit key 'nope' does not exist"):
            call()


def test_rotation_keeps_old_versions_decrypting(transit: Transit) -> None:
    transit.create_key("k")
    old = transit.encrypt("k", b"v1 data")
    assert transit.rotate_key("k").latest_version == 2
    new = transit.encrypt("k", b"v2 data")
    assert old.startswith("vault:v1:") and new.startswith("vault:v2:")
    assert transit.decrypt("k", old) == b"v1 data"
    assert transit.decrypt("k", new) == b"v2 data"


def test_survives_restart(db_path: Path, keystore: Keystore, backend: str) -> None:
    first = Transit(keystore, backend=backend)
    for key_type in KEY_TYPES:
        first.create_key(key_type, key_type)
        first.rotate_key(key_type)
    first.update_key_config("aes256-gcm96", min_decryption_version=2)
    made = {
        "ml-kem-768": first.encrypt("ml-kem-768", b"secret", b"ad"),
        "hybrid-x25519-ml-kem-768": first.encrypt("hybrid-x25519-ml-kem-768", b"secret"),
        "ml-dsa-65": first.sign("ml-dsa-65", b"msg", b"ctx"),
        "hybrid-ed25519-ml-dsa-65": first.sign("hybrid-ed25519-ml-dsa-65", b"msg"),
        "hmac": first.hmac("hmac", b"msg"),
    }
    keystore.seal()
    reopened = Keystore(SQLiteStorage(db_path))
    reopened.unseal(PASSPHRASE)
    second = Transit(reopened, backend=backend)
    assert second.list_keys() == sorted(KEY_TYPES)
    assert second.read_key("aes256-gcm96").min_decryption_version == 2
    assert second.decrypt("ml-kem-768", made["ml-kem-768"], b"ad") == b"secret"
    assert second.decrypt("hybrid-x25519-ml-kem-768", made["hybrid-x25519-ml-kem-768"]) == b"secret"
    second.verify("ml-dsa-65", b"msg", made["ml-dsa-65"], b"ctx")
    second.verify("hybrid-ed25519-ml-dsa-65", b"msg", made["hybrid-ed25519-ml-dsa-65"])
    second.verify_hmac("hmac", b"msg", made["hmac"])


def test_keys_made_on_one_backend_work_on_the_other(keystore: Keystore) -> None:
    """ML-DSA seeds ("openssl") and expanded keys ("oqs") both load, whatever Transit's backend."""
    if "oqs" not in pqc.available_backends():
        pytest.skip("needs both backends; the native oqs backend is not built")
    makers = {b: Transit(keystore, backend=b) for b in ("oqs", "openssl")}
    for maker_name, maker in makers.items():
        for user in makers.values():
            name = f"{maker_name}-key"
            if name not in maker.list_keys():
                maker.create_key(name, "ml-dsa-65")
                maker.create_key(name + "-kem", "ml-kem-768")
            user.verify(name, b"m", maker.sign(name, b"m"))
            maker.verify(name, b"m", user.sign(name, b"m"))
            assert user.decrypt(name + "-kem", maker.encrypt(name + "-kem", b"p")) == b"p"


def test_config_rules(transit: Transit, unchanged: Unchanged) -> None:
    transit.create_key("k")
    transit.rotate_key("k")
    transit.rotate_key("k")
    check = unchanged()
    for kwargs in (
        {"min_decryption_version": 4},  # beyond latest
        {"min_decryption_version": 0},
        {"min_encryption_version": 4},
        {"min_decryption_version": 3, "min_encryption_version": 2},  # encryption below decryption
        {"exportable": "yes"},
        {"min_decryption_version": True},
    ):
        with pytest.raises((InvalidArgument, InvalidType)):
            transit.update_key_config("k", **kwargs)
    check()
    info = transit.update_key_config("k", min_decryption_version=2, min_encryption_version=3)
    assert (info.min_decryption_version, info.min_encryption_version) == (2, 3)
    assert transit.update_key_config("k", exportable=True).exportable
    check = unchanged()
    with pytest.raises(PolicyViolation, match="cannot be undone"):
        transit.update_key_config("k", exportable=False)
    check()


def test_trim(transit: Transit, unchanged: Unchanged) -> None:
    transit.create_key("k")
    v1 = transit.encrypt("k", b"one")
    transit.rotate_key("k")
    transit.rotate_key("k")
    check = unchanged()
    with pytest.raises(InvalidArgument, match="min_decryption_version"):
        transit.trim_key("k", 2)  # versions >= min_decryption_version (1) must stay
    check()
    transit.update_key_config("k", min_decryption_version=2)
    info = transit.trim_key("k", 2)
    assert (info.min_available_version, sorted(info.versions)) == (2, [2, 3])
    with pytest.raises(PolicyViolation, match="trimmed"):
        transit.decrypt("k", v1)
    with pytest.raises(PolicyViolation, match="already trimmed"):
        transit.trim_key("k", 1)
    with pytest.raises(PolicyViolation, match=r"min_encryption_version"):
        transit.encrypt("k", b"x", key_version=1)


def test_delete_needs_deletion_allowed(transit: Transit, unchanged: Unchanged) -> None:
    transit.create_key("k")
    check = unchanged()
    with pytest.raises(PolicyViolation, match="does not allow deletion"):
        transit.delete_key("k")
    check()
    transit.update_key_config("k", deletion_allowed=True)
    transit.delete_key("k")
    assert transit.list_keys() == []
    with pytest.raises(KeyNotFound):
        transit.read_key("k")


def test_concurrent_rotations_lose_nothing(keystore: Keystore, backend: str) -> None:
    Transit(keystore, backend=backend).create_key("k")
    rotations_each, threads = 5, 4

    def rotate() -> None:
        own = Transit(keystore, backend=backend)  # separate engines, as separate processes would be
        for _ in range(rotations_each):
            own.rotate_key("k")

    workers = [threading.Thread(target=rotate) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    info = Transit(keystore, backend=backend).read_key("k")
    assert info.latest_version == 1 + rotations_each * threads
    assert sorted(info.versions) == list(range(1, info.latest_version + 1))


def test_sealed_keystore_refuses_even_with_cache(keystore: Keystore, backend: str) -> None:
    transit = Transit(keystore, backend=backend, cache_ttl=3600)
    transit.create_key("k")
    ciphertext = transit.encrypt("k", b"x")
    keystore.seal()
    with pytest.raises(SealedError):
        transit.decrypt("k", ciphertext)
    with pytest.raises(SealedError):
        transit.encrypt("k", b"x")


def test_cache_ttl_zero_sees_other_engines_changes(keystore: Keystore, backend: str) -> None:
    a, b = Transit(keystore, backend=backend), Transit(keystore, backend=backend)
    a.create_key("k")
    assert b.encrypt("k", b"x").startswith("vault:v1:")
    a.rotate_key("k")
    assert b.encrypt("k", b"x").startswith("vault:v2:")


def test_cache_ttl_validation(keystore: Keystore) -> None:
    with pytest.raises(InvalidArgument):
        Transit(keystore, cache_ttl=-1)
    with pytest.raises(InvalidArgument):
        Transit(keystore, cache_ttl=float("nan"))
    with pytest.raises(InvalidType):
        Transit(keystore, cache_ttl=untyped("1"))
    with pytest.raises(InvalidType):
        Transit(untyped(object()))


def test_corrupt_record_is_reported(transit: Transit, keystore: Keystore) -> None:
    transit.create_key("k")
    keystore.put("transit/keys/k", b'{"format":"something else"}')
    with pytest.raises(CorruptRecord, match="not a valid transit key record"):
        transit.encrypt("k", b"x")


def test_record_for_another_name_is_refused(transit: Transit, keystore: Keystore) -> None:
    transit.create_key("a")
    transit.create_key("b")
    keystore.put("transit/keys/b", keystore.get("transit/keys/a"))
    with pytest.raises(CorruptRecord, match="names another key"):
        transit.read_key("b")


def test_stored_record_is_tagged_json_without_pickle(transit: Transit, keystore: Keystore) -> None:
    import json

    transit.create_key("k", "ml-kem-768")
    stored = json.loads(keystore.get("transit/keys/k"))
    assert (stored["format"], stored["version"], stored["type"]) == (
        "secretumvault.transit.key",
        1,
        "ml-kem-768",
    )
    assert stored["versions"]["1"]["material"]["encoding"] == "ml-kem-seed"
