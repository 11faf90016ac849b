"""The records that replaced dataclasses on the command line's path keep what the dataclasses gave.

Every subclass of ``Frozen`` is checked: its fields are its slots and its
``__init__`` parameters, in that order, each parameter lands in its own field,
fields cannot be set or deleted, ``==``/``hash``/``repr``/``replace``/pickle
behave as ``@dataclass(frozen=True)`` did, and ``repr`` never shows a secret field.
"""

from __future__ import annotations

import copy
import inspect
import pickle

import pytest

from secretumvault import config
from secretumvault._frozen import Frozen
from secretumvault.errors import InvalidArgument
from secretumvault.keystore import core, index, seal, shamir, storage, store
from secretumvault.keystore._records import CoreSnapshot
from secretumvault.pqc.params import KemParams, SigParams
from secretumvault.pqc.prehash import PreHash
from secretumvault.transit._material import Material
from secretumvault.transit._record import KeyRecord, KeyVersion
from secretumvault.transit.key_types import KEY_TYPES, KeyTypeSpec

# The dataclasses that became Frozen records (why: secretumvault/_frozen.py); later ones are checked too.
CONVERTED: set[type[Frozen]] = {
    KemParams,
    SigParams,
    PreHash,
    storage.StoredValue,
    storage.Write,
    CoreSnapshot,
    core.Wrapped,
    core.Unlocked,
    core.CoreRecord,
    index.RootIndex,
    index.Bucket,
    seal.ScryptParams,
    seal.PassphraseSeal,
    seal.ShamirSeal,
    shamir.Share,
    store.Entry,
    store.UnsealProgress,
    KeyTypeSpec,
    Material,
    KeyVersion,
    KeyRecord,
    config.StorageSettings,
    config.Settings,
}
# What each dataclass kept out of its repr with field(repr=False): the records must too.
SECRET_FIELDS: dict[type[Frozen], set[str]] = {
    storage.StoredValue: {"value"},
    storage.Write: {"value"},
    core.Wrapped: {"nonce", "ciphertext"},
    seal.PassphraseSeal: {"salt"},
    shamir.Share: {"half_a", "half_b"},
    store.Entry: {"value"},
    Material: {"secret"},
    config.StorageSettings: {"dsn"},
}
# These check their values in __init__, so they are built from real ones below.
CHECKING = {seal.ScryptParams, KeyRecord}

SECRET = b"\x8e\x01 never in a repr \x02\x9f"


def _subclasses(cls: type[Frozen]) -> list[type[Frozen]]:
    found: list[type[Frozen]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


RECORDS = sorted(set(_subclasses(Frozen)) | CONVERTED, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _ids(cls: type) -> str:
    return cls.__qualname__


def _distinct_instance(cls: type[Frozen]) -> tuple[Frozen, dict[str, object]]:
    """An instance whose fields all hold different values (secret fields: ``SECRET``), and those values."""
    if cls is seal.ScryptParams:
        values: dict[str, object] = {"n": 2**15, "r": 9, "p": 2}
    elif cls is KeyRecord:
        material = Material("raw-256", SECRET, None)
        values = {
            "name": "k",
            "spec": KEY_TYPES["aes256-gcm96"],
            "latest_version": 3,
            "min_available_version": 2,
            "min_decryption_version": 2,
            "min_encryption_version": 0,
            "deletion_allowed": False,
            "exportable": True,
            "allow_plaintext_backup": False,
            "versions": {2: KeyVersion("2025-01-01T00:00:00Z", material), 3: KeyVersion("x", material)},
        }
    else:
        secret = SECRET_FIELDS.get(cls, set()) | set(cls._secret_fields)
        values = {name: SECRET + name.encode() if name in secret else object() for name in cls._fields}
    return cls(**values), values


def test_every_converted_record_is_a_frozen_record() -> None:
    assert set(_subclasses(Frozen)) >= CONVERTED


@pytest.mark.parametrize("cls", RECORDS, ids=_ids)
def test_fields_are_the_slots_and_the_init_parameters_in_order(cls: type[Frozen]) -> None:
    assert cls.__slots__ == cls._fields
    assert len(set(cls._fields)) == len(cls._fields) > 0
    assert set(cls._secret_fields) <= set(cls._fields)
    assert set(cls._secret_fields) >= SECRET_FIELDS.get(cls, set())
    parameters = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in parameters] == list(cls._fields)
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)
    assert [base for base in cls.__mro__ if "__slots__" not in vars(base)] == [object]  # no __dict__


@pytest.mark.parametrize("cls", RECORDS, ids=_ids)
def test_each_argument_lands_in_its_own_field_by_keyword_or_position(cls: type[Frozen]) -> None:
    record, values = _distinct_instance(cls)
    by_position = cls(*values.values())
    for name, value in values.items():
        if cls in CHECKING:
            assert getattr(record, name) == value and getattr(by_position, name) == value, name
        else:
            assert getattr(record, name) is value and getattr(by_position, name) is value, name


@pytest.mark.parametrize("cls", RECORDS, ids=_ids)
def test_fields_cannot_be_set_or_deleted(cls: type[Frozen]) -> None:
    record, values = _distinct_instance(cls)
    for name in (*cls._fields, "not_a_field"):
        with pytest.raises(AttributeError, match="cannot assign"):
            setattr(record, name, 1)
        with pytest.raises(AttributeError, match="cannot delete"):
            delattr(record, name)
    assert all(getattr(record, name) == value for name, value in values.items())


@pytest.mark.parametrize("cls", RECORDS, ids=_ids)
def test_repr_never_shows_a_secret_field(cls: type[Frozen]) -> None:
    record, _ = _distinct_instance(cls)
    text = repr(record)
    assert text.startswith(f"{cls.__qualname__}(")
    for form in (SECRET.hex(), repr(SECRET)[2:-1]):
        assert form not in text


@pytest.mark.parametrize("cls", RECORDS, ids=_ids)
def test_equal_copies_and_replace(cls: type[Frozen]) -> None:
    record, values = _distinct_instance(cls)
    again = cls(**values)
    assert record == again and not record != again
    assert record != object() and record.__eq__(object()) is NotImplemented
    assert record.replace() == record and record.replace() is not record
    assert copy.copy(record) == record
    with pytest.raises(TypeError):
        record.replace(not_a_field=1)


def test_repr_is_the_dataclass_repr_without_secret_fields() -> None:
    assert repr(index.RootIndex(1, 1, (0, 1))) == "RootIndex(seq=1, core_seq=1, buckets=(0, 1))"
    assert repr(storage.Write("data/a", None, SECRET)) == "Write(path='data/a', expected_revision=None)"
    assert repr(shamir.Share(b"id", 2, 1, SECRET, SECRET)) == "Share(set_id=b'id', threshold=2, index=1)"
    assert repr(core.Wrapped(SECRET, SECRET)) == "Wrapped()"
    assert repr(config.StorageSettings(dsn="postgresql://u:pw@h/d")) == (
        "StorageSettings(backend='sqlite', path='secretumvault.db', dsn='<redacted>', "
        "max_connections=16, pool_timeout=5.0)"
    )


def test_equality_and_hash_compare_every_field_of_the_same_class_only() -> None:
    a, b = KemParams("X", 1, 2, 3), KemParams("X", 1, 2, 3)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != KemParams("X", 1, 2, 3, shared_secret_size=64)
    assert a != SigParams("X", 1, 2, 3)  # same values, another class
    with pytest.raises(TypeError):  # a mapping field is unhashable, as it was in the dataclass
        hash(config.Settings())


def test_defaults_are_those_of_the_dataclasses() -> None:
    assert KemParams("X", 1, 2, 3) == KemParams("X", 1, 2, 3, 32, 64, 32)
    assert SigParams("X", 1, 2, 3) == SigParams("X", 1, 2, 3, 32, 255)
    assert seal.ScryptParams() == seal.ScryptParams(2**17, 8, 1)
    assert storage.Write("p", None).value is None
    assert dict(index.Bucket(1, 2).entries) == {}
    settings = config.Settings()
    assert (settings.crypto_backend, settings.enable_pqc, settings.hybrid_mode) == ("auto", True, True)
    assert settings.storage == config.StorageSettings("sqlite", "secretumvault.db", None)
    assert settings.server == {} and settings == config.Settings(server={})


def test_replace_checks_again_as_init_does() -> None:
    params = seal.ScryptParams()
    assert params.replace(n=2**15) == seal.ScryptParams(2**15)
    with pytest.raises(InvalidArgument, match="power of two"):
        params.replace(n=3)
    record, _ = _distinct_instance(KeyRecord)
    assert isinstance(record, KeyRecord)
    with pytest.raises(InvalidArgument, match="min_decryption_version"):
        record.replace(min_decryption_version=9)
    assert record.min_decryption_version == 2  # the original is untouched


def test_records_pickle_through_init() -> None:
    for record in (KemParams("X", 1, 2, 3), seal.ScryptParams(2**15), config.StorageSettings()):
        assert pickle.loads(pickle.dumps(record)) == record
