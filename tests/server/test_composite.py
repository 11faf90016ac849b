"""Composite ML-DSA transit keys over HTTP with hvac: create, sign, verify, and the public key read back
in the draft's encoding (draft-ietf-lamps-pq-composite-sigs-19)."""

from __future__ import annotations

import base64

import hvac
import pytest

from secretumvault import hybrid
from tests.server.conftest import Server

MESSAGE = base64.b64encode(b"firmware 7.1").decode()
CONTEXT = base64.b64encode(b"ota").decode()


def _raw(tagged: str) -> bytes:
    return base64.b64decode(tagged.split(":", 2)[2])


@pytest.mark.parametrize(
    ("key_type", "algorithm", "mldsa_signature_size"),
    [
        ("composite-ml-dsa-65-ecdsa-p256-sha512", "MLDSA65-ECDSA-P256-SHA512", 3309),
        ("composite-ml-dsa-44-ed25519-sha512", "MLDSA44-Ed25519-SHA512", 2420),
    ],
)
def test_hvac_create_sign_verify(
    client: hvac.Client, dev_server: Server, key_type: str, algorithm: str, mldsa_signature_size: int
) -> None:
    name = f"comp-{algorithm.lower()}"
    created = client.adapter.post(f"/v1/transit/keys/{name}", json={"type": key_type})["data"]
    assert created["type"] == key_type
    client.adapter.post(f"/v1/transit/keys/{name}-other", json={"type": key_type})
    transit = client.secrets.transit
    signature = transit.sign_data(name, hash_input=MESSAGE, context=CONTEXT)["data"]["signature"]
    assert transit.verify_signed_data(name, MESSAGE, signature=signature, context=CONTEXT)["data"]["valid"]
    # The public key as read back is the draft's mldsaPK || tradPK: verifiable outside the vault.
    public = base64.b64decode(transit.read_key(name)["data"]["keys"]["1"]["public_key"])
    hybrid.CompositeSignature(algorithm).public_key_from_bytes(public).verify(
        _raw(signature), b"firmware 7.1", b"ota"
    )
    # One half replaced by a valid half from another key's signature on the same message: refused.
    other = transit.sign_data(f"{name}-other", hash_input=MESSAGE, context=CONTEXT)["data"]["signature"]
    ours, theirs = _raw(signature), _raw(other)
    for mixed in (
        ours[:mldsa_signature_size] + theirs[mldsa_signature_size:],
        theirs[:mldsa_signature_size] + ours[mldsa_signature_size:],
    ):
        tagged = "vault:v1:" + base64.b64encode(mixed).decode()
        response = dev_server.request(
            "POST", f"transit/verify/{name}", json={"input": MESSAGE, "signature": tagged, "context": CONTEXT}
        )
        assert response.status_code == 200 and response.json()["data"]["valid"] is False
    wrong_context = transit.verify_signed_data(name, MESSAGE, signature=signature, context=MESSAGE)
    assert wrong_context["data"]["valid"] is False


def test_a_too_long_context_is_a_400(client: hvac.Client, dev_server: Server) -> None:
    client.adapter.post("/v1/transit/keys/comp-ctx", json={"type": "composite-ml-dsa-65-ed25519-sha512"})
    response = dev_server.request(
        "POST",
        "transit/sign/comp-ctx",
        json={"input": MESSAGE, "context": base64.b64encode(bytes(256)).decode()},
    )
    assert response.status_code == 400
    assert "at most 255" in " ".join(response.json()["errors"])
