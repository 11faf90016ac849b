"""Hostile inputs that reach the library over HTTP (issues 22 and 29): a 400 with the library's message.

Each used to escape the library as a bare Python or pyca/cryptography
exception (a 500): an over-padded transit ciphertext, a URI SAN with dot
segments, a name attribute encoded as BIT STRING, an Ed448 key of 32 bytes,
a CA common name of multibyte characters. Each failing request must leave
the store byte-for-byte unchanged, and the same path must work afterwards.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from secretumvault.keystore import SQLiteStorage
from tests.keystore.conftest import snapshot
from tests.pki.helpers import (
    BAD_KEYS,
    bit_string_ca,
    bit_string_csr,
    build_csr,
    ca_bundle,
    name,
    pem_private_key,
    self_signed_ca,
)
from tests.server.conftest import Server


@pytest.fixture(scope="module")
def pki(dev_server: Server) -> Server:
    """The dev server's pki/ with an ECDSA root "root" and a role allowing SPIFFE IDs under /ns/."""
    ok(
        dev_server.request(
            "POST",
            "pki/root/generate/internal",
            json={"common_name": "Root", "key_type": "ec", "issuer_name": "root"},
        )
    )
    role = {
        "allowed_domains": "example.com",
        "allow_subdomains": True,
        "allowed_uri_sans": "spiffe://example.com/ns/*",
        "key_type": "any",
    }
    ok(dev_server.request("POST", "pki/roles/web", json=role))
    ok(dev_server.request("POST", "transit/keys/aes", json={"type": "aes256-gcm96"}))
    return dev_server


@pytest.fixture
def store(dev_server: Server) -> Iterator[SQLiteStorage]:
    """The dev server's own store, opened beside it to read the raw records."""
    directory = next(line for line in dev_server.banner if line.startswith("Store: ")).split()[1]
    opened = SQLiteStorage(Path(directory) / "dev.db")
    yield opened
    opened.close()


def ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code in (200, 204), response.text
    return response.json() if response.content else {}


def refused(store: SQLiteStorage, send: Callable[[], requests.Response], message: str) -> None:
    """``send()`` answers 400 with ``message`` in its errors, and writes nothing."""
    before = snapshot(store)
    response = send()
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert any(message in e for e in errors), errors
    assert snapshot(store) == before


def _csr_pem(der: bytes) -> str:
    return x509.load_der_x509_csr(der).public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize("path", ["transit/decrypt/aes", "transit/rewrap/aes"])
def test_over_padded_transit_ciphertext(pki: Server, store: SQLiteStorage, path: str) -> None:
    refused(
        store,
        lambda: pki.request("POST", path, json={"ciphertext": "vault:v1:AAAA===="}),
        "ciphertext has non-canonical base64",
    )
    plaintext = base64.b64encode(b"still works").decode()
    sealed = ok(pki.request("POST", "transit/encrypt/aes", json={"plaintext": plaintext}))
    ciphertext = sealed["data"]["ciphertext"]
    opened = ok(pki.request("POST", "transit/decrypt/aes", json={"ciphertext": ciphertext}))
    assert opened["data"]["plaintext"] == plaintext


@pytest.mark.parametrize(
    "uri",
    ["spiffe://example.com/ns/../../x", "spiffe://example.com/ns/%2e%2E/x", "spiffe://example.com/ns/./x"],
)
def test_uri_san_with_dot_segments(pki: Server, store: SQLiteStorage, uri: str) -> None:
    csr = build_csr(name("www.example.com"), key=ec.generate_private_key(ec.SECP256R1())).decode()
    body = {"csr": csr, "common_name": "www.example.com", "uri_sans": uri}
    refused(store, lambda: pki.request("POST", "pki/sign/web", json=body), "path segment")
    body["uri_sans"] = "spiffe://example.com/ns/x"
    ok(pki.request("POST", "pki/sign/web", json=body))


def test_csr_with_a_bit_string_name_attribute(pki: Server, store: SQLiteStorage) -> None:
    csr = _csr_pem(bit_string_csr())
    message = "not a well-formed PKCS#10 request"
    refused(store, lambda: pki.request("POST", "pki/sign/web", json={"csr": csr}), message)
    refused(store, lambda: pki.request("POST", "pki/sign-verbatim/web", json={"csr": csr}), message)
    refused(
        store,
        lambda: pki.request("POST", "pki/root/sign-intermediate", json={"csr": csr, "use_csr_values": True}),
        message,
    )
    good = build_csr(name("www.example.com")).decode()
    ok(pki.request("POST", "pki/sign/web", json={"csr": good, "common_name": "www.example.com"}))


def test_ca_bundle_with_a_bit_string_name_attribute(pki: Server, store: SQLiteStorage) -> None:
    key, der = bit_string_ca()
    pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()
    body = {"pem_bundle": ca_bundle(key) + pem, "issuer_name": "bits"}
    refused(
        store, lambda: pki.request("POST", "pki/config/ca", json=body), "not a well-formed X.509 certificate"
    )


@pytest.mark.parametrize("key_der", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_ca_bundle_with_a_key_pyca_cannot_load(pki: Server, store: SQLiteStorage, key_der: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed_ca(key, name("Imported"), datetime.datetime.now(datetime.UTC))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    body = {"pem_bundle": pem_private_key(key_der) + cert_pem, "issuer_name": "imported"}
    refused(
        store, lambda: pki.request("POST", "pki/config/ca", json=body), "the private key block does not parse"
    )


# pyca/cryptography warns (UTF-8 bytes over 64) each time such a name is parsed.
@pytest.mark.filterwarnings("ignore:Attribute's length must be:UserWarning")
def test_multibyte_ca_common_names(pki: Server, store: SQLiteStorage) -> None:
    refused(
        store,
        lambda: pki.request(
            "POST", "pki/root/generate/internal", json={"common_name": "é" * 65, "issuer_name": "long"}
        ),
        "common_name must be 1 to 64 characters, not 65",
    )
    body = {"common_name": "é" * 40, "issuer_name": "accented", "key_type": "ec"}
    root = ok(pki.request("POST", "pki/root/generate/internal", json=body))
    cert = x509.load_pem_x509_certificate(root["data"]["certificate"].encode())
    assert cert.subject.rfc4514_string() == "CN=" + "é" * 40
    csr = build_csr(name("Intermediate")).decode()
    signed = ok(
        pki.request(
            "POST",
            "pki/root/sign-intermediate",
            json={"csr": csr, "common_name": "ü" * 64, "issuer_ref": "root"},
        )
    )
    issued = x509.load_pem_x509_certificate(signed["data"]["certificate"].encode())
    assert issued.subject.rfc4514_string() == "CN=" + "ü" * 64


def test_set_signed_with_a_bit_string_name_attribute(pki: Server, store: SQLiteStorage) -> None:
    _, der = bit_string_ca()
    pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()
    refused(
        store,
        lambda: pki.request("POST", "pki/intermediate/set-signed", json={"certificate": pem}),
        "not a well-formed X.509 certificate",
    )
