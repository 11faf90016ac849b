"""Stored PKI records that no engine wrote: CorruptRecord naming the record, nothing changed, still usable.

Issue 22 (library part): a record holding an integer over Python's 4,300-digit
int-string limit made crl(), crl_rotate() and get_role() raise a bare
ValueError, and a time past what datetime holds raised ValueError or
OverflowError from the record readers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from secretumvault.errors import CorruptRecord
from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.pki import PkiEngine, Role

from .helpers import snapshot

HUGE = "9" * 5000  # over sys.get_int_max_str_digits() (4300 by default)


@pytest.fixture
def ready(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root", key_type="ECDSA-P256")
    engine.put_role("web", Role(issuer="root", allow_any_name=True, key_type="ECDSA-P256"))
    engine.set_crl_config()
    engine.crl("root")
    return engine


def _with_field(raw: bytes, field: str, literal: str) -> bytes:
    """``raw`` JSON with the first number in ``field`` replaced by ``literal`` (kept as JSON text)."""
    text, count = re.subn(rf'"{field}":-?\d+', f'"{field}":{literal}', raw.decode(), count=1)
    assert count == 1, f"no numeric field {field!r} in the record"
    return text.encode()


def _tamper(keystore: Keystore, path: str, field: str, literal: str) -> bytes:
    good = keystore.get(path)
    keystore.put(path, _with_field(good, field, literal))
    return good


@pytest.mark.parametrize("literal", [HUGE, "-" + HUGE])
def test_crl_settings_with_a_huge_integer(
    ready: PkiEngine, keystore: Keystore, storage: SQLiteStorage, literal: str
) -> None:
    good = _tamper(keystore, "pki/config/crl", "expiry", literal)
    before = snapshot(storage)
    calls: list[Callable[[], object]] = [
        lambda: ready.crl_rotate("root"),
        ready.get_crl_config,
    ]
    for call in calls:
        with pytest.raises(CorruptRecord, match=r"pki/config/crl .*a number is out of range") as caught:
            call()
        assert HUGE[:50] not in str(caught.value)
    assert snapshot(storage) == before
    keystore.put("pki/config/crl", good)  # the path is usable again once the record is put right
    assert ready.crl_rotate("root").startswith("-----BEGIN X509 CRL")


def test_crl_with_a_huge_integer_in_its_state(
    ready: PkiEngine, keystore: Keystore, storage: SQLiteStorage
) -> None:
    good = _tamper(keystore, "pki/crl/root", "number", HUGE)
    before = snapshot(storage)
    for call in (ready.crl, ready.crl_rotate):
        with pytest.raises(CorruptRecord, match="pki/crl/root"):
            call("root")
    assert snapshot(storage) == before
    keystore.put("pki/crl/root", good)
    assert ready.crl_rotate("root").startswith("-----BEGIN X509 CRL")


@pytest.mark.parametrize(
    ("field", "literal", "message"),
    [
        ("number", str(2**200), "CRL number is out of range"),  # parses, but no 20-octet CRL number
        ("number", "-1", "CRL number is out of range"),
        ("next_update", str(10**12), "'next_update' is not a representable time"),  # year 33658
        ("next_update", str(10**20), "'next_update' is not a representable time"),  # past time_t
    ],
)
def test_crl_state_out_of_range(
    ready: PkiEngine, keystore: Keystore, storage: SQLiteStorage, field: str, literal: str, message: str
) -> None:
    _tamper(keystore, "pki/crl/root", field, literal)
    before = snapshot(storage)
    with pytest.raises(CorruptRecord, match=message):
        ready.crl("root")
    assert snapshot(storage) == before


def test_revocation_time_out_of_range(ready: PkiEngine, keystore: Keystore, storage: SQLiteStorage) -> None:
    serial = ready.issue("web", common_name="a.example.com").serial_number
    ready.revoke(serial)
    _tamper(keystore, "pki/crl/root", "revoked_at", str(-(10**12)))
    before = snapshot(storage)
    with pytest.raises(CorruptRecord, match="'revoked_at' is not a representable time"):
        ready.crl_rotate("root")
    assert snapshot(storage) == before


def test_certificate_record_time_out_of_range(
    ready: PkiEngine, keystore: Keystore, storage: SQLiteStorage
) -> None:
    serial = ready.issue("web", common_name="a.example.com").serial_number
    path = next(p for p in keystore.list("pki/certs/"))
    good = _tamper(keystore, path, "not_after", str(10**20))
    before = snapshot(storage)
    with pytest.raises(CorruptRecord, match="'not_after' is not a representable time"):
        ready.revoke(serial)
    assert snapshot(storage) == before
    keystore.put(path, good)
    ready.revoke(serial)


def test_role_with_a_huge_integer(ready: PkiEngine, keystore: Keystore, storage: SQLiteStorage) -> None:
    _tamper(keystore, "pki/roles/web", "max_ttl", HUGE)
    before = snapshot(storage)
    with pytest.raises(CorruptRecord, match=r"pki/roles/web .*a number is out of range"):
        ready.get_role("web")
    with pytest.raises(CorruptRecord, match="pki/roles/web"):
        ready.issue("web", common_name="a.example.com")
    assert snapshot(storage) == before
    ready.put_role(
        "web", Role(issuer="root", allow_any_name=True, key_type="ECDSA-P256")
    )  # replacing it works
    assert ready.get_role("web").allow_any_name


def test_ca_record_with_a_huge_integer(ready: PkiEngine, keystore: Keystore, storage: SQLiteStorage) -> None:
    raw = json.loads(keystore.get("pki/ca/root"))
    keystore.put("pki/ca/root", json.dumps(raw).replace('"version": 1', f'"version": {HUGE}').encode())
    before = snapshot(storage)
    with pytest.raises(CorruptRecord, match=r"pki/ca/root .*a number is out of range"):
        ready.ca_certificate("root")
    assert snapshot(storage) == before
