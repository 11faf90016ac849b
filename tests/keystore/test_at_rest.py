"""Encryption at rest: tampered, truncated, moved and swapped records; nothing secret in the file."""

from __future__ import annotations

import base64
import sqlite3
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretumvault.errors import CorruptRecord
from secretumvault.keystore import Keystore, SQLiteStorage, Storage, _aead, keyring, rekey
from secretumvault.keystore import store as keystore_module
from secretumvault.keystore.core import CORE_PATH, CoreRecord, Wrapped
from secretumvault.keystore.seal import PassphraseSeal

from .conftest import FAST_SCRYPT, PASSPHRASE

HEADER = struct.Struct(">BIQ")  # format 0x02, key term, write number (seq)
RECORD_SIZE_OVERHEAD = HEADER.size + 12 + 16  # header, nonce, tag


def _raw(storage: Storage, path: str) -> bytes:
    stored = storage.get("data/" + path)
    assert stored is not None
    return stored.value


@pytest.fixture
def three(keystore: Keystore) -> Keystore:
    for name in ("a", "b", "c"):
        keystore.put(name, f"value of {name}".encode())
    return keystore


def test_stored_value_is_not_the_plaintext(keystore: Keystore, storage: Storage) -> None:
    keystore.put("k", b"plaintext plaintext")
    raw = _raw(storage, "k")
    assert b"plaintext" not in raw
    assert len(raw) == len(b"plaintext plaintext") + RECORD_SIZE_OVERHEAD


def test_same_value_encrypts_differently_each_time(keystore: Keystore, storage: Storage) -> None:
    keystore.put("x", b"same")
    keystore.put("y", b"same")
    assert _raw(storage, "x")[HEADER.size :] != _raw(storage, "y")[HEADER.size :]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_flipped_bit_is_detected_and_isolated(
    three: Keystore, storage: Storage, data: st.DataObject
) -> None:
    original = _raw(storage, "b")
    position = data.draw(st.integers(0, len(original) - 1), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    tampered = bytearray(original)
    tampered[position] ^= 1 << bit
    storage.put("data/b", bytes(tampered))
    try:
        with pytest.raises(CorruptRecord) as info:
            three.get("b")
        assert "value of b" not in str(info.value)
        assert three.get("a") == b"value of a"
        assert three.get("c") == b"value of c"
    finally:
        storage.put("data/b", original)


@pytest.mark.parametrize("keep", [0, 1, 5, 17, RECORD_SIZE_OVERHEAD - 1, RECORD_SIZE_OVERHEAD + 3])
def test_truncated_record_is_corrupt(three: Keystore, storage: Storage, keep: int) -> None:
    storage.put("data/b", _raw(storage, "b")[:keep])
    with pytest.raises(CorruptRecord):
        three.get("b")
    assert three.get("a") == b"value of a"


def test_moved_record_is_detected(three: Keystore, storage: Storage) -> None:
    three.put("elsewhere", b"its own value")
    storage.put("data/elsewhere", _raw(storage, "a"))
    with pytest.raises(CorruptRecord, match="moved"):
        three.get("elsewhere")


def test_record_copied_to_a_new_path_is_detected(three: Keystore, storage: Storage) -> None:
    storage.put("data/new", _raw(storage, "a"))
    with pytest.raises(CorruptRecord, match="not in the keystore's index"):
        three.get("new")


def test_swapped_records_are_detected(three: Keystore, storage: Storage) -> None:
    a, c = _raw(storage, "a"), _raw(storage, "c")
    storage.put("data/a", c)
    storage.put("data/c", a)
    for path in ("a", "c"):
        with pytest.raises(CorruptRecord):
            three.get(path)
    assert three.get("b") == b"value of b"


def test_term_pointing_at_a_missing_key_is_corrupt(three: Keystore, storage: Storage) -> None:
    raw = _raw(storage, "a")
    _, _, seq = HEADER.unpack(raw[: HEADER.size])
    storage.put("data/a", HEADER.pack(2, 999, seq) + raw[HEADER.size :])
    with pytest.raises(CorruptRecord, match="key term 999"):
        three.get("a")


def test_term_pointing_at_another_existing_key_is_corrupt(three: Keystore, storage: Storage) -> None:
    three.rotate()
    raw = _raw(storage, "a")
    _, _, seq = HEADER.unpack(raw[: HEADER.size])
    storage.put("data/a", HEADER.pack(2, 2, seq) + raw[HEADER.size :])
    with pytest.raises(CorruptRecord):
        three.get("a")


def test_unknown_record_version_is_corrupt(three: Keystore, storage: Storage) -> None:
    storage.put("data/a", b"\x03" + _raw(storage, "a")[1:])
    with pytest.raises(CorruptRecord, match="format version 3"):
        three.get("a")


def test_corrupt_keyring_is_reported(keystore: Keystore, storage: Storage) -> None:
    stored = storage.get(CORE_PATH)
    assert stored is not None
    record = CoreRecord.decode(stored.value)
    flipped = bytes([record.keyring.ciphertext[0] ^ 1]) + record.keyring.ciphertext[1:]
    bad = record.replace(keyring=Wrapped(record.keyring.nonce, flipped))
    storage.put(CORE_PATH, bad.encode())
    with pytest.raises(CorruptRecord, match="keyring"):
        Keystore(storage).unseal(PASSPHRASE)


def _forms(secret: bytes) -> list[bytes]:
    """The ways a secret could appear in a file: raw, hex, base64."""
    return [
        secret,
        secret.hex().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
    ]


def _all_file_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())


@pytest.mark.parametrize("seal", ["passphrase", "shares"])
def test_no_key_or_plaintext_reaches_the_database_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seal: str
) -> None:
    generated: list[bytes] = []

    def recording_new_key() -> bytes:
        key = _aead.new_key()
        generated.append(key)
        return key

    # Every key the keystore makes: the unseal key (shares), root key, data keys.
    for module in (keyring, keystore_module, rekey):
        monkeypatch.setattr(module, "new_key", recording_new_key)

    directory = tmp_path / "store"
    directory.mkdir()
    storage = SQLiteStorage(directory / "vault.db")
    ks = Keystore(storage)
    plaintexts = [b"PLAINTEXT-MARKER-" + bytes([i]) * 24 for i in range(5)]
    passphrase = "passphrase-that-must-not-be-stored"
    if seal == "passphrase":
        ks.initialize_with_passphrase(passphrase, scrypt=FAST_SCRYPT)
        ks.unseal(passphrase)
        stored = storage.get(CORE_PATH)
        assert stored is not None
        core_seal = CoreRecord.decode(stored.value).seal
        assert isinstance(core_seal, PassphraseSeal)
        generated.append(core_seal.derive_kek(passphrase.encode()))
    else:
        shares = ks.initialize_with_shares(shares=3, threshold=2)
        for share in shares[:2]:
            ks.unseal_share(share)
    for i, value in enumerate(plaintexts):
        ks.put(f"secret/{i}", value)
    ks.rotate()
    for i, value in enumerate(plaintexts):
        ks.put(f"secret/rotated/{i}", value)
    assert len(generated) >= 4  # unseal key or KEK, root key, two data keys

    needles = [n for secret in generated + plaintexts for n in _forms(secret)]
    needles += [passphrase.encode(), b"PLAINTEXT-MARKER"]
    if seal == "shares":
        needles += [s.encode() for s in shares]
    # While open (the WAL holds recent writes) and after a checkpoint into the main file.
    for _ in ("open", "checkpointed"):
        haystack = _all_file_bytes(directory)
        assert b"secret/rotated/0" in haystack  # the grep does see the files' contents
        for needle in needles:
            assert needle not in haystack
        conn = sqlite3.connect(directory / "vault.db")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    storage.close()
