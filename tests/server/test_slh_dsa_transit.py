"""SLH-DSA transit keys over HTTP with hvac: create (library and Vault Enterprise spellings),
sign, verify, batch verify, and refusals that change nothing."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest
import requests

from secretumvault import pqc
from secretumvault.transit import KEY_TYPES
from tests.server.conftest import Server, start_file_server, unchanged

pytestmark = pytest.mark.skipif(
    "oqs" not in pqc.available_backends(), reason="SLH-DSA needs the native core (pyca has no SLH-DSA)"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    started, store = start_file_server(tmp_path_factory.mktemp("vault-slh"))
    started.client().sys.enable_secrets_engine("transit", path="transit")
    yield started, store
    started.stop()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize(
    ("name", "body", "library_type"),
    [
        ("lib", {"type": "slh-dsa-sha2-128f"}, "slh-dsa-sha2-128f"),
        ("ent", {"type": "slh-dsa", "parameter_set": "SLH-DSA-SHAKE-128f"}, "slh-dsa-shake-128f"),
    ],
)
def test_create_sign_verify_batch(
    server: tuple[Server, Path], name: str, body: dict[str, str], library_type: str
) -> None:
    srv, _ = server
    client: hvac.Client = srv.client()
    created = client.adapter.post(f"/v1/transit/keys/{name}", json=body)["data"]
    assert {k: created[k] for k in body} == body  # reads back as the client wrote it
    signed = client.secrets.transit.sign_data(name, hash_input=_b64(b"firmware"), context=_b64(b"fw"))
    signature = signed["data"]["signature"]
    assert signature.startswith("vault:v1:")
    ok = client.secrets.transit.verify_signed_data(
        name, hash_input=_b64(b"firmware"), signature=signature, context=_b64(b"fw")
    )
    assert ok["data"]["valid"] is True
    bad = client.secrets.transit.verify_signed_data(
        name, hash_input=_b64(b"firmware"), signature=signature, context=_b64(b"xx")
    )
    assert bad["data"]["valid"] is False
    batch = client.adapter.post(
        f"/v1/transit/verify/{name}",
        json={
            "batch_input": [
                {"input": _b64(b"firmware"), "signature": signature, "context": _b64(b"fw")},
                {"input": _b64(b"firmwarE"), "signature": signature, "context": _b64(b"fw")},
            ]
        },
    )["data"]["batch_results"]
    assert [item["valid"] for item in batch] == [True, False]
    read = srv.request("GET", f"transit/keys/{name}").json()["data"]
    public = base64.b64decode(read["keys"]["1"]["public_key"])
    scheme = pqc.Signature(KEY_TYPES[library_type].algorithm, "oqs")
    scheme.public_key_from_bytes(public).verify(
        base64.b64decode(signature.split(":", 2)[2]), b"firmware", b"fw"
    )


def test_bad_parameter_sets_and_contexts_change_nothing(server: tuple[Server, Path]) -> None:
    srv, store = server
    for body in ({"type": "slh-dsa"}, {"type": "slh-dsa", "parameter_set": "sha2-129s"}):

        def create(body: dict[str, str] = body) -> requests.Response:
            return srv.request("POST", "transit/keys/nope", json=body)

        response = unchanged(store, create)
        assert response.status_code == 400 and "parameter_set" in response.text
    srv.client().adapter.post("/v1/transit/keys/ctx", json={"type": "slh-dsa-sha2-128f"})
    long_context = {"input": _b64(b"m"), "context": _b64(b"x" * 256)}
    response = unchanged(store, lambda: srv.request("POST", "transit/sign/ctx", json=long_context))
    assert response.status_code == 400 and "255" in response.text
