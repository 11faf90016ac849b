"""Transit over HTTP with hvac: every key type, every operation, batches and Vault's status rules."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import hvac
import pytest
from hvac.exceptions import InvalidPath, InvalidRequest

from tests.server.conftest import Server

ENCRYPTION_TYPES = [
    "aes256-gcm96",
    "chacha20-poly1305",
    "ml-kem-768",
    "ml-kem-1024",
    "hybrid-x25519-ml-kem-768",
]
SIGNING_TYPES = ["ed25519", "ecdsa-p256", "ml-dsa-44", "ml-dsa-65", "ml-dsa-87", "hybrid-ed25519-ml-dsa-65"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def create(client: hvac.Client, name: str, key_type: str, **extra: object) -> dict[str, Any]:
    # hvac's create_key refuses types it does not know: post the request itself.
    created: dict[str, Any] = client.adapter.post(
        f"/v1/transit/keys/{name}", json={"type": key_type, **extra}
    )
    return created


@pytest.mark.parametrize("key_type", ENCRYPTION_TYPES)
def test_encrypt_decrypt_rewrap_every_encryption_type(client: hvac.Client, key_type: str) -> None:
    name = f"enc-{key_type}"
    info = create(client, name, key_type)["data"]
    assert info["type"] == key_type and info["supports_encryption"] and info["latest_version"] == 1
    secret = b"card 4111 1111 1111 1111"
    ad = b64(b"order 17")
    ct = client.secrets.transit.encrypt_data(name, b64(secret), associated_data=ad)["data"]["ciphertext"]
    assert ct.startswith("vault:v1:")
    plain = client.secrets.transit.decrypt_data(name, ct, associated_data=ad)["data"]["plaintext"]
    assert base64.b64decode(plain) == secret
    with pytest.raises(InvalidRequest):  # the associated data is bound in
        client.secrets.transit.decrypt_data(name, ct, associated_data=b64(b"order 18"))
    client.secrets.transit.rotate_key(name)
    # hvac's rewrap_data has no associated_data argument: the request itself.
    rewrapped = client.adapter.post(
        f"/v1/transit/rewrap/{name}", json={"ciphertext": ct, "associated_data": ad}
    )["data"]["ciphertext"]
    assert rewrapped.startswith("vault:v2:")
    assert (
        base64.b64decode(
            client.secrets.transit.decrypt_data(name, rewrapped, associated_data=ad)["data"]["plaintext"]
        )
        == secret
    )


@pytest.mark.parametrize("key_type", SIGNING_TYPES)
def test_sign_verify_every_signing_type(client: hvac.Client, key_type: str) -> None:
    name = f"sig-{key_type}"
    info = create(client, name, key_type)["data"]
    assert info["supports_signing"] and info["keys"]["1"]["public_key"]
    message = b64(b"release 1.2.3")
    signature = client.secrets.transit.sign_data(name, hash_input=message)["data"]["signature"]
    assert (
        client.secrets.transit.verify_signed_data(name, message, signature=signature)["data"]["valid"] is True
    )
    wrong = client.secrets.transit.verify_signed_data(name, b64(b"release 1.2.4"), signature=signature)
    assert wrong["data"]["valid"] is False  # a bad signature is an answer, not an error


def test_ml_dsa_context_is_bound(client: hvac.Client) -> None:
    create(client, "ctx-dsa", "ml-dsa-65")
    message, context = b64(b"m"), b64(b"firmware")
    signature = client.adapter.post("/v1/transit/sign/ctx-dsa", json={"input": message, "context": context})[
        "data"
    ]["signature"]
    ok = client.adapter.post(
        "/v1/transit/verify/ctx-dsa", json={"input": message, "signature": signature, "context": context}
    )
    bad = client.adapter.post(
        "/v1/transit/verify/ctx-dsa",
        json={"input": message, "signature": signature, "context": b64(b"other")},
    )
    assert ok["data"]["valid"] is True and bad["data"]["valid"] is False


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ({"type": "mldsa-65"}, "ml-dsa-65"),  # OpenBao
        ({"type": "mldsa-44"}, "ml-dsa-44"),
        ({"type": "ml-dsa", "parameter_set": "87"}, "ml-dsa-87"),  # Vault Enterprise
        (
            {
                "type": "hybrid",
                "hybrid_key_type_pqc": "ml-dsa",
                "parameter_set": "65",
                "hybrid_key_type_ec": "ed25519",
            },
            "hybrid-ed25519-ml-dsa-65",
        ),
        ({"type": "mlkem-768"}, "ml-kem-768"),
    ],
)
def test_openbao_and_vault_spellings(client: hvac.Client, spelling: dict[str, str], expected: str) -> None:
    name = "alias-" + hashlib.sha256(repr(spelling).encode()).hexdigest()[:8]
    data = client.adapter.post(f"/v1/transit/keys/{name}", json=spelling)["data"]
    # The type reads back as the client spelled it (issue 23, item 9); the key is `expected`.
    assert {field: data[field] for field in spelling} == spelling
    assert data["keys"]["1"]["name"] == expected


def test_unknown_key_type_is_400(dev_server: Server) -> None:
    r = dev_server.request("POST", "transit/keys/nope", json={"type": "rsa-9999"})
    assert r.status_code == 400 and "unknown transit key type" in r.json()["errors"][0]
    assert dev_server.request("GET", "transit/keys/nope").status_code == 404


def test_key_lifecycle_config_trim_delete(client: hvac.Client) -> None:
    transit = client.secrets.transit
    create(client, "life", "ml-kem-768")
    v1 = transit.encrypt_data("life", b64(b"old"))["data"]["ciphertext"]
    transit.rotate_key("life")
    transit.rotate_key("life")
    assert "life" in transit.list_keys()["data"]["keys"]
    transit.update_key_configuration("life", min_decryption_version=2)
    with pytest.raises(InvalidRequest):
        transit.decrypt_data("life", v1)
    info = transit.trim_key("life", min_version=2)["data"]
    assert info["min_available_version"] == 2 and sorted(info["keys"]) == ["2", "3"]
    with pytest.raises(InvalidRequest):  # deletion not allowed yet
        transit.delete_key("life")
    transit.update_key_configuration("life", deletion_allowed=True)
    transit.delete_key("life")
    with pytest.raises(InvalidPath):
        transit.read_key("life")


def test_existing_key_is_returned_with_a_warning(client: hvac.Client) -> None:
    create(client, "twice", "ml-dsa-65")
    again = create(client, "twice", "aes256-gcm96")
    assert again["data"]["type"] == "ml-dsa-65" and "already existed" in again["warnings"][0]


def test_export_backup_restore(client: hvac.Client) -> None:
    transit = client.secrets.transit
    create(client, "portable", "ml-kem-768", exportable=True, allow_plaintext_backup=True)
    ct = transit.encrypt_data("portable", b64(b"kept"))["data"]["ciphertext"]
    exported = transit.export_key("portable", key_type="encryption-key")["data"]
    assert exported["type"] == "ml-kem-768" and base64.b64decode(exported["keys"]["1"])
    public = client.adapter.get("/v1/transit/export/public-key/portable/latest")["data"]["keys"]["1"]
    assert base64.b64decode(public)
    backup = transit.backup_key("portable")["data"]["backup"]
    transit.update_key_configuration("portable", deletion_allowed=True)
    transit.delete_key("portable")
    transit.restore_key(backup)
    assert base64.b64decode(transit.decrypt_data("portable", ct)["data"]["plaintext"]) == b"kept"
    transit.restore_key(backup, name="renamed")  # Vault's restore/:name (issue 23, item 8)
    assert base64.b64decode(transit.decrypt_data("renamed", ct)["data"]["plaintext"]) == b"kept"
    with pytest.raises(InvalidRequest):  # hvac checks the kind itself: ask the server directly
        client.adapter.get("/v1/transit/export/nonsense/portable")


def test_export_refused_unless_exportable(client: hvac.Client) -> None:
    create(client, "sealed-in", "aes256-gcm96")
    with pytest.raises(InvalidRequest):
        client.secrets.transit.export_key("sealed-in", key_type="encryption-key")


def test_datakey_plaintext_and_wrapped(client: hvac.Client) -> None:
    transit = client.secrets.transit
    create(client, "dk", "hybrid-x25519-ml-kem-768")
    plain = transit.generate_data_key("dk", key_type="plaintext", bits=256)["data"]
    key = base64.b64decode(plain["plaintext"])
    assert len(key) == 32
    assert base64.b64decode(transit.decrypt_data("dk", plain["ciphertext"])["data"]["plaintext"]) == key
    wrapped = transit.generate_data_key("dk", key_type="wrapped", bits=512)["data"]
    assert "plaintext" not in wrapped and wrapped["ciphertext"].startswith("vault:v1:")


def test_hmac_random_hash(client: hvac.Client) -> None:
    transit = client.secrets.transit
    create(client, "mac", "hmac")
    mac = transit.generate_hmac("mac", hash_input=b64(b"data"))["data"]["hmac"]
    assert transit.verify_signed_data("mac", b64(b"data"), hmac=mac)["data"]["valid"] is True
    assert transit.verify_signed_data("mac", b64(b"datb"), hmac=mac)["data"]["valid"] is False
    random = transit.generate_random_bytes(n_bytes=48)["data"]["random_bytes"]
    assert len(base64.b64decode(random)) == 48
    hexed = transit.generate_random_bytes(n_bytes=16, output_format="hex")["data"]["random_bytes"]
    assert len(bytes.fromhex(hexed)) == 16
    digest = transit.hash_data(b64(b"abc"), algorithm="sha2-256")["data"]["sum"]
    assert digest == hashlib.sha256(b"abc").hexdigest()
    sha3 = client.adapter.post("/v1/transit/hash/sha3-512", json={"input": b64(b"abc"), "format": "base64"})
    sha3 = sha3["data"]["sum"]
    assert base64.b64decode(sha3) == hashlib.sha3_512(b"abc").digest()


def test_batch_encrypt_decrypt_references_and_status_rules(dev_server: Server, client: hvac.Client) -> None:
    create(client, "batch", "ml-kem-768")
    items = [{"plaintext": b64(f"item {i}".encode()), "reference": f"ref-{i}"} for i in range(5)]
    out = client.secrets.transit.encrypt_data("batch", batch_input=items)["data"]["batch_results"]
    assert [r["reference"] for r in out] == [f"ref-{i}" for i in range(5)]
    assert all(r["ciphertext"].startswith("vault:v1:") and not r.get("error") for r in out)
    decrypt_items = [{"ciphertext": r["ciphertext"], "reference": r["reference"]} for r in out]
    back = client.secrets.transit.decrypt_data("batch", "", batch_input=decrypt_items)["data"][
        "batch_results"
    ]
    assert [base64.b64decode(r["plaintext"]) for r in back] == [f"item {i}".encode() for i in range(5)]

    # One bad item: 400 with every item's result (Vault's rule), the good ones still done.
    mixed = [{"plaintext": b64(b"good"), "reference": "a"}, {"plaintext": "%%%not base64", "reference": "b"}]
    r = dev_server.request("POST", "transit/encrypt/batch", json={"batch_input": mixed})
    assert r.status_code == 400
    results = r.json()["data"]["batch_results"]
    assert results[0]["ciphertext"] and not results[0].get("error") and results[0]["reference"] == "a"
    assert "base64" in results[1]["error"] and results[1]["reference"] == "b"
    # partial_failure_response_code overrides the status when some items succeeded ...
    r = dev_server.request(
        "POST", "transit/encrypt/batch", json={"batch_input": mixed, "partial_failure_response_code": 207}
    )
    assert r.status_code == 207 and r.json()["data"]["batch_results"][0]["ciphertext"]
    # ... but never when every item failed.
    all_bad = [{"ciphertext": "vault:v1:AAAA"}, {"ciphertext": "garbage"}]
    r = dev_server.request(
        "POST", "transit/decrypt/batch", json={"batch_input": all_bad, "partial_failure_response_code": 200}
    )
    assert r.status_code == 400 and all(item["error"] for item in r.json()["data"]["batch_results"])


def test_batch_sign_and_verify_report_errors_in_items(dev_server: Server, client: hvac.Client) -> None:
    create(client, "bsign", "ml-dsa-44")
    items = [{"input": b64(b"one"), "reference": "1"}, {"input": "not base64!", "reference": "2"}]
    r = dev_server.request("POST", "transit/sign/bsign", json={"batch_input": items})
    assert r.status_code == 200  # as Vault: sign batches put errors in the items
    results = r.json()["data"]["batch_results"]
    assert results[0]["signature"].startswith("vault:v1:") and results[1]["error"]
    verify_items = [
        {"input": b64(b"one"), "signature": results[0]["signature"], "reference": "x"},
        {"input": b64(b"two"), "signature": results[0]["signature"], "reference": "y"},
    ]
    checked = dev_server.request("POST", "transit/verify/bsign", json={"batch_input": verify_items}).json()
    assert [(i["valid"], i["reference"]) for i in checked["data"]["batch_results"]] == [
        (True, "x"),
        (False, "y"),
    ]


def test_encrypt_creates_missing_key_like_vault(client: hvac.Client) -> None:
    out = client.adapter.post(
        "/v1/transit/encrypt/upserted", json={"plaintext": b64(b"x"), "type": "ml-kem-1024"}
    )
    assert out["data"]["ciphertext"].startswith("vault:v1:")
    assert client.secrets.transit.read_key("upserted")["data"]["type"] == "ml-kem-1024"


def test_unsupported_options_are_refused_not_ignored(dev_server: Server) -> None:
    for body in (
        {"type": "aes256-gcm96", "derived": True},
        {"type": "aes256-gcm96", "auto_rotate_period": "1h"},
    ):
        r = dev_server.request("POST", "transit/keys/never", json=body)
        assert r.status_code == 400
    assert dev_server.request("GET", "transit/keys/never").status_code == 404
