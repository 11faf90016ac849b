"""PKI with composite ML-DSA (draft-ietf-lamps-pq-composite-sigs-19): a composite root, intermediate and leaf,
validated by verify_chain and by the draft's verifier rebuilt in tests/test_composite.py.

pyca/cryptography parses these certificates but cannot load their keys or verify their signatures, so
verify_chain runs the library's own RFC 5280 basic checks for them (pki._composite_path); the signature
checks are re-done here independently of the library, half by half.
"""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as CryptoUnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding

from secretumvault.errors import CertificateRevoked, InvalidSignature
from secretumvault.pki import IssuedCertificate, PkiEngine, Role, verify_chain
from tests.test_composite import DRAFT, ML_DSA_SIZES

from .conftest import START

SOON = START + datetime.timedelta(hours=1)
ROOT, INTERMEDIATE, LEAF = "MLDSA87-ECDSA-P384-SHA512", "MLDSA65-ECDSA-P256-SHA512", "MLDSA65-Ed25519-SHA512"


def _der_members(data: bytes) -> list[bytes]:
    """The members of a DER SEQUENCE, written out here so the check does not lean on the library."""

    def end(at: int) -> int:
        first = data[at + 1]
        if first < 0x80:
            return at + 2 + first
        size = first & 0x7F
        return at + 2 + size + int.from_bytes(data[at + 2 : at + 2 + size], "big")

    first = data[1]
    position = 2 + (first & 0x7F if first >= 0x80 else 0)
    members = []
    while position < len(data):
        stop = end(position)
        members.append(data[position:stop])
        position = stop
    return members


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + length + body


def spki_bits(cert: x509.Certificate) -> tuple[str, bytes]:
    """The composite OID (dotted, via pyca) and the raw subjectPublicKey bits of ``cert``."""
    fields = _der_members(cert.tbs_certificate_bytes)
    spki = fields[6]  # [0] version, serial, signature, issuer, validity, subject, SPKI
    algorithm, bit_string = _der_members(spki)
    assert algorithm == _der_members(spki)[0] and len(_der_members(algorithm)) == 1  # parameters ABSENT
    header = 2 + (bit_string[1] & 0x7F if bit_string[1] >= 0x80 else 0)
    assert bit_string[header] == 0  # no unused bits
    return cert.public_key_algorithm_oid.dotted_string, bit_string[header + 1 :]


def draft_verifies(cert: x509.Certificate, issuer: x509.Certificate, backend: str) -> bool:
    """The draft's Composite-ML-DSA.Verify over the TBS with an empty context, keyed by OID."""
    oid, pk = spki_bits(issuer)
    (name,) = [n for n, d in DRAFT.items() if d.oid == oid]
    assert cert.signature_algorithm_oid.dotted_string == oid
    return DRAFT[name].verify(pk, cert.tbs_certificate_bytes, cert.signature, b"", backend)


@pytest.fixture
def issued(engine: PkiEngine) -> IssuedCertificate:
    engine.create_root("root", common_name="Composite Root", key_type=ROOT)
    engine.create_intermediate(
        "int",
        issuer="root",
        common_name="Composite Issuing",
        key_type=INTERMEDIATE,
        ttl=datetime.timedelta(days=90),
    )
    engine.put_role("web", Role(issuer="int", allow_any_name=True, key_type=LEAF))
    return engine.issue("web", "www.example.com")


def _certs(issued: IssuedCertificate) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate(c.encode()) for c in (issued.certificate, *issued.ca_chain)]


def test_composite_chain_validates_both_ways(issued: IssuedCertificate, backend: str) -> None:
    leaf, intermediate, root = _certs(issued)
    oids = [
        (c.public_key_algorithm_oid.dotted_string, c.signature_algorithm_oid.dotted_string)
        for c in _certs(issued)
    ]
    assert oids == [(DRAFT[LEAF].oid, DRAFT[INTERMEDIATE].oid), (DRAFT[INTERMEDIATE].oid, DRAFT[ROOT].oid),
                    (DRAFT[ROOT].oid, DRAFT[ROOT].oid)]  # fmt: skip
    path = verify_chain([leaf, intermediate], root, at=SOON, server_name="www.example.com")
    assert [c.subject.rfc4514_string() for c in path] == [
        "CN=www.example.com",
        "CN=Composite Issuing",
        "CN=Composite Root",
    ]
    # The draft's verifier, rebuilt from its text, agrees on every link (and on the self-signed root).
    for cert, issuer in ((leaf, intermediate), (intermediate, root), (root, root)):
        assert draft_verifies(cert, issuer, backend)
    with pytest.raises(CryptoUnsupportedAlgorithm):
        leaf.public_key()  # pyca/cryptography cannot: hence the library's own path checks


def test_refusals(issued: IssuedCertificate, engine: PkiEngine, backend: str) -> None:
    leaf, intermediate, root = _certs(issued)
    with pytest.raises(InvalidSignature, match="not for"):
        verify_chain([leaf, intermediate], root, at=SOON, server_name="other.example.com")
    with pytest.raises(InvalidSignature, match="not valid at"):
        verify_chain([leaf, intermediate], root, at=SOON + datetime.timedelta(days=3650))
    with pytest.raises(InvalidSignature, match="not issued by"):
        verify_chain([intermediate, leaf], root, at=SOON)
    with pytest.raises(InvalidSignature):
        verify_chain([leaf], root, at=SOON)  # skipping the intermediate
    # The leaf's signature with one half replaced by the same half of another certificate that the same
    # intermediate signed (valid for its own TBS): refused by the library and the rebuilt verifier.
    other = x509.load_pem_x509_certificate(engine.issue("web", "other.example.com").certificate.encode())
    size = ML_DSA_SIZES[DRAFT[INTERMEDIATE].ml_dsa][1]
    tbs, algorithm, _ = _der_members(leaf.public_bytes(Encoding.DER))
    for mixed in (
        leaf.signature[:size] + other.signature[size:],
        other.signature[:size] + leaf.signature[size:],
    ):
        forged = x509.load_der_x509_certificate(_tlv(0x30, tbs + algorithm + _tlv(0x03, b"\x00" + mixed)))
        assert forged.signature == mixed
        assert not draft_verifies(forged, intermediate, backend)
        with pytest.raises(InvalidSignature, match="does not verify"):
            verify_chain([forged, intermediate], root, at=SOON)


def test_revocation_with_a_composite_crl(issued: IssuedCertificate, engine: PkiEngine) -> None:
    leaf, intermediate, root = _certs(issued)
    crls = [engine.crl("int"), engine.crl("root")]
    verify_chain([leaf, intermediate], root, at=SOON, crls=crls)
    engine.revoke(leaf.serial_number)
    with pytest.raises(CertificateRevoked):
        verify_chain([leaf, intermediate], root, at=SOON, crls=[engine.crl("int"), engine.crl("root")])
