"""Vault's PKI as its clients use it (issue 23): defaults, the two-mount root + intermediate setup,
``format``, ``LIST certs``, importing an expired CA, unknown roles, ``[server] pq_defaults``.

Driven with hvac and raw HTTP against real servers started from a configuration file, so each
refused request can be checked against the raw store.
"""

from __future__ import annotations

import base64
import datetime
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import hvac
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa
from cryptography.x509.oid import NameOID

from tests.server.conftest import Server, start_file_server, start_server, write_config
from tests.server.conftest import unchanged as store_unchanged


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(tmp_path_factory.mktemp("vault-pki"))
    yield started, store
    started.stop()


@pytest.fixture
def server(served: tuple[Server, Path]) -> Server:
    return served[0]


@pytest.fixture
def unchanged(served: tuple[Server, Path]) -> Callable[[Callable[[], requests.Response]], requests.Response]:
    """Send a request and check that the raw store is byte for byte as before."""
    return functools.partial(store_unchanged, served[1])


_mounts = iter(range(1_000_000))


def _mount(client: hvac.Client, prefix: str = "pki") -> str:
    path = f"{prefix}{next(_mounts)}"
    client.sys.enable_secrets_engine("pki", path=path)
    return path


def _cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _pems(bundle: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(bundle.encode())


def _error(response: requests.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert any(text in message for message in response.json()["errors"]), response.text


def _csr(cn: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


# -- item 7: Vault's defaults ----------------------------------------------------------------------


def test_a_root_and_a_role_with_no_key_type_are_rsa_2048(server: Server) -> None:
    client = server.client()
    mount = _mount(client)
    root = client.secrets.pki.generate_root("exported", "Default Root", mount_point=mount)["data"]
    key = _cert(root["certificate"]).public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    assert root["private_key_type"] == "rsa"
    exported = serialization.load_pem_private_key(root["private_key"].encode(), None)
    assert isinstance(exported, rsa.RSAPrivateKey) and exported.public_key().public_numbers() == (
        key.public_numbers()
    )

    client.secrets.pki.create_or_update_role(
        "web", {"allowed_domains": ["example.com"], "allow_subdomains": True}, mount_point=mount
    )
    role = client.secrets.pki.read_role("web", mount_point=mount)["data"]
    assert (role["key_type"], role["key_bits"]) == ("rsa", 2048)
    issued = client.secrets.pki.generate_certificate("web", "www.example.com", mount_point=mount)["data"]
    leaf = _cert(issued["certificate"])
    leaf_key = leaf.public_key()
    assert isinstance(leaf_key, rsa.RSAPublicKey) and leaf_key.key_size == 2048
    assert issued["private_key_type"] == "rsa"
    leaf.verify_directly_issued_by(_cert(root["certificate"]))


@pytest.mark.parametrize(
    ("key_type", "key_bits", "expected", "size"),
    [
        ("rsa", 0, rsa.RSAPublicKey, 2048),
        ("rsa", 2048, rsa.RSAPublicKey, 2048),
        ("rsa", 3072, rsa.RSAPublicKey, 3072),
        ("rsa", 4096, rsa.RSAPublicKey, 4096),
        ("ec", 0, ec.EllipticCurvePublicKey, 256),
        ("ec", 224, ec.EllipticCurvePublicKey, 224),
        ("ec", 256, ec.EllipticCurvePublicKey, 256),
        ("ec", 384, ec.EllipticCurvePublicKey, 384),
        ("ec", 521, ec.EllipticCurvePublicKey, 521),
        ("ed25519", 0, ed25519.Ed25519PublicKey, 0),
    ],
)
def test_vaults_key_types_and_bits(
    server: Server, key_type: str, key_bits: int, expected: type, size: int
) -> None:
    client = server.client()
    mount = _mount(client)
    response = server.request(
        "POST",
        f"{mount}/root/generate/internal",
        json={"common_name": f"{key_type} root", "key_type": key_type, "key_bits": key_bits},
    )
    assert response.status_code == 200, response.text
    root = _cert(response.json()["data"]["certificate"])
    assert isinstance(root.public_key(), expected)
    if size:
        assert root.public_key().key_size == size  # type: ignore[union-attr]
    root.verify_directly_issued_by(root)
    # A role of the same type issues leaves of that type, and reads back in Vault's names.
    role = {"allow_any_name": True, "key_type": key_type, "key_bits": key_bits}
    assert server.request("POST", f"{mount}/roles/r", json=role).status_code in (200, 204)
    data = server.request("GET", f"{mount}/roles/r").json()["data"]
    assert data["key_type"] == key_type and data["key_bits"] == size
    issued = server.request("POST", f"{mount}/issue/r", json={"common_name": "a.example.com"}).json()["data"]
    assert issued["private_key_type"] == key_type
    leaf = _cert(issued["certificate"])
    assert isinstance(leaf.public_key(), expected)
    leaf.verify_directly_issued_by(root)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"key_type": "rsa", "key_bits": 1024}, "key_type rsa takes key_bits 2048, 3072 or 4096"),
        ({"key_type": "rsa", "key_bits": 8192}, "8192 is refused"),
        ({"key_type": "ec", "key_bits": 192}, "key_type ec takes key_bits 224, 256, 384 or 521"),
        ({"key_type": "ed25519", "key_bits": 256}, "ed25519 takes no key_bits"),
        ({"key_type": "dsa"}, "unknown key_type 'dsa'"),
    ],
)
def test_refused_key_types_change_nothing(
    server: Server,
    unchanged: Callable[[Callable[[], requests.Response]], requests.Response],
    body: dict[str, object],
    message: str,
) -> None:
    mount = _mount(server.client())
    for path in (f"{mount}/root/generate/internal", f"{mount}/intermediate/generate/internal"):
        send = functools.partial(server.request, "POST", path, json={"common_name": "x", **body})
        _error(unchanged(send), 400, message)


def test_key_bits_alone_is_rsa_as_in_vault(server: Server) -> None:
    mount = _mount(server.client())
    response = server.request(
        "POST", f"{mount}/root/generate/internal", json={"common_name": "x", "key_bits": 3072}
    )
    assert response.status_code == 200, response.text
    key = _cert(response.json()["data"]["certificate"]).public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 3072


def test_pq_defaults_make_ml_dsa_65_the_default(tmp_path: Path) -> None:
    started, _ = start_file_server(tmp_path, "pq_defaults = true")
    try:
        client = started.client()
        mount = _mount(client)
        root = client.secrets.pki.generate_root("exported", "PQ Root", mount_point=mount)["data"]
        assert isinstance(_cert(root["certificate"]).public_key(), mldsa.MLDSA65PublicKey)
        assert root["private_key_type"] == "ml-dsa-65"
        client.secrets.pki.create_or_update_role("any", {"allow_any_name": True}, mount_point=mount)
        role = client.secrets.pki.read_role("any", mount_point=mount)["data"]
        assert (role["key_type"], role["key_bits"]) == ("ml-dsa-65", 65)
        issued = client.secrets.pki.generate_certificate("any", "pq.example.com", mount_point=mount)
        assert isinstance(_cert(issued["data"]["certificate"]).public_key(), mldsa.MLDSA65PublicKey)
        # Vault's types stay one parameter away.
        classic = started.request(
            "POST", f"{mount}/roles/classic", json={"allow_any_name": True, "key_type": "rsa"}
        )
        assert classic.status_code in (200, 204)
        data = started.request("GET", f"{mount}/roles/classic").json()["data"]
        assert (data["key_type"], data["key_bits"]) == ("rsa", 2048)
    finally:
        started.stop()


def test_pq_defaults_must_be_a_boolean(tmp_path: Path) -> None:
    config = write_config(tmp_path / "server.toml", tmp_path / "vault.db", extra='pq_defaults = "yes"')
    with pytest.raises(RuntimeError, match="pq_defaults"):
        start_server(["-c", str(config)], tmp_path / "server.log")


# -- item 6: two mounts, Vault's root + intermediate setup --------------------------------------------


def _two_mounts(client: hvac.Client) -> tuple[str, str, x509.Certificate]:
    root_mount, int_mount = _mount(client, "root"), _mount(client, "int")
    root = client.secrets.pki.generate_root("internal", "Example Root", mount_point=root_mount)["data"]
    return root_mount, int_mount, _cert(root["certificate"])


def test_root_and_intermediate_in_two_mounts_with_hvac(server: Server) -> None:
    """hvac's own test_set_signed_intermediate and test_sign_intermediate, and Vault's tutorial."""
    client = server.client()
    root_mount, int_mount, root = _two_mounts(client)
    csr = client.secrets.pki.generate_intermediate("internal", "Example Intermediate", mount_point=int_mount)[
        "data"
    ]["csr"]
    # common_name with use_csr_values: Vault ignores common_name, the CSR's subject wins.
    signed = client.secrets.pki.sign_intermediate(
        csr, "Some Other Name", extra_params={"use_csr_values": True}, mount_point=root_mount
    )["data"]
    intermediate = _cert(signed["certificate"])
    assert intermediate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Example Intermediate"
    intermediate.verify_directly_issued_by(root)
    assert _cert(signed["issuing_ca"]) == root and [_cert(c) for c in signed["ca_chain"]] == [root]

    answer = client.secrets.pki.set_signed_intermediate(signed["certificate"], mount_point=int_mount)
    assert len(answer["data"]["imported_issuers"]) == 1
    # The intermediate mount now issues; its own certificate is its CA (no parent certificate was given).
    assert _cert(client.secrets.pki.read_ca_certificate(mount_point=int_mount)) == intermediate
    client.secrets.pki.create_or_update_role("web", {"allow_any_name": True}, mount_point=int_mount)
    issued = client.secrets.pki.generate_certificate("web", "www.example.com", mount_point=int_mount)["data"]
    leaf = _cert(issued["certificate"])
    leaf.verify_directly_issued_by(intermediate)
    assert _cert(issued["issuing_ca"]) == intermediate
    # Both mounts list the intermediate: the root's as issued, the intermediate's as its CA.
    serial = format(intermediate.serial_number, "x")
    for mount in (root_mount, int_mount):
        keys = client.secrets.pki.list_certificates(mount_point=mount)["data"]["keys"]
        assert serial in [k.replace(":", "").replace("-", "").lstrip("0") for k in keys]


def test_set_signed_with_a_pem_bundle_keeps_the_chain(server: Server) -> None:
    client = server.client()
    root_mount, int_mount, root = _two_mounts(client)
    csr = server.request(
        "POST", f"{int_mount}/intermediate/generate/internal", json={"common_name": "Bundled Intermediate"}
    ).json()["data"]["csr"]
    response = server.request(
        "POST",
        f"{root_mount}/root/sign-intermediate",
        json={"csr": csr, "common_name": "Bundled Intermediate", "format": "pem_bundle"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    bundle = _pems(data["certificate"])
    assert bundle[1:] == [root] and _cert(data["issuing_ca"]) == root
    bundle[0].verify_directly_issued_by(root)

    answer = server.request(
        "POST", f"{int_mount}/intermediate/set-signed", json={"certificate": data["certificate"]}
    )
    assert answer.status_code == 200, answer.text
    chain = server.request("GET", f"{int_mount}/ca_chain", token=None)
    assert _pems(chain.text) == bundle  # the intermediate, then the root it was given with
    server.request("POST", f"{int_mount}/roles/r", json={"allow_any_name": True})
    issued = server.request("POST", f"{int_mount}/issue/r", json={"common_name": "a.example.com"}).json()[
        "data"
    ]
    assert [_cert(c) for c in issued["ca_chain"]] == bundle


def test_sign_intermediate_in_der(server: Server) -> None:
    client = server.client()
    root_mount, int_mount, root = _two_mounts(client)
    csr = client.secrets.pki.generate_intermediate("internal", "DER Intermediate", mount_point=int_mount)[
        "data"
    ]["csr"]
    response = server.request(
        "POST", f"{root_mount}/root/sign-intermediate", json={"csr": csr, "format": "der"}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    cert = x509.load_der_x509_certificate(base64.b64decode(data["certificate"]))
    cert.verify_directly_issued_by(root)
    assert x509.load_der_x509_certificate(base64.b64decode(data["issuing_ca"])) == root


def test_refused_set_signed_and_sign_intermediate_change_nothing(
    server: Server, unchanged: Callable[[Callable[[], requests.Response]], requests.Response]
) -> None:
    client = server.client()
    root_mount, int_mount, root = _two_mounts(client)
    csr = client.secrets.pki.generate_intermediate("internal", "Waiting", mount_point=int_mount)["data"][
        "csr"
    ]
    other_mount = _mount(client)
    other_csr = client.secrets.pki.generate_intermediate("internal", "Other", mount_point=other_mount)[
        "data"
    ]["csr"]
    signed = client.secrets.pki.sign_intermediate(csr, "Waiting", mount_point=root_mount)["data"][
        "certificate"
    ]
    not_ours = client.secrets.pki.sign_intermediate(other_csr, "Other", mount_point=root_mount)["data"][
        "certificate"
    ]
    unrelated = client.secrets.pki.generate_root("internal", "Unrelated", mount_point=_mount(client))["data"][
        "certificate"
    ]

    def set_signed(certificate: str, mount: str = int_mount) -> requests.Response:
        return server.request("POST", f"{mount}/intermediate/set-signed", json={"certificate": certificate})

    cases = [
        (lambda: set_signed(not_ours), "no pending intermediate in this mount has the key"),
        (lambda: set_signed(signed + unrelated), "is not on the chain above the CA certificate"),
        (lambda: set_signed("not a certificate"), "certificate must hold a PEM certificate"),
        (lambda: set_signed(signed, root_mount), "this mount has no pending intermediate"),
        (
            lambda: server.request(
                "POST", f"{root_mount}/root/sign-intermediate", json={"csr": csr, "format": "p12"}
            ),
            "format must be pem, pem_bundle or der",
        ),
    ]
    for send, message in cases:
        _error(unchanged(send), 400, message)
    assert set_signed(signed).status_code == 200  # the right one still goes in afterwards
    assert _cert(server.request("GET", f"{int_mount}/ca/pem", token=None).text).issuer == root.subject


def test_list_certs_with_only_a_ca_lists_it_and_reads_it(server: Server) -> None:
    """hvac's test_read_certificate: LIST certs, then read keys[0], on a mount holding only its root."""
    client = server.client()
    mount = _mount(client)
    root = _cert(
        client.secrets.pki.generate_root("internal", "Lonely Root", mount_point=mount)["data"]["certificate"]
    )
    listed = server.request("LIST", f"{mount}/certs")
    assert listed.status_code == 200, listed.text
    keys = listed.json()["data"]["keys"]
    assert len(keys) == 1 and int(keys[0].replace(":", ""), 16) == root.serial_number
    read = client.secrets.pki.read_certificate(keys[0], mount_point=mount)["data"]
    assert _cert(read["certificate"]) == root and read["revocation_time"] == 0
    # Dashes, as Vault also accepts in the URL.
    by_dashes = server.request("GET", f"{mount}/cert/{keys[0].replace(':', '-')}", token=None)
    assert _cert(by_dashes.json()["data"]["certificate"]) == root


def _expired_ca_bundle() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Expired Root")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=400))
        .not_valid_after(now - datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem_key.decode() + cert.public_bytes(serialization.Encoding.PEM).decode()


def test_an_expired_ca_is_imported_and_refuses_to_issue(
    server: Server, unchanged: Callable[[Callable[[], requests.Response]], requests.Response]
) -> None:
    client = server.client()
    mount = _mount(client)
    answer = client.secrets.pki.submit_ca_information(_expired_ca_bundle(), mount_point=mount)
    assert len(answer["data"]["imported_issuers"]) == 1
    ca = _cert(server.request("GET", f"{mount}/ca/pem", token=None).text)
    assert ca.not_valid_after_utc < datetime.datetime.now(datetime.UTC)
    role = server.request("POST", f"{mount}/roles/r", json={"allow_any_name": True, "key_type": "ec"})
    assert role.status_code in (200, 204)
    for path, body in (
        (f"{mount}/issue/r", {"common_name": "a.example.com"}),
        (f"{mount}/sign/r", {"csr": _csr("a.example.com")}),
    ):
        _error(unchanged(functools.partial(server.request, "POST", path, json=body)), 400, "expired at")


# -- item 11: unknown roles ----------------------------------------------------------------------------


def test_unknown_role_is_400_as_in_vault(
    server: Server, unchanged: Callable[[Callable[[], requests.Response]], requests.Response]
) -> None:
    client = server.client()
    mount = _mount(client)
    client.secrets.pki.generate_root("internal", "Root", mount_point=mount)
    csr = _csr("a.example.com")
    for path, body in (
        (f"{mount}/issue/nope", {"common_name": "a.example.com"}),
        (f"{mount}/sign/nope", {"csr": csr}),
        (f"{mount}/sign-verbatim/nope", {"csr": csr}),
    ):
        send = functools.partial(server.request, "POST", path, json=body)
        _error(unchanged(send), 400, "unknown role: nope")
    with pytest.raises(hvac.exceptions.InvalidRequest, match="unknown role: nope"):
        client.secrets.pki.generate_certificate("nope", "a.example.com", mount_point=mount)


# -- the issuers API (Vault 1.11+) ----------------------------------------------------------------------


def test_issuers_read_rename_and_issue_from_a_chosen_issuer(
    server: Server, unchanged: Callable[[Callable[[], requests.Response]], requests.Response]
) -> None:
    client = server.client()
    mount = _mount(client)
    first = _cert(
        client.secrets.pki.generate_root("internal", "First", mount_point=mount)["data"]["certificate"]
    )
    second = server.request(
        "POST", f"{mount}/root/generate/internal", json={"common_name": "Second", "issuer_name": "second"}
    ).json()["data"]
    listed = client.secrets.pki.list_issuers(mount_point=mount)["data"]
    assert len(listed["keys"]) == 2 and listed["key_info"]["second"] == {
        "issuer_name": "second",
        "is_default": False,
    }
    first_id = next(k for k in listed["keys"] if k != "second")
    assert listed["key_info"][first_id]["is_default"] is True

    read = client.secrets.pki.read_issuer(first_id, mount_point=mount)["data"]
    assert _cert(read["certificate"]) == first and read["issuer_id"] == first_id
    assert set(read["usage"].split(",")) == {
        "crl-signing",
        "issuing-certificates",
        "ocsp-signing",
        "read-only",
    }
    # hvac's test_update_issuer_no_extra_param and test_update_issuer.
    same = client.secrets.pki.update_issuer(first_id, mount_point=mount)["data"]
    assert sorted(same["usage"].split(",")) == sorted(read["usage"].split(","))
    client.secrets.pki.update_issuer(first_id, extra_params={"issuer_name": "renamed"}, mount_point=mount)
    assert client.secrets.pki.read_issuer(first_id, mount_point=mount)["data"]["issuer_name"] == "renamed"
    assert client.secrets.pki.read_issuer("renamed", mount_point=mount)["data"]["issuer_id"] == first_id

    for body, message in (
        ({"leaf_not_after_behavior": "truncate"}, "leaf_not_after_behavior is not supported"),
        ({"usage": "read-only"}, "usage other than"),
        ({"issuer_name": "second"}, "already in use"),
        ({"issuer_name": "default"}, "not 'default'"),
    ):
        send = functools.partial(server.request, "POST", f"{mount}/issuer/renamed", json=body)
        _error(unchanged(send), 400, message)
    _error(
        unchanged(functools.partial(server.request, "GET", f"{mount}/issuer/nope")),
        404,
        "unable to find PKI issuer for reference: nope",
    )

    # A role follows the default issuer; issuer/:ref/issue/:role picks another.
    server.request("POST", f"{mount}/roles/r", json={"allow_any_name": True, "key_type": "ec"})
    by_default = server.request("POST", f"{mount}/issue/r", json={"common_name": "a.example.com"}).json()
    _cert(by_default["data"]["certificate"]).verify_directly_issued_by(first)
    chosen = server.request("POST", f"{mount}/issuer/second/issue/r", json={"common_name": "a.example.com"})
    assert chosen.status_code == 200, chosen.text
    _cert(chosen.json()["data"]["certificate"]).verify_directly_issued_by(_cert(second["certificate"]))
    signed = server.request("POST", f"{mount}/issuer/second/sign/r", json={"csr": _csr("b.example.com")})
    _cert(signed.json()["data"]["certificate"]).verify_directly_issued_by(_cert(second["certificate"]))
    # config/issuers by name.
    assert server.request("POST", f"{mount}/config/issuers", json={"default": "second"}).status_code == 200
    assert _cert(server.request("GET", f"{mount}/ca/pem", token=None).text) == _cert(second["certificate"])


def test_delete_issuer_and_delete_root(server: Server) -> None:
    client = server.client()
    mount = _mount(client)
    client.secrets.pki.generate_root("internal", "Doomed", mount_point=mount)
    server.request(
        "POST", f"{mount}/root/generate/internal", json={"common_name": "Kept", "issuer_name": "kept"}
    )
    server.request("POST", f"{mount}/roles/r", json={"allow_any_name": True, "issuer_ref": "kept"})
    issued = server.request("POST", f"{mount}/issue/r", json={"common_name": "a.example.com"}).json()["data"]
    doomed = next(
        k for k in client.secrets.pki.list_issuers(mount_point=mount)["data"]["keys"] if k != "kept"
    )

    assert client.secrets.pki.delete_issuer(doomed, mount_point=mount).status_code == 204
    assert server.request("GET", f"{mount}/issuer/{doomed}").status_code == 404
    assert client.secrets.pki.list_issuers(mount_point=mount)["data"]["keys"] == ["kept"]
    # The default issuer was the deleted one: there is none until one is chosen.
    _error(server.request("GET", f"{mount}/ca/pem", token=None), 400, "no default issuer")
    assert server.request("DELETE", f"{mount}/issuer/{doomed}").status_code == 204  # again: no error

    # hvac's test_delete_root: every issuer goes; issued certificates stay readable.
    assert client.secrets.pki.delete_root(mount_point=mount).status_code == 204
    assert server.request("LIST", f"{mount}/issuers").status_code == 404
    kept = server.request("GET", f"{mount}/cert/{issued['serial_number']}", token=None)
    assert kept.status_code == 200 and kept.json()["data"]["certificate"] == issued["certificate"]
    # The mount takes a new root afterwards.
    assert (
        server.request("POST", f"{mount}/root/generate/internal", json={"common_name": "New"}).status_code
        == 200
    )


@pytest.mark.parametrize(
    "path",
    ["issuer/default/revoke", "root/sign-self-issued", "root/replace", "root/rotate/internal"],
)
def test_issuer_operations_not_served_are_refused_by_name(
    server: Server, unchanged: Callable[[Callable[[], requests.Response]], requests.Response], path: str
) -> None:
    client = server.client()
    mount = _mount(client)
    root = client.secrets.pki.generate_root("internal", "Root", mount_point=mount)["data"]["certificate"]
    send = functools.partial(server.request, "POST", f"{mount}/{path}", json={"certificate": root})
    _error(unchanged(send), 400, "is not supported by this server")
