"""PKI settings and revocation services over HTTP (issue 18's features, Vault's names):
config/urls, config/crl with delta CRLs, crl/rotate, OCSP, config/ca import, sign-verbatim."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator
from typing import cast

import hvac
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from tests.server.conftest import Server

MOUNT = "pki-services"


def _cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


@pytest.fixture(scope="module")
def mount(dev_server: Server) -> Iterator[hvac.Client]:
    client = dev_server.client()
    client.sys.enable_secrets_engine("pki", path=MOUNT)
    client.secrets.pki.generate_root(
        "internal", "Services Root", extra_params={"key_type": "ec", "issuer_name": "root"}, mount_point=MOUNT
    )
    client.secrets.pki.create_or_update_role(
        "svc",
        extra_params={"allowed_domains": "example.net", "allow_subdomains": True, "key_type": "ec"},
        mount_point=MOUNT,
    )
    yield client
    client.sys.disable_secrets_engine(MOUNT)


def test_urls_are_written_into_new_certificates(mount: hvac.Client) -> None:
    urls = {
        "issuing_certificates": ["http://pki.example.net/v1/pki-services/ca"],
        "crl_distribution_points": ["http://pki.example.net/v1/pki-services/crl"],
        "ocsp_servers": ["http://pki.example.net/v1/pki-services/ocsp"],
        "delta_crl_distribution_points": ["http://pki.example.net/v1/pki-services/crl/delta"],
    }
    mount.secrets.pki.set_urls(urls, mount_point=MOUNT)
    assert mount.secrets.pki.read_urls(mount_point=MOUNT)["data"] == urls
    leaf = _cert(
        mount.secrets.pki.generate_certificate("svc", "a.example.net", mount_point=MOUNT)["data"][
            "certificate"
        ]
    )
    aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert {d.access_location.value for d in aia} == {
        urls["issuing_certificates"][0],
        urls["ocsp_servers"][0],
    }
    points = leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [p.full_name[0].value for p in points] == urls["crl_distribution_points"]
    freshest = leaf.extensions.get_extension_for_class(x509.FreshestCRL).value
    assert [p.full_name[0].value for p in freshest] == urls["delta_crl_distribution_points"]


def test_delta_crls_rotate_and_ocsp(dev_server: Server, mount: hvac.Client) -> None:
    mount.adapter.post(f"/v1/{MOUNT}/config/crl", json={"enable_delta": True, "expiry": "48h"})
    assert mount.adapter.get(f"/v1/{MOUNT}/config/crl")["data"]["enable_delta"] is True
    issued = mount.secrets.pki.generate_certificate("svc", "b.example.net", mount_point=MOUNT)["data"]
    leaf, root = _cert(issued["certificate"]), _cert(issued["issuing_ca"])
    before = mount.secrets.pki.read_crl(mount_point=MOUNT)  # the complete CRL the delta builds on
    mount.secrets.pki.revoke_certificate(issued["serial_number"], mount_point=MOUNT)
    assert mount.secrets.pki.read_crl(mount_point=MOUNT) == before  # kept: the revocation went to the delta
    delta = x509.load_pem_x509_crl(dev_server.request("GET", f"{MOUNT}/crl/delta/pem", token=None).content)
    assert delta.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None
    assert delta.is_signature_valid(cast(ec.EllipticCurvePublicKey, root.public_key()))
    assert mount.adapter.get(f"/v1/{MOUNT}/crl/rotate")["data"]["success"] is True
    complete = x509.load_pem_x509_crl(mount.secrets.pki.read_crl(mount_point=MOUNT).encode("ascii"))
    assert complete.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None

    good = _cert(
        mount.secrets.pki.generate_certificate("svc", "c.example.net", mount_point=MOUNT)["data"][
            "certificate"
        ]
    )
    for cert, expected in ((leaf, ocsp.OCSPCertStatus.REVOKED), (good, ocsp.OCSPCertStatus.GOOD)):
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, root, hashes.SHA256()).build()
        der = request.public_bytes(serialization.Encoding.DER)
        posted = requests.post(
            f"{dev_server.url}/v1/{MOUNT}/ocsp",
            data=der,
            headers={"Content-Type": "application/ocsp-request"},
            timeout=30,
        )
        got = requests.get(f"{dev_server.url}/v1/{MOUNT}/ocsp/{base64.b64encode(der).decode()}", timeout=30)
        for response in (posted, got):
            assert (
                response.status_code == 200
                and response.headers["content-type"] == "application/ocsp-response"
            )
            answer = ocsp.load_der_ocsp_response(response.content)
            assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
            assert answer.certificate_status is expected and answer.serial_number == cert.serial_number
            cast(ec.EllipticCurvePublicKey, root.public_key()).verify(
                answer.signature,
                answer.tbs_response_bytes,
                ec.ECDSA(cast(hashes.HashAlgorithm, answer.signature_hash_algorithm)),
            )


def test_import_an_existing_ca_and_issue_from_it(dev_server: Server, client: hvac.Client) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Legacy Vault Root")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    bundle = (
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        + cert.public_bytes(serialization.Encoding.PEM).decode()
    )
    client.sys.enable_secrets_engine("pki", path="pki-imported")
    try:
        imported = client.secrets.pki.submit_ca_information(bundle, mount_point="pki-imported")
        assert imported["data"]["imported_issuers"] == ["imported"]
        client.secrets.pki.create_or_update_role(
            "web",
            extra_params={"allowed_domains": "example.org", "allow_subdomains": True, "key_type": "ec"},
            mount_point="pki-imported",
        )
        leaf = _cert(
            client.secrets.pki.generate_certificate("web", "www.example.org", mount_point="pki-imported")[
                "data"
            ]["certificate"]
        )
        assert leaf.issuer == name
        leaf.verify_directly_issued_by(cert)
        assert "BEGIN PRIVATE KEY" not in dev_server.request("GET", "pki-imported/cert/ca").text
    finally:
        client.sys.disable_secrets_engine("pki-imported")


def test_sign_verbatim_keeps_the_subject(mount: hvac.Client) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Net"),
            x509.NameAttribute(NameOID.COMMON_NAME, "d.example.net"),
        ]
    )
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("d.example.net")]), critical=False)
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    signed = mount.adapter.post(f"/v1/{MOUNT}/sign-verbatim/svc", json={"csr": csr, "ttl": "1h"})["data"]
    assert _cert(signed["certificate"]).subject == subject
    with pytest.raises(hvac.exceptions.InvalidRequest):  # no role: refused here
        mount.adapter.post(f"/v1/{MOUNT}/sign-verbatim", json={"csr": csr})
