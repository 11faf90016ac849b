"""PKI with SLH-DSA (FIPS 205) certificates under RFC 9909's algorithm identifiers: roots, intermediates,
leaves, CRLs, OCSP and keys, checked against the RFC's encodings outside the library.

pyca/cryptography parses these certificates but cannot load SLH-DSA keys, so verify_chain validates the
chains itself (pki._composite_path); here each signature is also re-checked with plain pqc over the exact
TBS bytes, and tests/pki/test_slh_dsa_openssl.py has OpenSSL 3.5 verify them.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as CryptoUnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from secretumvault import pqc
from secretumvault.errors import (
    CertificateRevoked,
    CorruptRecord,
    InvalidArgument,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
)
from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.pki import IssuedCertificate, PkiEngine, Role, verify_chain
from secretumvault.pki.keys import generate_key, key_from_record
from tests._thorough import THOROUGH
from tests.keystore.conftest import snapshot
from tests.pki.test_composite import _der_members, _tlv

from .conftest import START

pytestmark = pytest.mark.skipif(
    "oqs" not in pqc.available_backends(), reason="SLH-DSA needs the native core (pyca has no SLH-DSA)"
)

SOON = START + datetime.timedelta(hours=1)
#: RFC 9909 section 3, written out here rather than taken from the library.
RFC_9909_OIDS = {
    "SLH-DSA-SHA2-128s": "2.16.840.1.101.3.4.3.20",
    "SLH-DSA-SHA2-128f": "2.16.840.1.101.3.4.3.21",
    "SLH-DSA-SHA2-192s": "2.16.840.1.101.3.4.3.22",
    "SLH-DSA-SHA2-192f": "2.16.840.1.101.3.4.3.23",
    "SLH-DSA-SHA2-256s": "2.16.840.1.101.3.4.3.24",
    "SLH-DSA-SHA2-256f": "2.16.840.1.101.3.4.3.25",
    "SLH-DSA-SHAKE-128s": "2.16.840.1.101.3.4.3.26",
    "SLH-DSA-SHAKE-128f": "2.16.840.1.101.3.4.3.27",
    "SLH-DSA-SHAKE-192s": "2.16.840.1.101.3.4.3.28",
    "SLH-DSA-SHAKE-192f": "2.16.840.1.101.3.4.3.29",
    "SLH-DSA-SHAKE-256s": "2.16.840.1.101.3.4.3.30",
    "SLH-DSA-SHAKE-256f": "2.16.840.1.101.3.4.3.31",
}
#: FIPS 205 Table 2: n, so public keys are 2n bytes and secret keys 4n.
N = {"128": 16, "192": 24, "256": 32}
ROOT, INTERMEDIATE, LEAF = "SLH-DSA-SHA2-128f", "SLH-DSA-SHAKE-128f", "SLH-DSA-SHA2-192f"


def n_of(name: str) -> int:
    return N[name.rsplit("-", 1)[1][:3]]


def _oid_der(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytes([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.insert(0, 0x80 | (arc & 0x7F))
        body += bytes(chunk)
    return _tlv(0x06, body)


def algorithm_identifier(name: str) -> bytes:
    """RFC 9909's AlgorithmIdentifier: the OID and parameters ABSENT."""
    return _tlv(0x30, _oid_der(RFC_9909_OIDS[name]))


def public_key_of(cert: x509.Certificate, name: str) -> bytes:
    """The raw FIPS 205 public key, after checking the SubjectPublicKeyInfo is exactly RFC 9909's."""
    spki = _der_members(cert.tbs_certificate_bytes)[6]  # [0] version, serial, sig, issuer, validity, subject
    raw = spki[-2 * n_of(name) :]
    assert spki == _tlv(0x30, algorithm_identifier(name) + _tlv(0x03, b"\x00" + raw))
    return raw


def independently_verifies(cert: x509.Certificate, issuer: x509.Certificate, issuer_type: str) -> bool:
    """Pure SLH-DSA with an empty context over the TBS, with RFC 9909's AlgorithmIdentifier in and out."""
    tbs, outer_algorithm, _ = _der_members(cert.public_bytes(Encoding.DER))
    assert outer_algorithm == _der_members(tbs)[2] == algorithm_identifier(issuer_type)
    key = pqc.Signature(issuer_type, backend="oqs").public_key_from_bytes(public_key_of(issuer, issuer_type))
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes, b"")
    except InvalidSignature:
        return False
    return True


def _certs(issued: IssuedCertificate) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate(c.encode()) for c in (issued.certificate, *issued.ca_chain)]


@pytest.fixture
def issued(engine: PkiEngine) -> IssuedCertificate:
    engine.create_root("root", common_name="SLH Root", key_type=ROOT)
    engine.create_intermediate("int", issuer="root", common_name="SLH Issuing", key_type=INTERMEDIATE)
    engine.put_role("web", Role(issuer="int", allow_any_name=True, key_type=LEAF))
    return engine.issue("web", "www.example.com")


def test_an_slh_dsa_chain_validates_both_ways(issued: IssuedCertificate) -> None:
    leaf, intermediate, root = _certs(issued)
    assert [(c.public_key_algorithm_oid.dotted_string, c.signature_algorithm_oid.dotted_string) for c in
            (leaf, intermediate, root)] == [(RFC_9909_OIDS[LEAF], RFC_9909_OIDS[INTERMEDIATE]),
                                            (RFC_9909_OIDS[INTERMEDIATE], RFC_9909_OIDS[ROOT]),
                                            (RFC_9909_OIDS[ROOT], RFC_9909_OIDS[ROOT])]  # fmt: skip
    path = verify_chain([leaf, intermediate], root, at=SOON, server_name="www.example.com")
    assert [c.subject.rfc4514_string() for c in path] == [
        "CN=www.example.com",
        "CN=SLH Issuing",
        "CN=SLH Root",
    ]
    for cert, issuer, kind in (
        (leaf, intermediate, INTERMEDIATE),
        (intermediate, root, ROOT),
        (root, root, ROOT),
    ):
        assert independently_verifies(cert, issuer, kind)
    assert issued.key_type == LEAF
    with pytest.raises(CryptoUnsupportedAlgorithm):
        leaf.public_key()  # pyca/cryptography cannot: hence the library's own path checks


def test_refusals(issued: IssuedCertificate, engine: PkiEngine) -> None:
    leaf, intermediate, root = _certs(issued)
    with pytest.raises(InvalidSignature, match="not for"):
        verify_chain([leaf, intermediate], root, at=SOON, server_name="other.example.com")
    with pytest.raises(InvalidSignature, match="not issued by"):
        verify_chain([intermediate, leaf], root, at=SOON)
    with pytest.raises(InvalidSignature):
        verify_chain([leaf], root, at=SOON)  # skipping the intermediate
    # One bit of the signature flipped; and the signature of another leaf of the same CA: both refused.
    tbs, algorithm, _ = _der_members(leaf.public_bytes(Encoding.DER))
    other = x509.load_pem_x509_certificate(engine.issue("web", "other.example.com").certificate.encode())
    flipped = bytes([leaf.signature[0] ^ 1]) + leaf.signature[1:]
    for signature in (flipped, other.signature):
        forged = x509.load_der_x509_certificate(_tlv(0x30, tbs + algorithm + _tlv(0x03, b"\x00" + signature)))
        assert not independently_verifies(forged, intermediate, INTERMEDIATE)
        with pytest.raises(InvalidSignature, match="does not verify"):
            verify_chain([forged, intermediate], root, at=SOON)


def test_revocation_with_slh_dsa_crls(issued: IssuedCertificate, engine: PkiEngine) -> None:
    leaf, intermediate, root = _certs(issued)
    crl = x509.load_pem_x509_crl(engine.crl("int").encode())
    assert crl.signature_algorithm_oid.dotted_string == RFC_9909_OIDS[INTERMEDIATE]
    public = pqc.Signature(INTERMEDIATE, backend="oqs").public_key_from_bytes(
        public_key_of(intermediate, INTERMEDIATE)
    )
    public.verify(crl.signature, crl.tbs_certlist_bytes, b"")
    verify_chain([leaf, intermediate], root, at=SOON, crls=[engine.crl("int"), engine.crl("root")])
    engine.revoke(f"{leaf.serial_number:x}")
    with pytest.raises(CertificateRevoked):
        verify_chain([leaf, intermediate], root, at=SOON, crls=[engine.crl("int"), engine.crl("root")])


def test_ocsp_is_signed_by_the_slh_dsa_ca(issued: IssuedCertificate, engine: PkiEngine) -> None:
    leaf, intermediate, _ = _certs(issued)
    key_bits = public_key_of(intermediate, INTERMEDIATE)
    request = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        hashlib.sha1(intermediate.subject.public_bytes()).digest(),  # RFC 6960's CertID hashes
        hashlib.sha1(key_bits).digest(),
        leaf.serial_number,
        hashes.SHA1(),
    )
    response = ocsp.load_der_ocsp_response(engine.ocsp(request.build().public_bytes(Encoding.DER)))
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert response.signature_algorithm_oid.dotted_string == RFC_9909_OIDS[INTERMEDIATE]
    public = pqc.Signature(INTERMEDIATE, backend="oqs").public_key_from_bytes(key_bits)
    public.verify(response.signature, response.tbs_response_bytes, b"")


def test_the_issued_private_key_is_rfc_9909_pkcs8(issued: IssuedCertificate) -> None:
    assert issued.private_key is not None
    body = "".join(issued.private_key.strip().splitlines()[1:-1])
    version, algorithm, private = _der_members(base64.b64decode(body))
    assert version == b"\x02\x01\x00" and algorithm == algorithm_identifier(LEAF)
    n = n_of(LEAF)
    assert private[:2] == bytes([0x04, 4 * n])  # the raw SK.seed || SK.prf || PK.seed || PK.root
    secret = private[2:]
    leaf = _certs(issued)[0]
    assert secret[2 * n :] == public_key_of(leaf, LEAF)
    # It signs for the certificate's key: the seed (first 3n bytes) rebuilds the same key pair.
    pair = pqc.Signature(LEAF, backend="oqs").keypair_from_seed(secret[: 3 * n])
    assert pair.secret_key.to_bytes() == secret


def test_keys_survive_a_restart(issued: IssuedCertificate, keystore: Keystore, backend: str) -> None:
    reopened = PkiEngine(keystore, backend=backend, clock=lambda: START)
    again = reopened.issue("web", "again.example.com")
    leaf, intermediate, root = _certs(again)
    verify_chain([leaf, intermediate], root, at=SOON, server_name="again.example.com")


def test_a_stored_key_that_does_not_match_is_corrupt() -> None:
    key = generate_key("SLH-DSA-SHA2-128f")
    fields = json.loads(key.to_record())
    assert fields["encoding"] == "fips205-seed" and len(base64.b64decode(fields["private"])) == 48
    other = json.loads(generate_key("SLH-DSA-SHA2-128f").to_record())
    for broken in (
        {**fields, "public": other["public"]},
        {**fields, "private": base64.b64encode(bytes(47)).decode()},
        {**fields, "encoding": "fips204-seed"},
    ):
        with pytest.raises(CorruptRecord):
            key_from_record(json.dumps(broken).encode(), "pki/ca/x")
    assert key_from_record(key.to_record(), "pki/ca/x").public_key.spki == key.public_key.spki


def test_refused_key_usages_and_names_store_nothing(engine: PkiEngine, storage: SQLiteStorage) -> None:
    with pytest.raises(InvalidArgument, match="not allowed for SLH-DSA-SHA2-128f"):
        Role(issuer="root", key_type="SLH-DSA-SHA2-128f", key_usage=("key_encipherment",))
    engine.create_root("root", common_name="SLH Root", key_type=ROOT)
    before = snapshot(storage)
    with pytest.raises(UnsupportedAlgorithm, match="unknown PKI key type"):
        engine.create_root("other", common_name="x", key_type="SLH-DSA-SHA2-129s")
    with pytest.raises(UnsupportedAlgorithm, match="unknown PKI key type"):
        engine.put_role("web", Role(issuer="root", key_type="slh-dsa-sha2-128f"))  # the server's spelling
    assert snapshot(storage) == before


_SETS = [n for n in RFC_9909_OIDS if n.endswith("f") or THOROUGH]


@pytest.mark.parametrize("name", _SETS)
def test_every_parameter_set_makes_a_root(keystore: Keystore, name: str) -> None:
    """Each of the twelve sets (the slow "s" sets where SECRETUMVAULT_TEST_THOROUGH=1): a root whose
    identifiers, key size and self-signature are RFC 9909's."""
    engine = PkiEngine(keystore, clock=lambda: START)
    root = x509.load_pem_x509_certificate(engine.create_root("r", common_name=name, key_type=name).encode())
    assert root.signature_algorithm_oid.dotted_string == RFC_9909_OIDS[name]
    assert independently_verifies(root, root, name)
    assert verify_chain([root], root, at=SOON)[0] == root


def _resigned_der(cert: x509.Certificate, tbs: bytes, signature: bytes) -> x509.Certificate:
    algorithm = _der_members(cert.public_bytes(Encoding.DER))[1]
    return x509.load_der_x509_certificate(_tlv(0x30, tbs + algorithm + _tlv(0x03, b"\x00" + signature)))


def test_wrong_size_keys_and_signatures_are_refused(
    issued: IssuedCertificate, engine: PkiEngine, storage: SQLiteStorage
) -> None:
    leaf, intermediate, root = _certs(issued)
    # A signature one byte short, or one byte long.
    for signature in (leaf.signature[:-1], leaf.signature + b"\x00"):
        with pytest.raises(InvalidSignature, match=r"does not verify|bytes"):
            verify_chain(
                [_resigned_der(leaf, leaf.tbs_certificate_bytes, signature), intermediate], root, at=SOON
            )
    # An issuer whose SLH-DSA key is one byte short: named as unusable, not as an unknown algorithm.
    fields = _der_members(intermediate.tbs_certificate_bytes)
    good_key = public_key_of(intermediate, INTERMEDIATE)
    short_spki = _tlv(0x30, algorithm_identifier(INTERMEDIATE) + _tlv(0x03, b"\x00" + good_key[:-1]))
    tbs = _tlv(0x30, b"".join(fields[:6]) + short_spki + b"".join(fields[7:]))
    broken = _resigned_der(intermediate, tbs, intermediate.signature)
    with pytest.raises(InvalidSignature, match=r"public key cannot be used.*malformed"):
        verify_chain([leaf, broken], root, at=SOON)
    # A CSR with that key: InvalidKey, and nothing stored.
    subject = x509.Name.from_rfc4514_string("CN=short.example.com").public_bytes()
    info = _tlv(0x30, b"\x02\x01\x00" + subject + short_spki + b"\xa0\x00")
    csr = _tlv(0x30, info + algorithm_identifier(LEAF) + _tlv(0x03, b"\x00" + bytes(35664)))
    before = snapshot(storage)
    with pytest.raises(InvalidKey, match="SLH-DSA-SHAKE-128f SubjectPublicKeyInfo is malformed"):
        engine.sign_csr("web", csr)
    assert snapshot(storage) == before
