"""Roles: which names they allow (bare, subdomain, glob), key types, TTLs, usages; storage."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from secretumvault.errors import InvalidArgument, InvalidType, KeyNotFound, UnsupportedAlgorithm
from secretumvault.keystore import SQLiteStorage
from secretumvault.pki import PkiEngine, Role
from secretumvault.pki.names import check_dns_name, is_allowed
from tests.conftest import untyped

from .conftest import START
from .helpers import snapshot
from .x509check import load


def allowed(
    name: str, domains: tuple[str, ...], *, bare: bool = False, sub: bool = False, glob: bool = False
) -> bool:
    return is_allowed(name, domains, allow_bare_domains=bare, allow_subdomains=sub, allow_glob_domains=glob)


@pytest.mark.parametrize(
    ("name", "bare", "sub", "expected"),
    [
        ("example.com", True, False, True),
        ("example.com", False, True, False),  # a subdomain rule does not grant the bare domain
        ("www.example.com", False, True, True),
        ("a.b.example.com", False, True, True),
        ("www.example.com", True, False, False),
        ("badexample.com", True, True, False),  # suffix without the dot is another domain
        ("example.com.evil.org", True, True, False),
    ],
)
def test_bare_and_subdomain_rules(name: str, bare: bool, sub: bool, expected: bool) -> None:
    assert allowed(name, ("example.com",), bare=bare, sub=sub) is expected


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*.example.com", "www.example.com", True),
        ("*.example.com", "a.b.example.com", False),  # "*" never crosses a dot
        ("*.example.com", "example.com", False),
        ("web-*.example.com", "web-01.example.com", True),
        ("web-*.example.com", "db-01.example.com", False),
        ("*", "localhost", True),
        ("*", "a.b", False),
    ],
)
def test_glob_rules(pattern: str, name: str, expected: bool) -> None:
    assert allowed(name, (pattern,), glob=True) is expected


def test_glob_characters_are_literal_without_glob() -> None:
    with pytest.raises(InvalidArgument, match="allowed domain"):
        Role(issuer="root", allowed_domains=("*.example.com",))


@pytest.mark.parametrize(
    "name",
    [
        "",
        "UPPER.example.com",
        "*.example.com",
        "-bad.example.com",
        "a..b",
        "a" * 64 + ".com",
        "bücher.example",
        "a b.com",
        "x." * 127 + "com",
    ],
)
def test_invalid_dns_names(name: str) -> None:
    with pytest.raises(InvalidArgument, match="not a lowercase ASCII hostname"):
        check_dns_name(name)


def test_dns_name_must_be_text() -> None:
    with pytest.raises(InvalidType):
        check_dns_name(b"example.com")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"issuer": ""}, InvalidArgument, "issuer"),
        ({"key_type": "X25519"}, UnsupportedAlgorithm, "unknown PKI key type"),
        ({"max_ttl": datetime.timedelta(0)}, InvalidArgument, "at least one second"),
        ({"max_ttl": 3600}, InvalidType, "timedelta"),
        ({"ttl": datetime.timedelta(days=40)}, InvalidArgument, "ttl must not exceed max_ttl"),
        ({"key_usage": ("key_encipherment",)}, InvalidArgument, "not allowed for ML-DSA-65 keys"),
        ({"key_usage": ("key_cert_sign",)}, InvalidArgument, "CA-only"),
        ({"key_usage": ("teleport",)}, InvalidArgument, "unknown key usage"),
        ({"key_usage": ("encipher_only",), "key_type": "ECDSA-P256"}, InvalidArgument, "need key_agreement"),
        ({"ext_key_usage": ("Teleport",)}, InvalidArgument, "unknown extended key usage"),
        ({"ext_key_usage_oids": ("1.50",)}, InvalidArgument, "not a dotted object identifier"),
        ({"ext_key_usage_oids": ("serverAuth",)}, InvalidArgument, "not a dotted object identifier"),
        ({"allowed_uri_sans": ("no-scheme",)}, InvalidArgument, "not an absolute URI"),
        ({"allowed_uri_sans": "spiffe://x/*"}, InvalidType, "tuple"),
        ({"allow_ip_sans": "yes"}, InvalidType, "allow_ip_sans"),
        ({"allowed_domains": ["example.com"]}, InvalidType, "tuple"),
        ({"server_flag": 1}, InvalidType, "server_flag"),
    ],
)
def test_invalid_roles(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Role(**{"issuer": "root", **kwargs})


def test_rsa_role_may_have_key_encipherment() -> None:
    role = Role(issuer="root", key_type="RSA-3072", key_usage=("digital_signature", "key_encipherment"))
    assert role.key_usage == ("digital_signature", "key_encipherment")


@pytest.fixture
def root_engine(engine: PkiEngine) -> PkiEngine:
    engine.create_root("root", common_name="Root")
    return engine


def test_role_round_trips_through_the_keystore(root_engine: PkiEngine) -> None:
    role = Role(
        issuer="root",
        allowed_domains=("example.com", "web-*.example.net"),
        allow_bare_domains=True,
        allow_glob_domains=True,
        key_type="Ed25519",
        max_ttl=datetime.timedelta(hours=5),
        ttl=datetime.timedelta(hours=1),
        server_flag=False,
    )
    root_engine.put_role("r", role)
    assert root_engine.get_role("r") == role
    assert root_engine.list_roles() == ["r"]
    root_engine.delete_role("r")
    assert root_engine.list_roles() == []
    with pytest.raises(KeyNotFound, match="no role named 'r'"):
        root_engine.delete_role("r")


def test_unknown_role(root_engine: PkiEngine, storage: SQLiteStorage) -> None:
    before = snapshot(storage)
    with pytest.raises(KeyNotFound, match="no role named 'nope'"):
        root_engine.issue("nope", "www.example.com")
    assert snapshot(storage) == before


def test_role_needs_an_existing_ca(engine: PkiEngine, storage: SQLiteStorage) -> None:
    before = snapshot(storage)
    with pytest.raises(KeyNotFound, match="no CA named 'root'"):
        engine.put_role("web", Role(issuer="root"))
    assert snapshot(storage) == before


def test_put_role_takes_a_role(root_engine: PkiEngine) -> None:
    with pytest.raises(InvalidType):
        root_engine.put_role("web", untyped({"issuer": "root"}))


def test_role_ttl_and_flags_shape_the_certificate(root_engine: PkiEngine) -> None:
    root_engine.put_role(
        "client",
        Role(
            issuer="root",
            allow_any_name=True,
            server_flag=False,
            ttl=datetime.timedelta(hours=6),
            key_usage=("digital_signature", "content_commitment"),
        ),
    )
    issued = root_engine.issue("client", "device-7")
    cert = load(issued.certificate)
    assert cert.not_valid_after_utc == issued.not_after == START + datetime.timedelta(hours=6)  # role.ttl
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment


def test_role_without_eku_flags_has_no_eku_extension(root_engine: PkiEngine) -> None:
    root_engine.put_role(
        "plain", Role(issuer="root", allow_any_name=True, server_flag=False, client_flag=False)
    )
    cert = load(root_engine.issue("plain", "thing").certificate)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)


def test_any_key_type_role_cannot_generate_keys(root_engine: PkiEngine) -> None:
    root_engine.put_role("any", Role(issuer="root", allow_any_name=True, key_type="any"))
    with pytest.raises(InvalidArgument, match="can only sign CSRs"):
        root_engine.issue("any", "thing")
