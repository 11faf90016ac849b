"""sign_verbatim: the CSR's contents kept, within the role's limits; everything beyond them refused."""

from __future__ import annotations

import datetime
import ipaddress
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from secretumvault.errors import InvalidArgument, NameNotAllowed, PolicyViolation, UnsupportedAlgorithm
from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role, verify_chain

from .conftest import START
from .helpers import build_csr, name, snapshot
from .x509check import assert_issued_by, load

E = TypeVar("E", bound=x509.ExtensionType)
SOON = START + datetime.timedelta(hours=1)
ORG = x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp")
ROLE = Role(
    issuer="root",
    allowed_domains=("example.com",),
    allow_subdomains=True,
    allow_ip_sans=True,
    allowed_uri_sans=("spiffe://example.com/*",),
    key_type="any",
    key_usage=("digital_signature", "key_agreement"),
    ext_key_usage=("CodeSigning",),
)


@pytest.fixture
def ready(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root")
    engine.put_role("verbatim", ROLE)
    return engine


def _ext(cert: x509.Certificate, kind: type[E]) -> x509.Extension[E]:
    return cert.extensions.get_extension_for_class(kind)


def test_csr_contents_are_kept(ready: PkiEngine) -> None:
    csr = build_csr(
        name("app.example.com", ORG),
        sans=[
            x509.DNSName("app.example.com"),
            x509.IPAddress(ipaddress.ip_address("198.51.100.4")),
            x509.UniformResourceIdentifier("spiffe://example.com/app"),
        ],
        extensions=[
            (x509.KeyUsage(False, False, False, False, True, False, False, False, False), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        ],
    )
    issued = ready.sign_verbatim("verbatim", csr)
    cert = load(issued.certificate)
    assert_issued_by(cert, load(ready.ca_certificate("root")))
    assert cert.subject == name("app.example.com", ORG)  # the whole subject, not only the CN
    san = _ext(cert, x509.SubjectAlternativeName).value
    assert list(san) == [
        x509.DNSName("app.example.com"),
        x509.IPAddress(ipaddress.ip_address("198.51.100.4")),
        x509.UniformResourceIdentifier("spiffe://example.com/app"),
    ]
    usage = _ext(cert, x509.KeyUsage).value
    assert usage.key_agreement and not usage.digital_signature
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    verify_chain([cert], ready.ca_certificate("root"), at=SOON, server_name="198.51.100.4")


def test_role_values_when_the_csr_asks_for_none(ready: PkiEngine) -> None:
    cert = load(ready.sign_verbatim("verbatim", build_csr(name("plain.example.com"))).certificate)
    assert _ext(cert, x509.KeyUsage).value.key_agreement
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
        ExtendedKeyUsageOID.CODE_SIGNING,
    ]


def test_arguments_choose_the_usages(ready: PkiEngine) -> None:
    csr = build_csr(
        name("tool.example.com"),
        extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)],
    )
    cert = load(
        ready.sign_verbatim(
            "verbatim", csr, key_usage=["DigitalSignature"], ext_key_usage=["CodeSigning"]
        ).certificate
    )
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CODE_SIGNING]
    assert _ext(cert, x509.KeyUsage).value.digital_signature
    verify_chain([cert], ready.ca_certificate("root"), at=SOON, ext_key_usage="CodeSigning")


def test_empty_subject_makes_the_san_critical(ready: PkiEngine) -> None:
    csr = build_csr(x509.Name([]), sans=[x509.UniformResourceIdentifier("spiffe://example.com/job")])
    cert = load(ready.sign_verbatim("verbatim", csr).certificate)
    assert len(cert.subject) == 0
    assert _ext(cert, x509.SubjectAlternativeName).critical  # RFC 5280 4.2.1.6
    verify_chain([cert], ready.ca_certificate("root"), at=SOON, ext_key_usage="ClientAuth")


@pytest.mark.parametrize(
    ("csr_args", "call_args", "error", "message"),
    [
        (
            {"extensions": [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)]},
            {},
            PolicyViolation,
            r"extended key usages \['1.3.6.1.5.5.7.3.4'\]",
        ),
        ({}, {"ext_key_usage": ["TimeStamping"]}, PolicyViolation, "extended key usages"),
        ({}, {"ext_key_usage_oids": ["1.2.3.4"]}, PolicyViolation, r"\['1.2.3.4'\]"),
        (
            {
                "extensions": [
                    (x509.KeyUsage(True, True, False, False, False, False, False, False, False), True)
                ]
            },
            {},
            PolicyViolation,
            r"key usages \['content_commitment'\]",
        ),
        ({}, {"key_usage": ["KeyEncipherment"]}, PolicyViolation, "key usages"),
        (
            {"extensions": [(x509.BasicConstraints(ca=True, path_length=None), True)]},
            {},
            PolicyViolation,
            "asks to be a CA",
        ),
        (
            {
                "extensions": [
                    (
                        x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.9"), b"\x05\x00"),
                        True,
                    )
                ]
            },
            {},
            InvalidArgument,
            "critical extensions .* 1.3.6.1.4.1.55555.9",
        ),
        ({"sans": [x509.RFC822Name("ops@example.com")]}, {}, InvalidArgument, "RFC822Name"),
        ({"sans": [x509.DNSName("evil.example.org")]}, {}, NameNotAllowed, "evil.example.org"),
        ({"sans": [x509.UniformResourceIdentifier("spiffe://other.org/x")]}, {}, NameNotAllowed, "URI SAN"),
        ({"cn": "evil.example.org"}, {}, NameNotAllowed, "does not allow the name"),
        ({"cn": "Not A Hostname"}, {}, InvalidArgument, "hostname"),
        ({}, {"ttl": datetime.timedelta(days=31)}, PolicyViolation, "max_ttl"),
    ],
)
def test_more_than_the_role_allows_is_refused(
    ready: PkiEngine,
    storage: SQLiteStorage,
    csr_args: dict[str, Any],
    call_args: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    args = dict(csr_args)  # the parameters are shared between backends: do not change them
    cn = str(args.pop("cn", "app.example.com"))
    csr = build_csr(name(cn), **args)
    before = snapshot(storage)
    with pytest.raises(error, match=message):
        ready.sign_verbatim("verbatim", csr, **call_args)
    assert snapshot(storage) == before


def test_key_type_must_match_a_fixed_role(ready: PkiEngine, storage: SQLiteStorage) -> None:
    ready.put_role("ml-dsa-only", Role(issuer="root", allow_any_name=True))
    before = snapshot(storage)
    with pytest.raises(UnsupportedAlgorithm, match="certifies ML-DSA-65 keys"):
        ready.sign_verbatim("ml-dsa-only", build_csr(name("app.example.com")))
    assert snapshot(storage) == before
