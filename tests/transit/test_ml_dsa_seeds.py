"""ML-DSA transit keys are stored as their 32-byte FIPS 204 seed wherever the backend keeps one
(issue 14); records written in expanded form (by "oqs" before it kept seeds) keep loading."""

from __future__ import annotations

import base64
import json

import pytest

from secretumvault import pqc
from secretumvault.errors import UnsupportedAlgorithm
from secretumvault.keystore import Keystore
from secretumvault.transit import Transit
from secretumvault.transit._material import ML_DSA_EXPANDED, Material
from secretumvault.transit._record import KeyRecord
from secretumvault.transit.key_types import KEY_TYPES
from tests.conftest import skip_unless_available


def _keeps_seeds(backend: str) -> bool:
    try:
        pqc.Signature("ML-DSA-65", backend).generate_keypair().secret_key.seed_bytes()
    except UnsupportedAlgorithm:
        return False
    return True


@pytest.mark.parametrize("key_type", ["ml-dsa-44", "ml-dsa-65", "ml-dsa-87"])
def test_new_keys_are_stored_as_seeds_where_the_backend_has_them(
    transit: Transit, keystore: Keystore, backend: str, key_type: str
) -> None:
    transit.create_key("k", key_type)
    material = json.loads(keystore.get("transit/keys/k"))["versions"]["1"]["material"]
    public_key = transit.read_key("k").versions[1].public_key
    assert public_key is not None
    if _keeps_seeds(backend):
        assert material["encoding"] == "ml-dsa-seed"
        seed = Material.from_dict(material, KEY_TYPES[key_type]).secret
        assert len(seed) == 32
        algorithm = KEY_TYPES[key_type].algorithm
        assert pqc.Signature(algorithm, backend).keypair_from_seed(seed).public_key.to_bytes() == public_key
    else:
        assert material["encoding"] == "ml-dsa-expanded"
    transit.verify("k", b"m", transit.sign("k", b"m"))


@pytest.mark.parametrize("backend_of_engine", ["oqs", "openssl"])
def test_expanded_records_keep_loading(keystore: Keystore, backend_of_engine: str) -> None:
    """A record holding an expanded "oqs" key (as written before seeds) signs and verifies."""
    skip_unless_available("oqs")
    skip_unless_available(backend_of_engine)
    pair = pqc.Signature("ML-DSA-65", "oqs").generate_keypair()
    material = Material(ML_DSA_EXPANDED, pair.secret_key.to_bytes(), pair.public_key.to_bytes())
    record = KeyRecord.new(
        "old", KEY_TYPES["ml-dsa-65"], material, exportable=False, allow_plaintext_backup=False
    )
    keystore.put("transit/keys/old", record.encode())
    transit = Transit(keystore, backend=backend_of_engine)
    signature = transit.sign("old", b"m")
    transit.verify("old", b"m", signature)
    pair.public_key.verify(transit_signature_bytes(signature), b"m")
    transit.rotate_key("old")  # new versions use the engine's backend's preferred form
    transit.verify("old", b"m", transit.sign("old", b"m"))


def transit_signature_bytes(tagged: str) -> bytes:
    return base64.b64decode(tagged.rsplit(":", 1)[1])
