"""Revocation by serial, signed CRLs, and tidying expired certificates."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from secretumvault.errors import InvalidArgument, InvalidType, KeyNotFound
from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role
from tests.conftest import untyped

from .conftest import START, Clock
from .helpers import snapshot
from .x509check import assert_crl_signed_by, load

HOUR = datetime.timedelta(hours=1)
WEB = Role(
    issuer="root", allowed_domains=("example.com",), allow_subdomains=True, max_ttl=datetime.timedelta(days=2)
)


@pytest.fixture
def ca_engine(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root")
    engine.put_role("web", WEB)
    return engine


def _crl(engine: PkiEngine, ca: str = "root") -> x509.CertificateRevocationList:
    crl = x509.load_pem_x509_crl(engine.crl(ca).encode())
    assert_crl_signed_by(crl, load(engine.ca_certificate(ca)))
    return crl


def test_empty_crl_is_signed_and_numbered(ca_engine: PkiEngine) -> None:
    crl = _crl(ca_engine)
    assert len(crl) == 0
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1
    assert crl.last_update_utc == START
    assert crl.next_update_utc == START + datetime.timedelta(hours=72)
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    root = load(ca_engine.ca_certificate("root"))
    assert (
        aki.key_identifier == root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )


def test_revoked_certificate_appears_on_the_next_crl(ca_engine: PkiEngine, clock: Clock) -> None:
    kept = ca_engine.issue("web", "kept.example.com")
    gone = ca_engine.issue("web", "gone.example.com")
    clock.advance(HOUR)
    revoked_at = ca_engine.revoke(gone.serial_number)
    assert revoked_at == START + HOUR
    crl = _crl(ca_engine)
    assert [r.serial_number for r in crl] == [load(gone.certificate).serial_number]
    entry = crl.get_revoked_certificate_by_serial_number(load(gone.certificate).serial_number)
    assert entry is not None and entry.revocation_date_utc == START + HOUR
    assert crl.get_revoked_certificate_by_serial_number(load(kept.certificate).serial_number) is None
    # Signed when the revocation was recorded; reading it again returns the same CRL.
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1
    assert crl.last_update_utc == START + HOUR
    assert _crl(ca_engine).public_bytes(Encoding.DER) == crl.public_bytes(Encoding.DER)


def test_revoke_accepts_int_and_plain_hex(ca_engine: PkiEngine) -> None:
    a, b = ca_engine.issue("web", "a.example.com"), ca_engine.issue("web", "b.example.com")
    ca_engine.revoke(load(a.certificate).serial_number)
    ca_engine.revoke(b.serial_number.replace(":", "").upper())
    assert len(_crl(ca_engine)) == 2


def test_crl_lists_only_its_own_ca(ca_engine: PkiEngine) -> None:
    ca_engine.create_root("other", common_name="Other Root")
    ca_engine.put_role("other-web", Role(issuer="other", allow_any_name=True))
    ca_engine.revoke(ca_engine.issue("other-web", "x.example.net").serial_number)
    assert len(_crl(ca_engine, "root")) == 0
    assert len(_crl(ca_engine, "other")) == 1


def test_revoking_an_unknown_serial(ca_engine: PkiEngine, storage: SQLiteStorage) -> None:
    before = snapshot(storage)
    with pytest.raises(KeyNotFound, match="no certificate with serial 0a:bc"):
        ca_engine.revoke("0a:bc")
    assert snapshot(storage) == before


def test_revoking_twice(ca_engine: PkiEngine, storage: SQLiteStorage, clock: Clock) -> None:
    serial = ca_engine.issue("web", "a.example.com").serial_number
    assert ca_engine.revoke(serial) == START
    before = snapshot(storage)
    clock.advance(HOUR)
    assert ca_engine.revoke(serial) == START  # not an error: the original time, nothing re-signed
    assert snapshot(storage) == before
    entry = _crl(ca_engine).get_revoked_certificate_by_serial_number(int(serial.replace(":", ""), 16))
    assert entry is not None and entry.revocation_date_utc == START  # the first revocation stands


@pytest.mark.parametrize("serial", ["", "xyz", "00", "0" * 41, -5, 0, 2**160])
def test_malformed_serials(ca_engine: PkiEngine, serial: object) -> None:
    with pytest.raises(InvalidArgument):
        ca_engine.revoke(untyped(serial))


@pytest.mark.parametrize("serial", [None, 1.5, True, b"ab"])
def test_serial_of_wrong_type(ca_engine: PkiEngine, serial: object) -> None:
    with pytest.raises(InvalidType):
        ca_engine.revoke(untyped(serial))


def test_crl_for_an_unknown_ca(ca_engine: PkiEngine) -> None:
    with pytest.raises(KeyNotFound, match="no CA named 'nope'"):
        ca_engine.crl("nope")


def test_tidy_removes_only_certificates_expired_past_the_buffer(ca_engine: PkiEngine, clock: Clock) -> None:
    short = ca_engine.issue("web", "short.example.com", ttl=HOUR)
    revoked_short = ca_engine.issue("web", "rshort.example.com", ttl=HOUR)
    long = ca_engine.issue("web", "long.example.com", ttl=datetime.timedelta(days=2))
    ca_engine.revoke(revoked_short.serial_number)
    clock.advance(2 * HOUR)
    assert ca_engine.tidy(safety_buffer=2 * HOUR) == 0  # expired, but within the buffer
    assert len(ca_engine.list_certificates()) == 3
    clock.advance(2 * HOUR)
    assert ca_engine.tidy(safety_buffer=2 * HOUR) == 2
    assert ca_engine.list_certificates() == [long.serial_number]
    with pytest.raises(KeyNotFound):
        ca_engine.get_certificate(short.serial_number)
    assert len(_crl(ca_engine)) == 0  # an expired certificate needs no CRL entry
    assert ca_engine.tidy() == 0


def test_tidy_rejects_a_negative_buffer(ca_engine: PkiEngine) -> None:
    with pytest.raises(InvalidArgument):
        ca_engine.tidy(safety_buffer=-HOUR)
