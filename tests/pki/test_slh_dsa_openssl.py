"""SLH-DSA certificates (RFC 9909) against OpenSSL 3.5 in a Debian 13 root (bash .ci/trixie-root.sh):
`openssl verify` validates the chains, CRLs and keys the engine makes, and verify_chain validates a
chain OpenSSL made. Skips, saying why, where the root or its OpenSSL is missing.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from secretumvault import pqc
from secretumvault.errors import InvalidSignature
from secretumvault.keystore import Keystore
from secretumvault.pki import IssuedCertificate, PkiEngine, Role, verify_chain
from tests._thorough import THOROUGH
from tests.test_slh_dsa_openssl import _why_not, openssl, work

from .test_slh_dsa import RFC_9909_OIDS

__all__ = ["work"]  # the fixture, imported for this module's tests

pytestmark = [
    pytest.mark.skipif(_why_not() is not None, reason=_why_not() or ""),
    pytest.mark.skipif(
        "oqs" not in pqc.available_backends(), reason="SLH-DSA needs the native core (pyca has no SLH-DSA)"
    ),
]

ROOT, INTERMEDIATE, LEAF = "SLH-DSA-SHA2-128s", "SLH-DSA-SHAKE-128f", "SLH-DSA-SHA2-128f"


@pytest.fixture
def engine(keystore: Keystore) -> PkiEngine:
    return PkiEngine(keystore)  # the real clock: OpenSSL checks validity against now


@pytest.fixture
def issued(engine: PkiEngine) -> IssuedCertificate:
    engine.create_root("root", common_name="SLH Root", key_type=ROOT)
    engine.create_intermediate("int", issuer="root", common_name="SLH Issuing", key_type=INTERMEDIATE)
    engine.put_role(
        "web", Role(issuer="int", allow_any_name=True, key_type=LEAF, ext_key_usage=("ServerAuth",))
    )
    return engine.issue("web", "www.example.com")


def _write(here: Path, files: dict[str, str]) -> None:
    for file, text in files.items():
        (here / file).write_text(text)


def _verify(there: str, *extra: str) -> tuple[int, str]:
    done = openssl(
        "verify",
        "-CAfile",
        f"{there}/root.pem",
        "-untrusted",
        f"{there}/int.pem",
        *extra,
        f"{there}/leaf.pem",
    )
    return done.returncode, done.stdout + done.stderr


def test_openssl_verifies_our_chain_and_crls(
    issued: IssuedCertificate, engine: PkiEngine, work: tuple[Path, str]
) -> None:
    here, there = work
    _write(
        here, {"leaf.pem": issued.certificate, "int.pem": issued.ca_chain[0], "root.pem": issued.ca_chain[1]}
    )
    _write(here, {"crls.pem": engine.crl("int") + engine.crl("root")})
    code, out = _verify(there, "-purpose", "sslserver", "-verify_hostname", "www.example.com")
    assert code == 0 and f"{there}/leaf.pem: OK" in out, out
    code, out = _verify(there, "-crl_check_all", "-CRLfile", f"{there}/crls.pem")
    assert code == 0, out
    # OpenSSL reads the identifiers as RFC 9909's, by name.
    text = openssl("x509", "-in", f"{there}/leaf.pem", "-noout", "-text").stdout
    assert f"Signature Algorithm: {INTERMEDIATE}" in text and f"Public Key Algorithm: {LEAF}" in text
    text = openssl("x509", "-in", f"{there}/root.pem", "-noout", "-text").stdout
    assert f"Signature Algorithm: {ROOT}" in text and f"Public Key Algorithm: {ROOT}" in text
    # It can fail: another host name, and the leaf once revoked.
    code, out = _verify(there, "-verify_hostname", "other.example.com")
    assert code != 0 and "hostname mismatch" in out, out
    engine.revoke(issued.serial_number)
    _write(here, {"crls.pem": engine.crl("int") + engine.crl("root")})
    code, out = _verify(there, "-crl_check_all", "-CRLfile", f"{there}/crls.pem")
    assert code != 0 and "certificate revoked" in out, out


def test_openssl_reads_the_issued_private_key(issued: IssuedCertificate, work: tuple[Path, str]) -> None:
    here, there = work
    assert issued.private_key is not None
    _write(here, {"key.pem": issued.private_key})
    done = openssl(
        "pkey", "-in", f"{there}/key.pem", "-pubout", "-outform", "DER", "-out", f"{there}/pub.der"
    )
    assert done.returncode == 0, done.stderr
    leaf = x509.load_pem_x509_certificate(issued.certificate.encode())
    spki = (here / "pub.der").read_bytes()
    assert spki in leaf.tbs_certificate_bytes  # OpenSSL derives the certificate's SubjectPublicKeyInfo


def test_we_sign_an_openssl_csr_and_openssl_verifies_the_result(
    issued: IssuedCertificate, engine: PkiEngine, work: tuple[Path, str]
) -> None:
    here, there = work
    made = openssl("genpkey", "-algorithm", LEAF, "-out", f"{there}/k.pem")
    assert made.returncode == 0, made.stderr
    csr = openssl(
        "req", "-new", "-key", f"{there}/k.pem", "-subj", "/CN=api.example.com", "-out", f"{there}/r.csr"
    )
    assert csr.returncode == 0, csr.stderr
    signed = engine.sign_csr("web", (here / "r.csr").read_text())
    _write(
        here, {"leaf.pem": signed.certificate, "int.pem": issued.ca_chain[0], "root.pem": issued.ca_chain[1]}
    )
    code, out = _verify(there, "-purpose", "sslserver", "-verify_hostname", "api.example.com")
    assert code == 0, out
    # The leaf certifies OpenSSL's key.
    pub = openssl("pkey", "-in", f"{there}/k.pem", "-pubout", "-outform", "DER", "-out", f"{there}/pub.der")
    assert pub.returncode == 0
    leaf = x509.load_pem_x509_certificate(signed.certificate.encode())
    assert (here / "pub.der").read_bytes() in leaf.tbs_certificate_bytes


@pytest.fixture
def openssl_chain(work: tuple[Path, str]) -> tuple[Path, list[x509.Certificate]]:
    """A root (SLH-DSA-SHAKE-128f) and a server leaf (SLH-DSA-SHA2-128f) made by OpenSSL 3.5."""
    here, there = work
    (here / "leaf.ext").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:www.example.org\n"
        "authorityKeyIdentifier=keyid\n"
    )
    ca, leaf = f"{there}/ca", f"{there}/leaf"
    steps = [
        ["genpkey", "-algorithm", "SLH-DSA-SHAKE-128f", "-out", f"{ca}.key"],
        ["req", "-x509", "-new", "-key", f"{ca}.key", "-subj", "/CN=OpenSSL SLH Root", "-days", "30",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-out", f"{ca}.pem"],
        ["genpkey", "-algorithm", "SLH-DSA-SHA2-128f", "-out", f"{leaf}.key"],
        ["req", "-new", "-key", f"{leaf}.key", "-subj", "/CN=www.example.org", "-out", f"{leaf}.csr"],
        ["x509", "-req", "-in", f"{leaf}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-days", "7",
         "-extfile", f"{leaf}.ext", "-out", f"{leaf}.pem"],
    ]  # fmt: skip
    for step in steps:
        done = openssl(*step)
        assert done.returncode == 0, (step, done.stderr)
    return here, [x509.load_pem_x509_certificate((here / f).read_bytes()) for f in ("leaf.pem", "ca.pem")]


def test_verify_chain_validates_an_openssl_made_chain(
    openssl_chain: tuple[Path, list[x509.Certificate]],
) -> None:
    _, (leaf, root) = openssl_chain
    assert leaf.signature_algorithm_oid.dotted_string == RFC_9909_OIDS["SLH-DSA-SHAKE-128f"]
    assert leaf.public_key_algorithm_oid.dotted_string == RFC_9909_OIDS["SLH-DSA-SHA2-128f"]
    path = verify_chain([leaf], root, server_name="www.example.org")
    assert path == [leaf, root]
    # And refuses it with one signature byte changed, or for another name.
    der = bytearray(leaf.public_bytes(Encoding.DER))
    der[-1] ^= 1
    with pytest.raises(InvalidSignature, match="does not verify"):
        verify_chain([x509.load_der_x509_certificate(bytes(der))], root)
    with pytest.raises(InvalidSignature, match="not for"):
        verify_chain([leaf], root, server_name="www.example.com")
    with pytest.raises(InvalidSignature):
        verify_chain([leaf], root, at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=60))


_SETS = [n for n in RFC_9909_OIDS if n.endswith("f") or THOROUGH]


@pytest.mark.parametrize("name", _SETS)
def test_openssl_verifies_a_root_of_every_set(keystore: Keystore, name: str, work: tuple[Path, str]) -> None:
    """Each of the twelve sets (the slow "s" sets where SECRETUMVAULT_TEST_THOROUGH=1)."""
    here, there = work
    root = PkiEngine(keystore).create_root("r", common_name=name, key_type=name)
    (here / "root.pem").write_text(root)
    done = openssl("verify", "-CAfile", f"{there}/root.pem", "-check_ss_sig", f"{there}/root.pem")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        f"Signature Algorithm: {name}"
        in openssl("x509", "-in", f"{there}/root.pem", "-noout", "-text").stdout
    )
