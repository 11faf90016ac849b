"""PKI over HTTP with hvac: CAs, intermediates, roles, issuance, CSR signing, revocation, CRLs, tidy.

The ML-DSA leaf's chain is checked by pyca/cryptography's RFC 5280 path validation.
"""

from __future__ import annotations

import datetime
from typing import cast

import hvac
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hvac.exceptions import InvalidPath, InvalidRequest

from tests.pki.x509check import verify_server_chain
from tests.server.conftest import Server


def _cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


@pytest.fixture(scope="module")
def ml_dsa_pki(dev_server: Server) -> dict[str, str]:
    """pki/ with an ML-DSA-87 root ("root"), an ML-DSA-65 intermediate ("int") and a role "web"."""
    client = dev_server.client()
    pki = client.secrets.pki
    root = pki.generate_root(
        "internal",
        "Server Test Root",
        extra_params={"key_type": "mldsa", "key_bits": 87, "issuer_name": "root", "ttl": "87600h"},
    )["data"]
    assert "private_key" not in root and root["issuer_name"] == "root"
    csr = pki.generate_intermediate(
        "internal",
        "Server Test Issuing CA",
        extra_params={"key_type": "mldsa", "key_bits": 65, "issuer_name": "int"},
    )["data"]["csr"]
    signed = pki.sign_intermediate(
        csr, "Server Test Issuing CA", extra_params={"issuer_ref": "root", "ttl": "8760h"}
    )
    assert signed["data"]["serial_number"]
    imported = pki.set_signed_intermediate(signed["data"]["certificate"])["data"]
    assert imported["imported_issuers"] == ["int"]
    pki.create_or_update_role(
        "web",
        extra_params={
            "issuer_ref": "int",
            "allowed_domains": ["example.com"],
            "allow_subdomains": True,
            "key_type": "mldsa",
            "key_bits": 44,
            "max_ttl": "72h",
            "key_usage": ["DigitalSignature"],
        },
    )
    return {"root": root["certificate"], "intermediate": signed["data"]["certificate"]}


def test_ml_dsa_leaf_passes_pyca_path_validation(client: hvac.Client, ml_dsa_pki: dict[str, str]) -> None:
    issued = client.secrets.pki.generate_certificate(
        "web", "www.example.com", extra_params={"alt_names": "api.example.com", "ttl": "24h"}
    )["data"]
    leaf = _cert(issued["certificate"])
    assert "BEGIN PRIVATE KEY" in issued["private_key"] and issued["private_key_type"] == "ml-dsa-44"
    assert [_cert(p) for p in issued["ca_chain"]] == [
        _cert(ml_dsa_pki["intermediate"]),
        _cert(ml_dsa_pki["root"]),
    ]
    chain = verify_server_chain(
        leaf,
        [_cert(ml_dsa_pki["intermediate"])],
        _cert(ml_dsa_pki["root"]),
        "api.example.com",
        datetime.datetime.now(datetime.UTC),
    )
    assert chain[-1] == _cert(ml_dsa_pki["root"])
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"www.example.com", "api.example.com"}


def test_role_refuses_names_and_unsupported_parameters(
    client: hvac.Client, ml_dsa_pki: dict[str, str]
) -> None:
    pki = client.secrets.pki
    with pytest.raises(InvalidRequest):
        pki.generate_certificate("web", "www.example.org")
    with pytest.raises(InvalidRequest):  # the role does not allow IP SANs
        pki.generate_certificate("web", "www.example.com", extra_params={"ip_sans": "10.0.0.1"})
    with pytest.raises(InvalidRequest):  # not in the engine: refused, never ignored
        pki.generate_certificate("web", "www.example.com", extra_params={"other_sans": "1.2.3.4;UTF8:x"})
    with pytest.raises(InvalidRequest):
        pki.generate_certificate("web", "www.example.com", extra_params={"ttl": "9999h"})  # over max_ttl
    role = pki.read_role("web")["data"]
    assert role["key_type"] == "ml-dsa-44" and role["key_bits"] == 44 and role["issuer_ref"] == "int"
    assert role["allowed_domains"] == ["example.com"] and role["key_usage"] == ["DigitalSignature"]
    assert "web" in pki.list_roles()["data"]["keys"]


def test_ip_and_uri_sans_pass_through_to_the_engine(client: hvac.Client, ml_dsa_pki: dict[str, str]) -> None:
    pki = client.secrets.pki
    pki.create_or_update_role(
        "mtls",
        extra_params={
            "issuer_ref": "int",
            "allowed_domains": "svc.example.com",
            "allow_subdomains": True,
            "allow_ip_sans": True,
            "allowed_uri_sans": "spiffe://example.com/*",
            "ext_key_usage": ["ClientAuth"],
            "server_flag": False,
            "client_flag": False,
        },
    )
    issued = pki.generate_certificate(
        "mtls",
        "api.svc.example.com",
        extra_params={"ip_sans": "10.1.2.3", "uri_sans": "spiffe://example.com/api"},
    )["data"]
    leaf = _cert(issued["certificate"])
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    assert sans.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://example.com/api"]
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
    role = pki.read_role("mtls")["data"]
    assert role["allow_ip_sans"] is True and role["allowed_uri_sans"] == ["spiffe://example.com/*"]
    with pytest.raises(InvalidRequest):
        pki.generate_certificate("mtls", "api.svc.example.com", extra_params={"uri_sans": "spiffe://other/x"})


def test_sign_csr_revoke_crl_cert_list_tidy(
    dev_server: Server, client: hvac.Client, ml_dsa_pki: dict[str, str]
) -> None:
    pki = client.secrets.pki
    pki.create_or_update_role(
        "csr",
        extra_params={
            "issuer_ref": "int",
            "allowed_domains": "example.com",
            "allow_subdomains": True,
            "key_type": "any",
        },
    )
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "db.example.com")]))
        .sign(key, hashes.SHA256())
    )
    csr_pem = request.public_bytes(serialization.Encoding.PEM).decode("ascii")
    signed = pki.sign_certificate("csr", csr_pem, "db.example.com", extra_params={"ttl": "1h"})["data"]
    assert "private_key" not in signed
    leaf = _cert(signed["certificate"])
    assert (
        cast(ec.EllipticCurvePublicKey, leaf.public_key()).public_numbers()
        == key.public_key().public_numbers()
    )
    serial = signed["serial_number"]
    assert serial in pki.list_certificates()["data"]["keys"]
    assert pki.read_certificate(serial)["data"]["revocation_time"] == 0
    revoked = pki.revoke_certificate(serial)["data"]
    assert revoked["revocation_time"] > 0
    assert pki.read_certificate(serial)["data"]["revocation_time"] == revoked["revocation_time"]
    client.adapter.post("/v1/pki/config/issuers", json={"default": "int"})
    crl = x509.load_pem_x509_crl(pki.read_crl().encode("ascii"))
    assert crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None
    assert _cert(pki.read_ca_certificate()) == _cert(ml_dsa_pki["intermediate"])
    chain = pki.read_ca_certificate_chain()
    assert chain.count("BEGIN CERTIFICATE") == 2
    # CA material is public: no token needed.
    assert dev_server.request("GET", "pki/ca/pem", token=None).status_code == 200
    assert dev_server.request("GET", f"pki/cert/{serial}", token=None).json()["data"]["certificate"]
    r = dev_server.request("POST", "pki/tidy", json={"tidy_cert_store": True, "safety_buffer": "72h"})
    assert r.status_code == 202 and r.json()["data"]["removed_certificates"] == 0
    with pytest.raises(InvalidPath):
        pki.read_certificate("01:02:03")


def test_exported_root_returns_its_key_once(dev_server: Server, client: hvac.Client) -> None:
    client.sys.enable_secrets_engine("pki", path="pki-exported")
    root = client.secrets.pki.generate_root(
        "exported",
        "Exported Root",
        extra_params={"key_type": "ed25519", "issuer_name": "r"},
        mount_point="pki-exported",
    )["data"]
    key = serialization.load_pem_private_key(root["private_key"].encode("ascii"), password=None)
    raw = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    certified = _cert(root["certificate"]).public_key()
    assert key.public_key().public_bytes(*raw) == certified.public_bytes(*raw)
    read = dev_server.request("GET", "pki-exported/cert/ca").json()["data"]
    assert "private_key" not in read
    with pytest.raises(InvalidRequest):
        client.secrets.pki.generate_root("kms", "x", mount_point="pki-exported")
    client.sys.disable_secrets_engine("pki-exported")
