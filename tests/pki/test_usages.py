"""Extended key usages by name and OID, key usages as full lists; chains checked for the right EKU."""

from __future__ import annotations

import datetime
import json

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from secretumvault.errors import InvalidSignature
from secretumvault.keystore import Keystore
from secretumvault.pki import PkiEngine, Role, verify_chain

from .conftest import START
from .x509check import load

SOON = START + datetime.timedelta(hours=1)
CUSTOM_OID = "1.3.6.1.4.1.55555.7"


@pytest.fixture
def root(engine: PkiEngine) -> str:
    return engine.create_root("root", common_name="Root")


def _ekus(pem: str) -> list[x509.ObjectIdentifier]:
    return list(load(pem).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_role_ext_key_usages_by_name_and_oid(engine: PkiEngine, root: str) -> None:
    engine.put_role(
        "signer",
        Role(
            issuer="root",
            allow_any_name=True,
            server_flag=False,
            client_flag=False,
            ext_key_usage=("code_signing", "TimeStamping", "codesigning"),  # spellings fold together
            ext_key_usage_oids=(CUSTOM_OID,),
        ),
    )
    role = engine.get_role("signer")
    assert role.ext_key_usage == ("CodeSigning", "TimeStamping")
    cert = engine.issue("signer", "build.example.com").certificate
    assert _ekus(cert) == [
        ExtendedKeyUsageOID.CODE_SIGNING,
        ExtendedKeyUsageOID.TIME_STAMPING,
        x509.ObjectIdentifier(CUSTOM_OID),
    ]
    # pyca/cryptography validates the chain for each usage the leaf carries, and for no other.
    for usage in ("CodeSigning", "TimeStamping", CUSTOM_OID):
        verify_chain([cert], root, at=SOON, ext_key_usage=usage)
    for usage in ("ClientAuth", "EmailProtection"):
        with pytest.raises(InvalidSignature, match="do not include"):
            verify_chain([cert], root, at=SOON, ext_key_usage=usage)
    with pytest.raises(InvalidSignature, match="does not validate"):
        verify_chain([cert], root, at=SOON, server_name="build.example.com")  # no serverAuth


@pytest.mark.parametrize(
    ("names", "oid"),
    [
        ("EmailProtection", ExtendedKeyUsageOID.EMAIL_PROTECTION),
        ("OCSPSigning", ExtendedKeyUsageOID.OCSP_SIGNING),
        ("Any", ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE),
        ("IPSECUser", x509.ObjectIdentifier("1.3.6.1.5.5.7.3.7")),
    ],
)
def test_each_named_usage(engine: PkiEngine, root: str, names: str, oid: x509.ObjectIdentifier) -> None:
    engine.put_role("r", Role(issuer="root", allow_any_name=True, ext_key_usage=(names,)))
    ekus = _ekus(engine.issue("r", "thing.example.com").certificate)
    assert ekus == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH, oid]


def test_full_key_usage_lists(engine: PkiEngine, root: str) -> None:
    engine.put_role(
        "ec",
        Role(
            issuer="root",
            allow_any_name=True,
            key_type="ECDSA-P256",
            key_usage=("DigitalSignature", "KeyAgreement", "encipher_only", "CRLSign", "ContentCommitment"),
        ),
    )
    role = engine.get_role("ec")
    assert role.key_usage == (
        "digital_signature",
        "content_commitment",
        "key_agreement",
        "crl_sign",
        "encipher_only",
    )
    usage = load(engine.issue("ec", "ec.example.com").certificate).extensions.get_extension_for_class(
        x509.KeyUsage
    )
    assert usage.critical
    value = usage.value
    assert (value.digital_signature, value.content_commitment, value.key_agreement, value.crl_sign) == (
        True,
    ) * 4
    assert value.encipher_only and not value.decipher_only and not value.key_cert_sign


def test_rsa_encipherment_usages(engine: PkiEngine, root: str) -> None:
    engine.put_role(
        "rsa",
        Role(
            issuer="root",
            allow_any_name=True,
            key_type="RSA-2048",
            key_usage=("digital_signature", "key_encipherment", "data_encipherment"),
        ),
    )
    value = (
        load(engine.issue("rsa", "rsa.example.com").certificate)
        .extensions.get_extension_for_class(x509.KeyUsage)
        .value
    )
    assert value.key_encipherment and value.data_encipherment


def test_no_key_usage_means_no_extension(engine: PkiEngine, root: str) -> None:
    engine.put_role("plain", Role(issuer="root", allow_any_name=True, key_usage=()))
    cert = load(engine.issue("plain", "plain.example.com").certificate)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.KeyUsage)
    verify_chain([cert], root, at=SOON, server_name="plain.example.com")


def test_roles_written_before_these_fields_still_load(
    engine: PkiEngine, root: str, keystore: Keystore
) -> None:
    legacy = {
        "format": "secretumvault-pki-role",
        "version": 1,
        "issuer": "root",
        "allowed_domains": ["example.com"],
        "allow_bare_domains": False,
        "allow_subdomains": True,
        "allow_glob_domains": False,
        "allow_any_name": False,
        "key_type": "ML-DSA-65",
        "max_ttl": 86400,
        "ttl": None,
        "key_usage": ["digital_signature"],
        "server_flag": True,
        "client_flag": False,
    }
    keystore.put("pki/roles/old", json.dumps(legacy).encode())
    role = engine.get_role("old")
    assert (role.allow_ip_sans, role.allowed_uri_sans, role.ext_key_usage, role.ext_key_usage_oids) == (
        False,
        (),
        (),
        (),
    )
    assert _ekus(engine.issue("old", "www.example.com").certificate) == [ExtendedKeyUsageOID.SERVER_AUTH]
