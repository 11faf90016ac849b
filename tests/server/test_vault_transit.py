"""Issue 23, transit: Vault's widths (HMAC everywhere, RSA keys, restore/:name), types read back
as written, and the default key type, driven with hvac and raw HTTP against a real server."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac as std_hmac
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.server.conftest import Server, start_file_server, start_server, write_config
from tests.server.conftest import unchanged as store_unchanged

HMAC_ALGORITHMS = {
    "sha2-224": "sha224",
    "sha2-256": "sha256",
    "sha2-384": "sha384",
    "sha2-512": "sha512",
    "sha3-224": "sha3_224",
    "sha3-256": "sha3_256",
    "sha3-384": "sha3_384",
    "sha3-512": "sha3_512",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(tmp_path_factory.mktemp("vault-transit"))
    started.client().sys.enable_secrets_engine("transit", path="transit")
    yield started, store
    started.stop()


@pytest.fixture
def srv(server: tuple[Server, Path]) -> Server:
    return server[0]


@pytest.fixture
def client(srv: Server) -> hvac.Client:
    return srv.client()


@pytest.fixture
def unchanged(server: tuple[Server, Path]) -> Callable[[Callable[[], requests.Response]], requests.Response]:
    """Send a request and assert the raw store (every record and revision) is exactly as before."""
    return functools.partial(store_unchanged, server[1])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _raw(tagged: str) -> bytes:
    return base64.b64decode(tagged.split(":", 2)[2])


def _create(client: hvac.Client, name: str, **body: Any) -> dict[str, Any]:
    data: dict[str, Any] = client.adapter.post(f"/v1/transit/keys/{name}", json=body)["data"]
    return data


# -- item 8: HMAC with every key type, every algorithm, a key per version ----------------------------


@pytest.mark.parametrize("key_type", ["aes256-gcm96", "ed25519", "rsa-2048", "ml-kem-768", "hmac"])
def test_hmac_with_every_key_type_and_algorithm(client: hvac.Client, srv: Server, key_type: str) -> None:
    name = f"mac-{key_type}"
    _create(client, name, type=key_type, exportable=True)
    transit = client.secrets.transit
    exported = client.adapter.get(f"/v1/transit/export/hmac-key/{name}")["data"]
    assert exported["name"] == name and set(exported["keys"]) == {"1"}
    key = base64.b64decode(exported["keys"]["1"])
    for algorithm, hashlib_name in HMAC_ALGORITHMS.items():
        expected = std_hmac.digest(key, b"payload", hashlib_name)
        # The algorithm as the URL segment (what hvac sends; hvac itself allows only sha2-*), and as
        # the parameter.
        if algorithm.startswith("sha2-"):
            by_url = transit.generate_hmac(name, _b64(b"payload"), algorithm=algorithm)["data"]["hmac"]
        else:
            by_url = client.adapter.post(
                f"/v1/transit/hmac/{name}/{algorithm}", json={"input": _b64(b"payload")}
            )["data"]["hmac"]
        response = srv.request(
            "POST", f"transit/hmac/{name}", json={"input": _b64(b"payload"), "algorithm": algorithm}
        )
        assert response.status_code == 200, response.text
        assert by_url == response.json()["data"]["hmac"] == f"vault:v1:{_b64(expected)}"
        for data, valid in [(b"payload", True), (b"other", False)]:
            verified = client.adapter.post(
                f"/v1/transit/verify/{name}",
                json={"input": _b64(data), "hmac": by_url, "hash_algorithm": algorithm},
            )["data"]
            assert verified == {"valid": valid}


def test_each_version_has_its_own_hmac_key(client: hvac.Client) -> None:
    _create(client, "mac-rotated", type="ed25519", exportable=True)
    first = client.secrets.transit.generate_hmac("mac-rotated", _b64(b"m"))["data"]["hmac"]
    client.secrets.transit.rotate_key("mac-rotated")
    second = client.secrets.transit.generate_hmac("mac-rotated", _b64(b"m"))["data"]["hmac"]
    assert first.startswith("vault:v1:") and second.startswith("vault:v2:")
    assert _raw(first) != _raw(second)
    keys = client.adapter.get("/v1/transit/export/hmac-key/mac-rotated")["data"]["keys"]
    assert set(keys) == {"1", "2"} and keys["1"] != keys["2"]
    one = client.adapter.get("/v1/transit/export/hmac-key/mac-rotated/1")["data"]["keys"]
    assert one == {"1": keys["1"]}
    # the old version still verifies its HMACs
    assert client.secrets.transit.verify_signed_data("mac-rotated", _b64(b"m"), hmac=first)["data"]["valid"]


def test_hmac_refusals_change_nothing(srv: Server, client: hvac.Client, unchanged: Any) -> None:
    _create(client, "mac-refuse", type="aes256-gcm96")
    body = {"input": _b64(b"m")}
    for path, extra in [
        ("transit/hmac/mac-refuse/md5", {}),
        ("transit/hmac/mac-refuse", {"algorithm": "sha1"}),
    ]:
        response = unchanged(lambda p=path, e=extra: srv.request("POST", p, json={**body, **e}))
        assert response.status_code == 400 and "unknown HMAC algorithm" in response.json()["errors"][0]
    # not exportable: its HMAC key stays inside
    response = unchanged(lambda: srv.request("GET", "transit/export/hmac-key/mac-refuse"))
    assert response.status_code == 400 and "not exportable" in response.json()["errors"][0]


# -- item 8: signature_algorithm ignored for non-RSA keys; RSA keys ----------------------------------


@pytest.mark.parametrize("key_type", ["ed25519", "ecdsa-p256", "ml-dsa-65"])
def test_rsa_options_are_ignored_for_other_key_types(client: hvac.Client, key_type: str) -> None:
    name = f"sig-{key_type}"
    _create(client, name, type=key_type)
    transit = client.secrets.transit
    for salt_length in (None, "auto", "hash", "-1", "0", "1"):
        signed = transit.sign_data(name, _b64(b"m"), signature_algorithm="pss", salt_length=salt_length)
        signature = signed["data"]["signature"]
        verified = transit.verify_signed_data(
            name, _b64(b"m"), signature=signature, signature_algorithm="pkcs1v15"
        )
        assert verified["data"]["valid"] is True


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
def test_rsa_keys_encrypt_and_read_as_vault_shows_them(client: hvac.Client, bits: int) -> None:
    name = f"rsa-{bits}-key"
    data = _create(client, name, type=f"rsa-{bits}", exportable=True)
    assert data["type"] == f"rsa-{bits}"
    assert data["supports_encryption"] and data["supports_decryption"] and data["supports_signing"]
    pem = data["keys"]["1"]["public_key"]
    public = serialization.load_pem_public_key(pem.encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == bits
    transit = client.secrets.transit
    ciphertext = transit.encrypt_data(name, _b64(b"card 4111"))["data"]["ciphertext"]
    assert ciphertext.startswith("vault:v1:") and len(_raw(ciphertext)) == bits // 8
    assert base64.b64decode(transit.decrypt_data(name, ciphertext)["data"]["plaintext"]) == b"card 4111"
    # Vault's RSA-OAEP with SHA-256: what a client makes with the public key alone decrypts here.
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    outside = "vault:v1:" + _b64(public.encrypt(b"made outside", oaep))
    assert base64.b64decode(transit.decrypt_data(name, outside)["data"]["plaintext"]) == b"made outside"
    exported = client.adapter.get(f"/v1/transit/export/encryption-key/{name}")["data"]["keys"]["1"]
    private = serialization.load_pem_private_key(exported.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.decrypt(_raw(ciphertext), oaep) == b"card 4111"
    assert client.adapter.get(f"/v1/transit/export/public-key/{name}")["data"]["keys"]["1"] == pem


def test_rsa_signatures_pss_and_pkcs1v15(client: hvac.Client, srv: Server) -> None:
    data = _create(client, "rsa-signer", type="rsa-2048")
    public = serialization.load_pem_public_key(data["keys"]["1"]["public_key"].encode())
    assert isinstance(public, rsa.RSAPublicKey)
    # hvac's own call, with its defaults (hvac allows only sha2-* hashes; the rest go as raw JSON)
    by_hvac = client.secrets.transit.sign_data("rsa-signer", _b64(b"release"))["data"]["signature"]
    sha256_pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    public.verify(_raw(by_hvac), b"release", sha256_pss, hashes.SHA256())

    def post(path: str, **body: Any) -> dict[str, Any]:
        data: dict[str, Any] = client.adapter.post(f"/v1/transit/{path}/rsa-signer", json=body)["data"]
        return data

    for hash_name, hash_type in [
        ("sha2-256", hashes.SHA256),
        ("sha2-512", hashes.SHA512),
        ("sha3-256", hashes.SHA3_256),
    ]:
        pss = post("sign", input=_b64(b"release"), hash_algorithm=hash_name)["signature"]
        public.verify(
            _raw(pss),
            b"release",
            padding.PSS(mgf=padding.MGF1(hash_type()), salt_length=padding.PSS.AUTO),
            hash_type(),
        )
        v15 = post("sign", input=_b64(b"release"), hash_algorithm=hash_name, signature_algorithm="pkcs1v15")
        public.verify(_raw(v15["signature"]), b"release", padding.PKCS1v15(), hash_type())
        for signature, algorithm in [(pss, "pss"), (v15["signature"], "pkcs1v15")]:
            for message, valid in [(b"release", True), (b"changed", False)]:
                verified = post(
                    "verify",
                    input=_b64(message),
                    signature=signature,
                    hash_algorithm=hash_name,
                    signature_algorithm=algorithm,
                )
                assert verified == {"valid": valid}
    # salt_length "hash" signs with the digest's length; verifying with the same setting accepts it
    hashed = srv.request(
        "POST", "transit/sign/rsa-signer", json={"input": _b64(b"m"), "salt_length": "hash"}
    ).json()["data"]["signature"]
    public.verify(
        _raw(hashed), b"m", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()
    )


def test_rsa_refusals_change_nothing(srv: Server, client: hvac.Client, unchanged: Any) -> None:
    _create(client, "rsa-refuse", type="rsa-2048")
    cases = [
        (
            "transit/sign/rsa-refuse",
            {"input": _b64(b"m"), "signature_algorithm": "kitty"},
            "signature_algorithm",
        ),
        ("transit/sign/rsa-refuse", {"input": _b64(b"m"), "hash_algorithm": "meow2-256"}, "hash_algorithm"),
        ("transit/sign/rsa-refuse", {"input": _b64(b"m"), "salt_length": "-2"}, "salt_length"),
        ("transit/encrypt/rsa-refuse", {"plaintext": _b64(bytes(300))}, "at most 190 bytes"),
        ("transit/decrypt/rsa-refuse", {"ciphertext": "vault:v1:" + _b64(bytes(256))}, "does not decrypt"),
    ]
    for path, body, message in cases:
        response = unchanged(lambda p=path, b=body: srv.request("POST", p, json=b))
        assert response.status_code == 400, response.text
        assert message in response.json()["errors"][0]


# -- item 8: key types: unknown vs not supported ----------------------------------------------------


def test_unknown_and_unsupported_types(srv: Server, unchanged: Any) -> None:
    for key_type, message in [
        ("kitty-cat-key", "unknown transit key type"),
        ("rsa-1024", "unknown transit key type"),
        ("aes128-gcm96", "is not supported"),
        ("ecdsa-p384", "is not supported"),
        ("managed_key", "is not supported"),
    ]:
        response = unchanged(lambda t=key_type: srv.request("POST", "transit/keys/typed", json={"type": t}))
        assert response.status_code == 400 and message in response.json()["errors"][0], response.text
    assert srv.request("GET", "transit/keys/typed").status_code == 404


# -- item 8: restore under a new name --------------------------------------------------------------------


def test_restore_under_a_new_name(client: hvac.Client, srv: Server, unchanged: Any) -> None:
    transit = client.secrets.transit
    _create(client, "original", exportable=True, allow_plaintext_backup=True)
    ciphertext = transit.encrypt_data("original", _b64(b"kept"))["data"]["ciphertext"]
    mac = transit.generate_hmac("original", _b64(b"kept"))["data"]["hmac"]
    backup = transit.backup_key("original")["data"]["backup"]
    response = srv.request("POST", "transit/restore/copy", json={"backup": backup})
    assert response.status_code == 204, response.text
    transit.restore_key(backup, name="copy-hvac")  # hvac puts the name in the URL
    for name in ("copy", "copy-hvac", "original"):
        assert base64.b64decode(transit.decrypt_data(name, ciphertext)["data"]["plaintext"]) == b"kept"
        assert transit.verify_signed_data(name, _b64(b"kept"), hmac=mac)["data"]["valid"] is True
        assert transit.read_key(name)["data"]["name"] == name
    # the copy is a key of its own: rotating it leaves the original alone
    transit.rotate_key("copy")
    assert transit.read_key("original")["data"]["latest_version"] == 1
    # an existing name is refused without force, and nothing changes
    refused = unchanged(lambda: srv.request("POST", "transit/restore/copy", json={"backup": backup}))
    assert refused.status_code == 400 and "already exists" in refused.json()["errors"][0]
    forced = srv.request("POST", "transit/restore/copy", json={"backup": backup, "force": True})
    assert forced.status_code == 204 and transit.read_key("copy")["data"]["latest_version"] == 1
    bad_name = unchanged(
        lambda: srv.request("POST", "transit/restore", json={"backup": backup, "name": "a/b"})
    )
    assert bad_name.status_code in (400, 404)


# -- item 9: types read back as the client wrote them --------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        {"type": "mldsa-65"},
        {"type": "mlkem-1024"},
        {"type": "ml-dsa", "parameter_set": "65"},
        {
            "type": "hybrid",
            "hybrid_key_type_pqc": "ml-dsa",
            "parameter_set": "65",
            "hybrid_key_type_ec": "ed25519",
        },
        {"type": "aes256-gcm96"},
    ],
)
def test_types_read_back_as_written(client: hvac.Client, srv: Server, spelling: dict[str, str]) -> None:
    name = "spelled-" + hashlib.sha256(repr(sorted(spelling.items())).encode()).hexdigest()[:10]
    created = _create(client, name, **spelling)
    client.secrets.transit.rotate_key(name)
    read = srv.request("GET", f"transit/keys/{name}").json()["data"]
    for data in (created, read):
        assert {field: data[field] for field in spelling} == spelling
    assert read["latest_version"] == 2


# -- item 7: the default transit key type --------------------------------------------------------------


def test_default_key_type_is_vaults(client: hvac.Client) -> None:
    assert _create(client, "defaulted")["type"] == "aes256-gcm96"
    client.secrets.transit.encrypt_data("upserted", _b64(b"x"))  # encrypt creates a missing key
    assert client.secrets.transit.read_key("upserted")["data"]["type"] == "aes256-gcm96"


def test_pq_defaults_server(tmp_path: Path) -> None:
    config = write_config(tmp_path / "server.toml", tmp_path / "vault.db", extra="pq_defaults = true")
    started = start_server(["-c", str(config)], tmp_path / "server.log")
    try:
        init = started.client(token="").sys.initialize(secret_shares=1, secret_threshold=1)
        started.client(token="").sys.submit_unseal_key(init["keys"][0])
        client = started.client(token=init["root_token"])
        client.sys.enable_secrets_engine("transit", path="transit")
        assert _create(client, "pq")["type"] == "ml-kem-768"
        assert _create(client, "classic", type="aes256-gcm96")["type"] == "aes256-gcm96"
    finally:
        started.stop()
