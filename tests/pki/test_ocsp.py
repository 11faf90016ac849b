"""The OCSP responder: good, revoked and unknown answers, each checked by pyca/cryptography.

Three signing paths: pyca's OCSP builder with an ML-DSA key (one with a
seed) and with classical keys, and the engine's own DER for an ML-DSA key
known only in expanded form (imported from an expandedKey PKCS#8).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from pathlib import Path
from typing import cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp

from secretumvault import pqc
from secretumvault.errors import InvalidType
from secretumvault.pki import PkiEngine, Role, _der
from secretumvault.pki._der_split import element_content, sequence_members
from secretumvault.pki.builders import CertificateFields, build_certificate
from secretumvault.pki.keys import _MlDsaSigningKey, generate_key, key_identifier
from secretumvault.pki.profiles import ca_extensions
from secretumvault.pki.records import CaRecord
from tests.conftest import untyped

from .conftest import START, Clock
from .helpers import name, ocsp_request
from .x509check import algorithm_identifier, load, require_openssl, run_openssl

HOUR = datetime.timedelta(hours=1)


def _verify(response_der: bytes, issuer: x509.Certificate) -> ocsp.OCSPResponse:
    """Parse a response and check its signature with the issuer's key, by pyca/cryptography."""
    response = ocsp.load_der_ocsp_response(response_der)
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    key = issuer.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(
            response.signature,
            response.tbs_response_bytes,
            ec.ECDSA(cast(hashes.HashAlgorithm, response.signature_hash_algorithm)),
        )
    elif isinstance(key, rsa.RSAPublicKey):
        key.verify(
            response.signature,
            response.tbs_response_bytes,
            padding.PKCS1v15(),
            cast(hashes.HashAlgorithm, response.signature_hash_algorithm),
        )
    else:  # Ed25519 or ML-DSA: no hash, no padding
        cast(ed25519.Ed25519PublicKey | mldsa.MLDSA65PublicKey, key).verify(
            response.signature, response.tbs_response_bytes
        )
    assert response.signature_algorithm_oid.dotted_string in {
        issuer.public_key_algorithm_oid.dotted_string,
        issuer.signature_algorithm_oid.dotted_string,
    }
    key_bits = issuer.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert response.responder_key_hash == hashlib.sha1(_subject_public_key(key_bits)).digest()
    return response


def _subject_public_key(spki: bytes) -> bytes:
    return element_content(sequence_members(spki, "spki")[1], "bits")[1][1:]


def _answers(engine: PkiEngine, ca: str, clock: Clock) -> None:
    """Good, revoked, unknown and the nonce, for certificates of the CA ``ca``."""
    issuer = load(engine.ca_certificate(ca))
    good = load(engine.issue("web", "good.example.com").certificate)
    gone = load(engine.issue("web", "gone.example.com").certificate)
    clock.advance(HOUR)
    revoked_at = engine.revoke(f"{gone.serial_number:x}")
    clock.advance(HOUR)

    response = _verify(engine.ocsp(ocsp_request(good, issuer, nonce=b"n" * 16)), issuer)
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == good.serial_number
    assert response.this_update_utc == START + 2 * HOUR
    assert response.next_update_utc == START + 14 * HOUR  # ocsp_expiry: 12 h
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 16

    response = _verify(engine.ocsp(ocsp_request(gone, issuer, algorithm=hashes.SHA256())), issuer)
    assert response.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == revoked_at == START + HOUR
    assert response.hash_algorithm.name == "sha256"

    # A serial this CA never issued.
    key_bits = _subject_public_key(
        issuer.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    by_hash = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        hashlib.sha1(issuer.subject.public_bytes()).digest(),
        hashlib.sha1(key_bits).digest(),
        12345,
        hashes.SHA1(),
    )
    unknown = _verify(engine.ocsp(by_hash.build().public_bytes(Encoding.DER)), issuer)
    assert unknown.certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    assert unknown.serial_number == 12345


@pytest.mark.parametrize("key_type", ["ML-DSA-65", "ECDSA-P256", "Ed25519", "RSA-2048"])
def test_good_revoked_unknown(engine: PkiEngine, clock: Clock, key_type: str) -> None:
    engine.create_root("root", common_name="Root", key_type=key_type)
    engine.put_role("web", Role(issuer="root", allow_any_name=True))
    _answers(engine, "root", clock)


def test_intermediate_answers_for_its_own_certificates(engine: PkiEngine, clock: Clock) -> None:
    engine.create_root("root", common_name="Root")
    engine.create_intermediate("int", issuer="root", common_name="Issuing", ttl=datetime.timedelta(days=30))
    engine.put_role("web", Role(issuer="int", allow_any_name=True))
    _answers(engine, "int", clock)
    # The root answers for the intermediate's certificate, which it issued.
    root, intermediate = load(engine.ca_certificate("root")), load(engine.ca_certificate("int"))
    answer = _verify(engine.ocsp(ocsp_request(intermediate, root)), root)
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD


def _expanded_only_bundle(backend: str) -> str:
    """An ML-DSA-65 CA whose key is written as RFC 9881 expandedKey PKCS#8, with no seed."""
    key = generate_key("ML-DSA-65", backend)
    expanded = cast(_MlDsaSigningKey, key)._secret.to_bytes()
    pkcs8 = _der.sequence(
        _der.integer(0), algorithm_identifier("ML-DSA-65"), _der.octet_string(_der.octet_string(expanded))
    )
    subject = name("Expanded CA")
    der = build_certificate(
        CertificateFields(
            serial_number=99,
            issuer=subject,
            subject=subject,
            not_before=START - HOUR,
            not_after=START + datetime.timedelta(days=30),
            subject_public_key=key.public_key,
            extensions=ca_extensions(key.public_key, key_identifier(key.public_key.subject_public_key)),
        ),
        key,
    )
    body = _der_pem(pkcs8, "PRIVATE KEY")
    return body + x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode()


def _der_pem(der: bytes, label: str) -> str:
    text = base64.b64encode(der).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def test_own_der_for_a_key_known_only_expanded(engine: PkiEngine, clock: Clock) -> None:
    if "oqs" not in pqc.available_backends():
        pytest.skip("expanded ML-DSA keys load only on the native 'oqs' backend, which is not built")
    engine_oqs = PkiEngine(engine._keystore, backend="oqs", clock=clock)
    engine_oqs.import_ca("expanded", _expanded_only_bundle("oqs"))
    record = CaRecord.decode(engine._keystore.get("pki/ca/expanded"), "pki/ca/expanded")
    assert record.key.pyca_private_key() is None  # so pyca's builder cannot sign: the engine's DER does
    engine_oqs.put_role("web", Role(issuer="expanded", allow_any_name=True))
    _answers(engine_oqs, "expanded", clock)


def test_unauthorized_and_malformed(engine: PkiEngine) -> None:
    engine.create_root("root", common_name="Root", key_type="ECDSA-P256")
    engine.create_root("elsewhere", common_name="Elsewhere", key_type="ECDSA-P256")
    engine.put_role("web", Role(issuer="elsewhere", allow_any_name=True))
    leaf = load(engine.issue("web", "x.example.com").certificate)
    other_key = ec.generate_private_key(ec.SECP256R1())
    stranger = (
        x509.CertificateBuilder()
        .subject_name(name("Stranger"))
        .issuer_name(name("Stranger"))
        .public_key(other_key.public_key())
        .serial_number(5)
        .not_valid_before(START)
        .not_valid_after(START + HOUR)
        .sign(other_key, hashes.SHA256())
    )
    answer = ocsp.load_der_ocsp_response(engine.ocsp(ocsp_request(leaf, stranger)))
    assert answer.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED
    for junk in (b"", b"\x30\x03\x02\x01\x00", b"not der at all"):
        assert (
            ocsp.load_der_ocsp_response(engine.ocsp(junk)).response_status
            == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
        )
    # A CertID whose serial no certificate can have (negative: RFC 5280 serials are positive).
    cert_id = _der.sequence(
        _der.sequence(_der.oid("1.3.14.3.2.26"), _der.null()),
        _der.octet_string(b"\x01" * 20),
        _der.octet_string(b"\x02" * 20),
        _der.integer(-5),
    )
    negative = _der.sequence(_der.sequence(_der.sequence(_der.sequence(cert_id))))
    assert ocsp.load_der_ocsp_request(negative).serial_number == -5  # pyca reads it; the responder refuses it
    assert (
        ocsp.load_der_ocsp_response(engine.ocsp(negative)).response_status
        == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )
    with pytest.raises(InvalidType, match="DER bytes"):
        engine.ocsp(untyped("MEUwQzBBMD8wPTAJ"))


def test_openssl_checks_a_classical_response(engine: PkiEngine, tmp_path: Path, clock: Clock) -> None:
    require_openssl(ml_dsa=False)
    root_pem = engine.create_root("root", common_name="Root", key_type="ECDSA-P256")
    engine.put_role("web", Role(issuer="root", allow_any_name=True, key_type="ECDSA-P256"))
    leaf = engine.issue("web", "www.example.com")
    engine.revoke(leaf.serial_number)
    request = ocsp_request(load(leaf.certificate), load(root_pem))
    (tmp_path / "resp.der").write_bytes(engine.ocsp(request))
    (tmp_path / "root.pem").write_text(root_pem)
    (tmp_path / "leaf.pem").write_text(leaf.certificate)
    result = run_openssl(
        "ocsp",
        "-respin",
        str(tmp_path / "resp.der"),
        "-issuer",
        str(tmp_path / "root.pem"),
        "-VAfile",
        str(tmp_path / "root.pem"),
        "-cert",
        str(tmp_path / "leaf.pem"),
        "-no_nonce",
    )
    assert "Response verify OK" in result.stderr + result.stdout, result.stdout + result.stderr
    assert "revoked" in result.stdout
