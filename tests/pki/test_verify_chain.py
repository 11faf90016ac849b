"""verify_chain(): pyca/cryptography's RFC 5280 validator on the engine's chains, and every way it refuses."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from secretumvault.errors import InvalidArgument, InvalidSignature, InvalidType, UnsupportedAlgorithm
from secretumvault.pki import IssuedCertificate, PkiEngine, Role, verify_chain
from tests.conftest import untyped

from .conftest import START
from .x509check import load

SOON = START + datetime.timedelta(hours=1)


@pytest.fixture
def issued(engine: PkiEngine) -> IssuedCertificate:
    engine.create_root("root", common_name="Root")
    engine.create_intermediate("int", issuer="root", common_name="Issuing", ttl=datetime.timedelta(days=90))
    engine.put_role("web", Role(issuer="int", allow_any_name=True))
    return engine.issue("web", "www.example.com")


def test_chain_validates_and_returns_the_path(issued: IssuedCertificate) -> None:
    path = verify_chain([issued.certificate, *issued.ca_chain], issued.ca_chain[-1], at=SOON)
    assert [c.subject.rfc4514_string() for c in path] == ["CN=www.example.com", "CN=Issuing", "CN=Root"]
    assert len(verify_chain([issued.certificate, issued.issuing_ca], issued.ca_chain[-1], at=SOON)) == 3


def test_purposes(issued: IssuedCertificate) -> None:
    chain, root = [issued.certificate, issued.issuing_ca], issued.ca_chain[-1]
    verify_chain(chain, root, at=SOON, server_name="www.example.com")
    verify_chain(chain, root, at=SOON, ext_key_usage="ClientAuth")
    verify_chain(chain, root, at=SOON, ext_key_usage="1.3.6.1.5.5.7.3.1")
    with pytest.raises(InvalidSignature, match="does not validate"):
        verify_chain(chain, root, at=SOON, server_name="other.example.com")
    with pytest.raises(InvalidSignature, match=r"do not include 1\.3\.6\.1\.5\.5\.7\.3\.3"):
        verify_chain(chain, root, at=SOON, ext_key_usage="CodeSigning")


def test_tampered_signature(issued: IssuedCertificate) -> None:
    der = bytearray(load(issued.certificate).public_bytes(Encoding.DER))
    der[-3] ^= 0x01
    with pytest.raises(InvalidSignature, match="does not validate"):
        verify_chain([bytes(der), *issued.ca_chain], issued.ca_chain[-1], at=SOON)


def test_untrusted_root(engine: PkiEngine, issued: IssuedCertificate) -> None:
    other_root = engine.create_root("other", common_name="Root")  # same name, another key
    with pytest.raises(InvalidSignature):
        verify_chain([issued.certificate, issued.issuing_ca], other_root, at=SOON)


def test_missing_intermediate(issued: IssuedCertificate) -> None:
    with pytest.raises(InvalidSignature, match="does not validate"):
        verify_chain([issued.certificate], issued.ca_chain[-1], at=SOON)


def test_leaf_cannot_act_as_issuer(engine: PkiEngine, issued: IssuedCertificate) -> None:
    # A leaf named like the intermediate still may not sign: basicConstraints cA is false.
    with pytest.raises(InvalidSignature):
        verify_chain([issued.issuing_ca, issued.certificate], issued.ca_chain[-1], at=SOON)


def test_outside_validity(issued: IssuedCertificate) -> None:
    chain = [issued.certificate, *issued.ca_chain]
    with pytest.raises(InvalidSignature, match="does not validate"):
        verify_chain(chain, issued.ca_chain[-1], at=START + datetime.timedelta(days=31))
    with pytest.raises(InvalidSignature, match="does not validate"):
        verify_chain(chain, issued.ca_chain[-1], at=START - datetime.timedelta(days=1))


def test_bad_arguments(issued: IssuedCertificate) -> None:
    with pytest.raises(InvalidArgument, match="empty"):
        verify_chain([], issued.ca_chain[-1])
    with pytest.raises(InvalidArgument, match="well-formed"):
        verify_chain([b"junk"], issued.ca_chain[-1])
    with pytest.raises(InvalidType):
        verify_chain([untyped(42)], issued.ca_chain[-1])
    with pytest.raises(InvalidType):
        verify_chain(issued.certificate, issued.ca_chain[-1])
    with pytest.raises(InvalidArgument, match=r"not a well-formed X\.509 CRL"):
        verify_chain([issued.certificate], issued.ca_chain[-1], crls=[b"junk"])
    with pytest.raises(InvalidArgument, match="extended key usage"):
        verify_chain([issued.certificate], issued.ca_chain[-1], ext_key_usage="Teleport")


def test_ed25519_is_refused_with_the_reason(engine: PkiEngine) -> None:
    root = engine.create_root("ed", common_name="Ed Root", key_type="Ed25519")
    with pytest.raises(UnsupportedAlgorithm, match=r"Ed25519.*openssl verify"):
        verify_chain([root], root, at=SOON)


# -- chains RFC 5280 forbids, built with pyca/cryptography: pyca's verifier refuses them ------------

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: mldsa.MLDSA65PrivateKey,
    issuer: str,
    issuer_key: mldsa.MLDSA65PrivateKey,
    *,
    ca: bool,
    path_length: int | None = None,
    extra: tuple[x509.ExtensionType, ...] = (),
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, ca, ca, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("leaf.example")]), False)
    for ext in extra:
        builder = builder.add_extension(ext, critical=True)
    return builder.sign(issuer_key, None)


def test_root_path_length_zero_above_two_ca_levels_is_rejected() -> None:
    root_key, a_key, b_key, leaf_key = (mldsa.MLDSA65PrivateKey.generate() for _ in range(4))
    root = _cert("root", root_key, "root", root_key, ca=True, path_length=0)
    a = _cert("a", a_key, "root", root_key, ca=True)
    b = _cert("b", b_key, "a", a_key, ca=True)
    leaf = _cert("leaf", leaf_key, "b", b_key, ca=False)
    with pytest.raises(InvalidSignature, match="does not validate"):
        verify_chain([leaf, b, a], root, at=NOW)
    # The same shape with no limit on the root validates: the refusal is the pathLen.
    open_root = _cert("root", root_key, "root", root_key, ca=True)
    assert len(verify_chain([leaf, b, a], open_root, at=NOW)) == 4


def test_unknown_critical_extension_in_an_intermediate_is_rejected() -> None:
    root_key, int_key, leaf_key = (mldsa.MLDSA65PrivateKey.generate() for _ in range(3))
    root = _cert("root", root_key, "root", root_key, ca=True)
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")
    intermediate = _cert("int", int_key, "root", root_key, ca=True, extra=(unknown,))
    leaf = _cert("leaf", leaf_key, "int", int_key, ca=False)
    with pytest.raises(InvalidSignature, match="critical"):
        verify_chain([leaf, intermediate], root, at=NOW)
    plain = _cert("int", int_key, "root", root_key, ca=True)
    assert len(verify_chain([leaf, plain], root, at=NOW)) == 3


@pytest.mark.parametrize(
    "server_name", ["é.example.com", "", "a..example.com", "*.example.com", "www.example.com.", "x" * 300]
)
def test_server_names_pyca_refuses(issued: IssuedCertificate, server_name: str) -> None:
    """pyca/cryptography raised a bare ValueError for these; the caller gets InvalidArgument."""
    chain, root = [issued.certificate, issued.issuing_ca], issued.ca_chain[-1]
    with pytest.raises(InvalidArgument, match=r"is not a DNS name .* or an IP address"):
        verify_chain(chain, root, at=SOON, server_name=server_name)
    with pytest.raises(InvalidArgument, match="is not a DNS name"):  # with a purpose too
        verify_chain(chain, root, at=SOON, server_name=server_name, ext_key_usage="ServerAuth")
    verify_chain(chain, root, at=SOON, server_name="www.example.com")
