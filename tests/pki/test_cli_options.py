"""The pki command line's IP/URI SAN, EKU and CRL rotation options (the engine does the checking)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from secretumvault.cli import main
from secretumvault.cli._store import PASSPHRASE_ENV, SHARES_ENV
from tests.conftest import sv


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[str]:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.delenv(SHARES_ENV, raising=False)
    db = tmp_path / "vault.db"
    assert main(["init", "--store", str(db), "--shares", "3", "--threshold", "2"]) == 0
    share_file = tmp_path / "shares.txt"
    share_file.write_text("\n".join(capsys.readouterr().out.splitlines()[1:]) + "\n")
    store = ["--store", str(db), "--share-file", str(share_file)]
    assert sv("pki root root --common-name Root --key-type ECDSA-P256", *store) == 0
    role = "pki role mtls --issuer root --allowed-domains svc.example.org --allow-subdomains"
    role += " --key-type ECDSA-P256"
    options = [
        "--allow-ip-sans",
        "--allowed-uri-sans",
        "spiffe://example.org/*",
        "--ext-key-usage",
        "CodeSigning",
    ]
    assert sv(role, *options, *store) == 0
    capsys.readouterr()
    return store


def test_issue_with_ip_and_uri_sans(
    vault: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    outputs = ["--cert-out", str(cert), "--key-out", str(key)]
    names = ["--ip-sans", "10.0.0.1,2001:db8::1", "--uri-sans", "spiffe://example.org/api"]
    assert sv("pki issue mtls api.svc.example.org", *names, *outputs, *vault) == 0
    leaf = x509.load_pem_x509_certificate(cert.read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.0.0.1"),
        ipaddress.ip_address("2001:db8::1"),
    ]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://example.org/api"]
    eku = list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert ExtendedKeyUsageOID.CODE_SIGNING in eku
    capsys.readouterr()
    refused = sv("pki issue mtls api.svc.example.org --uri-sans spiffe://other.org/x", *outputs, *vault)
    assert refused == 2  # a refused request is a usage error
    assert "allowed_uri_sans" in capsys.readouterr().err


def test_crl_is_kept_until_rotated(
    vault: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def number(*more: str) -> int:
        out = tmp_path / "crl.pem"
        assert sv("pki crl root --out", str(out), *more, *vault) == 0
        crl = x509.load_pem_x509_crl(out.read_bytes())
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number

    assert number() == number() == 1
    assert number("--rotate") == 2
    assert number() == 2
