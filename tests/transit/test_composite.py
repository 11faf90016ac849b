"""Transit composite ML-DSA key types: sign/verify, context, export in the draft's encodings, backup."""

from __future__ import annotations

import base64

import pytest

from secretumvault import hybrid
from secretumvault.errors import InvalidArgument, InvalidSignature
from secretumvault.transit import KEY_TYPES, Transit
from tests.transit.conftest import Unchanged

COMPOSITE_TYPES = {
    "composite-ml-dsa-44-ed25519-sha512": "MLDSA44-Ed25519-SHA512",
    "composite-ml-dsa-65-ed25519-sha512": "MLDSA65-Ed25519-SHA512",
    "composite-ml-dsa-65-ecdsa-p256-sha512": "MLDSA65-ECDSA-P256-SHA512",
    "composite-ml-dsa-87-ecdsa-p384-sha512": "MLDSA87-ECDSA-P384-SHA512",
}
ML_DSA_SIGNATURE_SIZES = {"44": 2420, "65": 3309, "87": 4627}


def raw(signature: str) -> bytes:
    return base64.b64decode(signature.rsplit(":", 1)[1])


def test_every_composite_type_is_offered() -> None:
    for name, algorithm in COMPOSITE_TYPES.items():
        assert KEY_TYPES[name].algorithm == algorithm
        assert KEY_TYPES[name].supports_signing and not KEY_TYPES[name].supports_encryption


@pytest.mark.parametrize("key_type", COMPOSITE_TYPES)
def test_sign_verify_export_follow_the_draft(transit: Transit, key_type: str, backend: str) -> None:
    algorithm = hybrid.CompositeSignature(COMPOSITE_TYPES[key_type], backend)
    transit.create_key("k", key_type, exportable=True)
    signature = transit.sign("k", b"release 2.0", b"ctx")
    transit.verify("k", b"release 2.0", signature, b"ctx")
    public = transit.export_key("k", "public-key")[1]
    assert public.key == transit.read_key("k").versions[1].public_key
    # The exported keys are the draft's encodings: any implementation of it can use them.
    algorithm.public_key_from_bytes(public.key).verify(raw(signature), b"release 2.0", b"ctx")
    secret = transit.export_key("k", "signing-key")[1]
    assert secret.encoding == "composite-ml-dsa"
    pair = algorithm.keypair_from_bytes(secret.key)
    assert pair.public_key.to_bytes() == public.key
    transit.verify("k", b"m", "vault:v1:" + base64.b64encode(pair.secret_key.sign(b"m")).decode())


@pytest.mark.parametrize("key_type", COMPOSITE_TYPES)
def test_refusals_leave_the_store_unchanged(transit: Transit, key_type: str, unchanged: Unchanged) -> None:
    transit.create_key("k", key_type)
    transit.create_key("other", key_type)
    ours = raw(transit.sign("k", b"m", b"ctx"))
    theirs = raw(transit.sign("other", b"m", b"ctx"))
    size = ML_DSA_SIGNATURE_SIZES[key_type.split("-")[3]]
    check = unchanged()
    for mixed in (ours[:size] + theirs[size:], theirs[:size] + ours[size:], ours[:-1], ours + b"\x00"):
        with pytest.raises(InvalidSignature):
            transit.verify("k", b"m", "vault:v1:" + base64.b64encode(mixed).decode(), b"ctx")
    with pytest.raises(InvalidSignature):
        transit.verify("k", b"m", "vault:v1:" + base64.b64encode(ours).decode(), b"other ctx")
    with pytest.raises(InvalidArgument, match="at most 255"):
        transit.sign("k", b"m", bytes(256))
    check()


def test_backup_restore_keeps_signatures_valid(transit: Transit) -> None:
    transit.create_key(
        "k", "composite-ml-dsa-65-ecdsa-p256-sha512", exportable=True, allow_plaintext_backup=True
    )
    signature = transit.sign("k", b"kept")
    backup = transit.backup_key("k")
    transit.update_key_config("k", deletion_allowed=True)
    transit.delete_key("k")
    transit.restore_key(backup)
    transit.verify("k", b"kept", signature)
    transit.verify("k", b"new", transit.sign("k", b"new"))
