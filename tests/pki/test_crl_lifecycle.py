"""CRLs as Vault keeps them: re-signed on revoke, expiry and rotate only; delta CRLs; older records."""

from __future__ import annotations

import datetime
import json
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from secretumvault.errors import CertificateRevoked, InvalidArgument
from secretumvault.keystore import Keystore
from secretumvault.pki import PkiEngine, Role, verify_chain
from secretumvault.pki.records import CertRecord

from .conftest import START, Clock
from .x509check import assert_crl_signed_by, load, openssl_verify, require_openssl

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def ready(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root")
    engine.put_role("web", Role(issuer="root", allow_any_name=True, max_ttl=datetime.timedelta(days=20)))
    return engine


def _load(engine: PkiEngine, pem: str) -> x509.CertificateRevocationList:
    crl = x509.load_pem_x509_crl(pem.encode())
    assert_crl_signed_by(crl, load(engine.ca_certificate("root")))
    return crl


def _number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def _serial(pem: str) -> int:
    return load(pem).serial_number


def test_reads_return_the_stored_crl(ready: PkiEngine, clock: Clock) -> None:
    first = ready.crl("root")
    clock.advance(HOUR)
    assert ready.crl("root") == first  # the same bytes: not re-signed on read
    assert _number(_load(ready, first)) == 1


def test_revoke_re_signs_with_the_next_number(ready: PkiEngine, clock: Clock) -> None:
    ready.crl("root")
    leaf = ready.issue("web", "a.example.com")
    clock.advance(HOUR)
    ready.revoke(leaf.serial_number)
    crl = _load(ready, ready.crl("root"))
    assert _number(crl) == 2 and crl.last_update_utc == START + HOUR
    assert [entry.serial_number for entry in crl] == [_serial(leaf.certificate)]


def test_expired_crl_is_rebuilt_on_read(ready: PkiEngine, clock: Clock) -> None:
    ready.set_crl_config(expiry=datetime.timedelta(hours=6))
    crl = _load(ready, ready.crl("root"))
    assert crl.next_update_utc == START + datetime.timedelta(hours=6)
    clock.advance(datetime.timedelta(hours=6))
    renewed = _load(ready, ready.crl("root"))
    assert _number(renewed) == 2 and renewed.last_update_utc == START + datetime.timedelta(hours=6)


def test_rotate_signs_a_new_crl_now(ready: PkiEngine, clock: Clock) -> None:
    ready.crl("root")
    clock.advance(HOUR)
    rotated = _load(ready, ready.crl_rotate("root"))
    assert _number(rotated) == 2 and rotated.last_update_utc == START + HOUR
    assert ready.crl("root") == rotated.public_bytes(Encoding.PEM).decode()


def test_expired_certificates_leave_the_crl(ready: PkiEngine, clock: Clock) -> None:
    short = ready.issue("web", "short.example.com", ttl=HOUR)
    long = ready.issue("web", "long.example.com")
    ready.revoke(short.serial_number)
    ready.revoke(long.serial_number)
    clock.advance(2 * HOUR)
    assert [e.serial_number for e in _load(ready, ready.crl_rotate("root"))] == [_serial(long.certificate)]
    # Still known to the engine until tidy: revoking again returns the first time.
    assert ready.revoke(short.serial_number) == START


def test_delta_crls(ready: PkiEngine, clock: Clock) -> None:
    ready.set_crl_config(enable_delta=True)
    before = ready.issue("web", "before.example.com")
    after = ready.issue("web", "after.example.com")
    ready.revoke(before.serial_number)  # no complete CRL yet: this signs the first complete CRL
    complete = _load(ready, ready.crl("root"))
    assert [e.serial_number for e in complete] == [_serial(before.certificate)]
    clock.advance(HOUR)
    ready.revoke(after.serial_number)
    assert ready.crl("root") == complete.public_bytes(Encoding.PEM).decode()  # the complete CRL is kept
    delta = _load(ready, ready.delta_crl("root"))
    indicator = delta.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    assert indicator.critical and indicator.value.crl_number == _number(complete)
    assert _number(delta) > _number(complete)
    assert [e.serial_number for e in delta] == [_serial(after.certificate)]
    # A verifier given the complete CRL and its delta sees both revocations; given only the complete CRL, one.
    root = ready.ca_certificate("root")
    at = START + 2 * HOUR
    crls = [ready.crl("root"), ready.delta_crl("root")]
    for leaf in (before, after):
        with pytest.raises(CertificateRevoked):
            verify_chain([leaf.certificate], root, at=at, crls=crls)
    verify_chain([after.certificate], root, at=at, crls=[ready.crl("root")])
    # Rotating folds the delta into a new complete CRL, and starts an empty delta on it.
    clock.advance(HOUR)
    rotated = _load(ready, ready.crl_rotate("root"))
    assert sorted(e.serial_number for e in rotated) == sorted(_serial(c.certificate) for c in (before, after))
    fresh_delta = _load(ready, ready.delta_crl("root"))
    assert len(fresh_delta) == 0
    assert fresh_delta.extensions.get_extension_for_class(x509.DeltaCRLIndicator).value.crl_number == _number(
        rotated
    )


def test_delta_crl_needs_the_setting(ready: PkiEngine) -> None:
    with pytest.raises(InvalidArgument, match="delta CRLs are off"):
        ready.delta_crl("root")


def test_records_of_earlier_releases_carry_over(ready: PkiEngine, keystore: Keystore, clock: Clock) -> None:
    # Before: revocation times lived in the certificate records, and the CRL record held only a number.
    leaf = ready.issue("web", "old.example.com")
    serial_path = "pki/certs/" + f"{_serial(leaf.certificate):x}"
    record = CertRecord.decode(keystore.get(serial_path), serial_path)
    revoked = CertRecord(record.issuer, record.certificate, record.not_after, revoked_at=START)
    keystore.put(serial_path, revoked.encode())
    keystore.put(
        "pki/crl/root",
        json.dumps({"format": "secretumvault-pki-crl-state", "version": 1, "number": 7}).encode(),
    )
    clock.advance(HOUR)
    crl = _load(ready, ready.crl("root"))
    assert _number(crl) == 8  # the number sequence goes on
    entry = crl.get_revoked_certificate_by_serial_number(_serial(leaf.certificate))
    assert entry is not None and entry.revocation_date_utc == START
    assert ready.revoke(leaf.serial_number) == START  # known as revoked, at its original time


DELTA_URL = "http://pki.example.com/v1/pki/issuer/{{issuer_id}}/crl/delta"


def test_complete_crls_name_their_delta(ready: PkiEngine, clock: Clock) -> None:
    ready.set_urls(delta_crl_distribution_points=[DELTA_URL])
    # Deltas off: no Freshest CRL, which would send verifiers to a delta CRL that is not kept.
    with pytest.raises(x509.ExtensionNotFound):
        _load(ready, ready.crl("root")).extensions.get_extension_for_class(x509.FreshestCRL)
    ready.set_crl_config(enable_delta=True)
    complete = _load(ready, ready.crl_rotate("root"))
    freshest = complete.extensions.get_extension_for_class(x509.FreshestCRL)
    assert not freshest.critical  # RFC 5280 5.2.6
    assert [n.value for p in freshest.value for n in p.full_name or ()] == [
        "http://pki.example.com/v1/pki/issuer/root/crl/delta"
    ]
    clock.advance(HOUR)
    ready.revoke(ready.issue("web", "a.example.com").serial_number)
    delta = _load(ready, ready.delta_crl("root"))
    with pytest.raises(x509.ExtensionNotFound):  # 5.2.6: never on a delta CRL
        delta.extensions.get_extension_for_class(x509.FreshestCRL)
    # OpenSSL pairs a base and a delta only if their AKID (and IDP) extensions are identical.
    aki = x509.AuthorityKeyIdentifier
    assert delta.extensions.get_extension_for_class(aki) == complete.extensions.get_extension_for_class(aki)


# OpenSSL 3.0 up to 3.0.19 scores a delta CRL as if it were complete (get_crl_score checks the Delta
# CRL Indicator only with -extended_crl), so it reports the revocation even without -use_deltas or a
# Freshest CRL; 3.5.9 (openssl/openssl#31044) rejects that and finds the delta from the complete CRL's
# Freshest CRL extension (get_delta_sk), as RFC 5280 6.3.3 says. Both must see it here.
@pytest.mark.parametrize("newest", [False, True], ids=["system-openssl", "openssl-3.5"])
@pytest.mark.parametrize("key_type", ["ECDSA-P256", "RSA-2048"])
def test_openssl_checks_complete_and_delta_crls(
    engine: PkiEngine, tmp_path: Path, clock: Clock, key_type: str, newest: bool
) -> None:
    require_openssl(ml_dsa=False, newest=newest)
    root = engine.create_root("root", common_name="Root", key_type=key_type)
    engine.put_role("web", Role(issuer="root", allow_any_name=True, key_type=key_type))
    engine.set_crl_config(enable_delta=True)
    # Issued before the delta URL is set, so the leaf has no Freshest CRL: the complete CRL's counts.
    leaf = engine.issue("web", "www.example.com")
    with pytest.raises(x509.ExtensionNotFound):
        load(leaf.certificate).extensions.get_extension_for_class(x509.FreshestCRL)
    engine.set_urls(delta_crl_distribution_points=[DELTA_URL])
    at = START + HOUR
    engine.crl("root")
    clock.advance(datetime.timedelta(minutes=10))
    engine.revoke(leaf.serial_number)  # on the delta CRL only
    complete_only = openssl_verify(
        tmp_path, at, root, [], leaf.certificate, engine.crl("root"), newest=newest
    )
    assert complete_only.returncode == 0, complete_only.stdout + complete_only.stderr
    both = engine.crl("root") + engine.delta_crl("root")
    with_delta = openssl_verify(
        tmp_path, at, root, [], leaf.certificate, both, extra=["-use_deltas"], newest=newest
    )
    assert with_delta.returncode != 0
    assert "certificate revoked" in with_delta.stdout + with_delta.stderr


def test_concurrent_revocations_all_reach_the_crl(ready: PkiEngine) -> None:
    # Each revocation is a compare-and-set on the CA's one CRL record; losers retry from a fresh read.
    leaves = [ready.issue("web", f"h{i}.example.com") for i in range(8)]
    errors: list[BaseException] = []

    def revoke(serial: str) -> None:
        try:
            ready.revoke(serial)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=revoke, args=(leaf.serial_number,)) for leaf in leaves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    listed = {e.serial_number for e in _load(ready, ready.crl("root"))}
    assert listed == {_serial(leaf.certificate) for leaf in leaves}
