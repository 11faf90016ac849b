"""IP and URI subject alternative names, the role rules that allow them, and NameNotAllowed."""

from __future__ import annotations

import datetime
import ipaddress
import pickle
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from secretumvault.errors import InvalidArgument, InvalidType, NameNotAllowed, PolicyViolation
from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role, verify_chain
from secretumvault.pki.sans import check_ip, check_uri, uri_allowed

from .conftest import START
from .helpers import build_csr, name, snapshot
from .x509check import load, openssl_verify, require_openssl

SOON = START + datetime.timedelta(hours=1)
SPIFFE = "spiffe://example.org/ns/prod/sa/*"
MTLS = Role(
    issuer="root",
    allowed_domains=("svc.example.org",),
    allow_subdomains=True,
    allow_ip_sans=True,
    allowed_uri_sans=(SPIFFE,),
)


@pytest.fixture
def mtls(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root")
    engine.put_role("mtls", MTLS)
    engine.put_role("dns-only", Role(issuer="root", allowed_domains=("example.org",), allow_subdomains=True))
    engine.put_role(
        "csr", Role(issuer="root", allowed_domains=("example.org",), allow_subdomains=True, key_type="any")
    )
    return engine


def _san(pem: str) -> x509.SubjectAlternativeName:
    return load(pem).extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def test_ip_and_uri_sans_are_issued_and_validate(mtls: PkiEngine) -> None:
    issued = mtls.issue(
        "mtls",
        "api.svc.example.org",
        ip_sans=["10.0.0.7", "2001:db8::7", "10.0.0.7"],
        uri_sans=["spiffe://example.org/ns/prod/sa/api"],
    )
    san = _san(issued.certificate)
    assert san.get_values_for_type(x509.DNSName) == ["api.svc.example.org"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.0.0.7"),
        ipaddress.ip_address("2001:db8::7"),
    ]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://example.org/ns/prod/sa/api"]
    root = issued.ca_chain[-1]
    # pyca/cryptography validates the server certificate for its IP address as for its DNS name,
    verify_chain([issued.certificate], root, at=SOON, server_name="10.0.0.7")
    verify_chain([issued.certificate], root, at=SOON, server_name="2001:db8::7")
    verify_chain([issued.certificate], root, at=SOON, server_name="api.svc.example.org")
    # and as an mTLS client certificate, where the SPIFFE ID travels in the URI SAN.
    verify_chain([issued.certificate], root, at=SOON, ext_key_usage="ClientAuth")


def test_csr_ip_and_uri_sans_are_taken_and_checked(mtls: PkiEngine, storage: SQLiteStorage) -> None:
    mtls.put_role("csr-mtls", Role(**{**MTLS.__dict__, "key_type": "any"}))
    csr = build_csr(
        name("db.svc.example.org"),
        sans=[
            x509.IPAddress(ipaddress.ip_address("192.0.2.1")),
            x509.UniformResourceIdentifier("spiffe://example.org/ns/prod/sa/db"),
        ],
    )
    san = _san(mtls.sign_csr("csr-mtls", csr).certificate)
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.0.2.1")]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://example.org/ns/prod/sa/db"]
    # The same CSR through a role without IP SANs: refused, with the rule named, nothing stored.
    before = snapshot(storage)
    with pytest.raises(NameNotAllowed, match=r"IP SAN '192\.0\.2\.1'") as refused:
        mtls.sign_csr("csr", csr)
    assert refused.value.rule == "allow_ip_sans"
    assert snapshot(storage) == before


@pytest.mark.parametrize(
    ("kwargs", "rule", "message"),
    [
        ({"common_name": "www.example.com"}, "allowed_domains", "does not allow the name 'www.example.com'"),
        ({"alt_names": ["a.example.org"]}, "allowed_domains", "allowed_domains=\\['svc.example.org'\\]"),
        ({"uri_sans": ["spiffe://example.org/ns/dev/sa/api"]}, "allowed_uri_sans", "URI SAN"),
        ({"uri_sans": ["spiffe://evil.org/ns/prod/sa/api"]}, "allowed_uri_sans", "allowed_uri_sans="),
        ({"uri_sans": ["https://example.org/ns/prod/sa/api"]}, "allowed_uri_sans", "URI SAN"),
    ],
)
def test_refused_names_name_their_rule(
    mtls: PkiEngine, storage: SQLiteStorage, kwargs: dict[str, Any], rule: str, message: str
) -> None:
    before = snapshot(storage)
    args = {"common_name": "api.svc.example.org", **kwargs}
    with pytest.raises(NameNotAllowed, match=message) as refused:
        mtls.issue("mtls", **args)
    assert refused.value.rule == rule
    assert isinstance(refused.value, PolicyViolation) and isinstance(refused.value, ValueError)
    assert snapshot(storage) == before


def test_ip_sans_need_the_role_flag(mtls: PkiEngine, storage: SQLiteStorage) -> None:
    before = snapshot(storage)
    with pytest.raises(NameNotAllowed, match="allow_ip_sans=False") as refused:
        mtls.issue("dns-only", "www.example.org", ip_sans=["10.0.0.1"])
    assert refused.value.rule == "allow_ip_sans"
    with pytest.raises(NameNotAllowed, match="allowed_uri_sans=\\[\\]"):
        mtls.issue("dns-only", "www.example.org", uri_sans=["spiffe://example.org/x"])
    assert snapshot(storage) == before


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ip_sans": ["10.0.0.256"]}, InvalidArgument, "not an IPv4 or IPv6 address"),
        ({"ip_sans": ["fe80::1%eth0"]}, InvalidArgument, "IPv6 zone"),
        ({"ip_sans": ["10.0.0.0/8"]}, InvalidArgument, "not an IPv4"),
        ({"ip_sans": [167772161]}, InvalidType, "IP SAN must be str"),
        ({"ip_sans": "10.0.0.1"}, InvalidType, "ip_sans must be a sequence"),
        ({"uri_sans": ["not a uri"]}, InvalidArgument, "is not a URI"),
        ({"uri_sans": ["relative/path"]}, InvalidArgument, "not an absolute URI"),
        ({"uri_sans": ["spiffe://"]}, InvalidArgument, "no host"),
        ({"uri_sans": ["spiffe://example.org/é"]}, InvalidArgument, "is not a URI"),
        ({"uri_sans": ["x:%zz"]}, InvalidArgument, "is not a URI"),
        ({"uri_sans": ["x:" + "a" * 3000]}, InvalidArgument, "at most 2048"),
    ],
)
def test_malformed_ips_and_uris(
    mtls: PkiEngine, storage: SQLiteStorage, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    before = snapshot(storage)
    with pytest.raises(error, match=message):
        mtls.issue("mtls", "api.svc.example.org", **kwargs)
    assert snapshot(storage) == before


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("spiffe://example.org/ns/prod/sa/api", True),
        ("spiffe://example.org/ns/prod/sa/a/b", True),  # "*" in the path crosses "/"
        ("SPIFFE://example.org/ns/prod/sa/api", True),  # schemes compare case-insensitively
        ("spiffe://example.org/ns/prod/sa/", True),
        ("spiffe://example.org/ns/dev/sa/api", False),
        ("spiffe://example.org.evil/ns/prod/sa/api", False),
        ("spiffe://user@example.org/ns/prod/sa/api", False),
        ("spiffe:example.org/ns/prod/sa/api", False),  # no authority where the pattern has one
        ("https://example.org/ns/prod/sa/api", False),
    ],
)
def test_uri_patterns(uri: str, expected: bool) -> None:
    assert uri_allowed(check_uri(uri), [SPIFFE]) is expected


def test_wildcards_in_the_authority_stay_in_the_authority() -> None:
    patterns = ["https://*.example.com/hooks/*"]
    assert uri_allowed("https://a.example.com/hooks/x", patterns)
    assert not uri_allowed("https://evil.com#.example.com/hooks/x", patterns)
    assert not uri_allowed("https://evil.com@a.example.com/hooks/x", patterns)
    assert not uri_allowed("https://evil.com/.example.com/hooks/x", patterns)


def test_check_ip_normalises() -> None:
    assert str(check_ip("2001:DB8:0:0::1")) == "2001:db8::1"


def test_name_not_allowed_pickles_with_its_rule() -> None:
    error = pickle.loads(pickle.dumps(NameNotAllowed("refused", "allowed_uri_sans")))
    assert (str(error), error.rule) == ("refused", "allowed_uri_sans")


def test_openssl_verifies_an_ecdsa_leaf_with_ip_and_uri_sans(engine: PkiEngine, tmp_path: Path) -> None:
    require_openssl(ml_dsa=False)
    root = engine.create_root("root", common_name="EC Root", key_type="ECDSA-P256")
    engine.put_role("mtls", Role(**{**MTLS.__dict__, "key_type": "ECDSA-P256"}))
    leaf = engine.issue(
        "mtls", "api.svc.example.org", ip_sans=["10.1.2.3"], uri_sans=["spiffe://example.org/ns/prod/sa/api"]
    )
    result = openssl_verify(tmp_path, SOON, root, [], leaf.certificate, extra=["-verify_ip", "10.1.2.3"])
    assert result.returncode == 0, result.stdout + result.stderr
    wrong = openssl_verify(tmp_path, SOON, root, [], leaf.certificate, extra=["-verify_ip", "10.1.2.4"])
    assert wrong.returncode != 0 and "IP address mismatch" in wrong.stdout + wrong.stderr


DOT_SEGMENT_URIS = [
    "spiffe://example.org/ns/prod/sa/../../../x",  # issue 29: outside /ns/prod/ once normalised
    "spiffe://example.org/ns/prod/sa/%2e%2e/%2E%2E/x",
    "spiffe://example.org/ns/prod/sa/.%2E/x",
    "spiffe://example.org/ns/prod/sa/./api",
    "spiffe://example.org/ns/prod/sa/api/..",
]


@pytest.mark.parametrize("uri", DOT_SEGMENT_URIS)
def test_uris_with_dot_segments_are_refused(mtls: PkiEngine, storage: SQLiteStorage, uri: str) -> None:
    before = snapshot(storage)
    with pytest.raises(InvalidArgument, match=r"has a '\.' or '\.\.' path segment") as caught:
        mtls.issue("mtls", "api.svc.example.org", uri_sans=[uri])
    assert not isinstance(caught.value, NameNotAllowed)  # refused as a malformed name, whatever the role
    csr = build_csr(name("api.svc.example.org"), sans=[x509.UniformResourceIdentifier(uri)])
    with pytest.raises(InvalidArgument, match=r"path segment"):
        mtls.sign_csr("csr", csr)
    assert snapshot(storage) == before
    assert not uri_allowed(uri, [SPIFFE])  # nor does the matcher accept one, if called directly
    issued = mtls.issue("mtls", "api.svc.example.org", uri_sans=["spiffe://example.org/ns/prod/sa/api"])
    assert issued.serial_number


@pytest.mark.parametrize(
    "uri",
    [
        "spiffe://example.org/ns/prod/sa/...",
        "spiffe://example.org/ns/prod/sa/a..b",
        "spiffe://example.org/ns/prod/sa/.x",
    ],
)
def test_dots_that_are_not_dot_segments_are_names(uri: str) -> None:
    assert uri_allowed(check_uri(uri), [SPIFFE])
