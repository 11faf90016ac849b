"""PKI over HTTP with hvac: an SLH-DSA root CA (RFC 9909) and intermediate in two mounts, issuing and
signing composite ML-DSA leaves (draft-ietf-lamps-pq-composite-sigs-19) and SLH-DSA leaves, validated
end to end; refused key types change nothing in the store."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from secretumvault import pqc
from secretumvault.pki import verify_chain
from secretumvault.pki.builders import build_csr
from secretumvault.pki.keys import generate_key
from tests.pki.test_slh_dsa import RFC_9909_OIDS, independently_verifies
from tests.server.conftest import Server, start_file_server, unchanged
from tests.test_composite import DRAFT

pytestmark = pytest.mark.skipif(
    "oqs" not in pqc.available_backends(), reason="SLH-DSA needs the native core (pyca has no SLH-DSA)"
)

ROOT, INTERMEDIATE, COMPOSITE = "SLH-DSA-SHA2-128f", "SLH-DSA-SHAKE-128f", "MLDSA65-ECDSA-P256-SHA512"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(tmp_path_factory.mktemp("vault-slh-pki"))
    yield started, store
    started.stop()


def _cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


@pytest.fixture(scope="module")
def mounts(served: tuple[Server, Path]) -> tuple[x509.Certificate, x509.Certificate]:
    """An SLH-DSA root in "slh" and an SLH-DSA intermediate in "slh_int", set up as Vault's tutorial does."""
    client = served[0].client()
    client.sys.enable_secrets_engine("pki", path="slh")
    client.sys.enable_secrets_engine("pki", path="slh_int")
    pki = client.secrets.pki
    root = pki.generate_root(
        "internal", "SLH Root", extra_params={"key_type": "slh-dsa-sha2-128f"}, mount_point="slh"
    )["data"]
    csr = pki.generate_intermediate(
        "internal", "SLH Issuing", extra_params={"key_type": INTERMEDIATE}, mount_point="slh_int"
    )["data"]["csr"]
    signed = pki.sign_intermediate(csr, "SLH Issuing", mount_point="slh")["data"]
    pki.set_signed_intermediate(signed["certificate"], mount_point="slh_int")
    return _cert(signed["certificate"]), _cert(root["certificate"])


def test_an_slh_dsa_root_and_intermediate_issue_composite_leaves(
    served: tuple[Server, Path], mounts: tuple[x509.Certificate, x509.Certificate]
) -> None:
    intermediate, root = mounts
    assert root.signature_algorithm_oid.dotted_string == RFC_9909_OIDS[ROOT]
    assert intermediate.public_key_algorithm_oid.dotted_string == RFC_9909_OIDS[INTERMEDIATE]
    assert independently_verifies(intermediate, root, ROOT)
    pki = served[0].client().secrets.pki
    pki.create_or_update_role(
        "web",
        {"allow_any_name": True, "key_type": "mldsa65-ecdsa-p256-sha512"},
        mount_point="slh_int",
    )
    issued = pki.generate_certificate("web", "www.example.com", mount_point="slh_int")["data"]
    leaf = _cert(issued["certificate"])
    assert leaf.public_key_algorithm_oid.dotted_string == DRAFT[COMPOSITE].oid
    assert [_cert(c) for c in issued["ca_chain"]][:1] == [intermediate]
    assert issued["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert independently_verifies(leaf, intermediate, INTERMEDIATE)
    path = verify_chain([leaf, intermediate], root, server_name="www.example.com")
    assert [c.subject.rfc4514_string() for c in path] == [
        "CN=www.example.com",
        "CN=SLH Issuing",
        "CN=SLH Root",
    ]

    # sign/:role with a CSR for a composite key made outside the server.
    key = generate_key(COMPOSITE)
    csr = build_csr(x509.Name.from_rfc4514_string("CN=api.example.com"), key)
    pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + _b64_lines(csr) + "-----END CERTIFICATE REQUEST-----\n"
    signed = pki.sign_certificate("web", pem, "api.example.com", mount_point="slh_int")["data"]
    leaf = _cert(signed["certificate"])
    assert key.public_key.spki in leaf.tbs_certificate_bytes
    verify_chain([leaf, intermediate], root, server_name="api.example.com")

    # And an SLH-DSA leaf, by Vault Enterprise-style lower-case name.
    pki.create_or_update_role(
        "slh", {"allow_any_name": True, "key_type": "slh-dsa-sha2-128f"}, mount_point="slh_int"
    )
    role = pki.read_role("slh", mount_point="slh_int")["data"]
    assert role["key_type"] == "SLH-DSA-SHA2-128f" and role["key_bits"] == 0
    plain = _cert(
        pki.generate_certificate("slh", "s.example.com", mount_point="slh_int")["data"]["certificate"]
    )
    assert plain.public_key_algorithm_oid.dotted_string == RFC_9909_OIDS["SLH-DSA-SHA2-128f"]
    verify_chain([plain, intermediate], root, server_name="s.example.com")


def _b64_lines(der: bytes) -> str:
    text = base64.b64encode(der).decode()
    return "".join(text[i : i + 64] + "\n" for i in range(0, len(text), 64))


@pytest.mark.parametrize(
    ("mount", "body", "message"),
    [
        ("bits", {"key_type": "slh-dsa-sha2-128f", "key_bits": 128}, "takes no key_bits"),
        ("unknown", {"key_type": "slh-dsa-sha2-129s"}, "slh-dsa-sha2-128s ... slh-dsa-shake-256f"),
    ],
)
def test_refused_slh_dsa_key_types_change_nothing(
    served: tuple[Server, Path], mount: str, body: dict[str, object], message: str
) -> None:
    server, store = served
    server.client().sys.enable_secrets_engine("pki", path=mount)
    response = unchanged(
        store,
        lambda: server.request("POST", f"{mount}/root/generate/internal", json={"common_name": "x", **body}),
    )
    assert response.status_code == 400, response.text
    assert any(message in m for m in response.json()["errors"]), response.text
