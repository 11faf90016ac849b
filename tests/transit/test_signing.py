"""sign / verify and hmac / verify_hmac."""

from __future__ import annotations

import base64

import pytest

from secretumvault.errors import (
    InvalidArgument,
    InvalidSignature,
    InvalidType,
    PolicyViolation,
    UnsupportedAlgorithm,
)
from secretumvault.transit import Transit
from tests.conftest import untyped
from tests.transit.conftest import ENCRYPTION_TYPES, SIGNING_TYPES, Unchanged

CONTEXT_TYPES = ["ml-dsa-44", "ml-dsa-65", "ml-dsa-87", "hybrid-ed25519-ml-dsa-65"]


def _flip_last_byte(tagged: str) -> str:
    prefix, encoded = tagged.rsplit(":", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    return f"{prefix}:{base64.b64encode(bytes(raw)).decode()}"


@pytest.mark.parametrize("key_type", SIGNING_TYPES)
def test_sign_verify_and_refusals(transit: Transit, key_type: str, unchanged: Unchanged) -> None:
    transit.create_key("k", key_type)
    transit.create_key("other", key_type)
    signature = transit.sign("k", b"release 1.2")
    assert signature.startswith("vault:v1:")
    transit.verify("k", b"release 1.2", signature)  # returns, does not raise
    check = unchanged()
    with pytest.raises(InvalidSignature):
        transit.verify("k", b"release 1.3", signature)
    with pytest.raises(InvalidSignature):
        transit.verify("k", b"release 1.2", _flip_last_byte(signature))
    with pytest.raises(InvalidSignature):
        transit.verify("other", b"release 1.2", signature)
    with pytest.raises(InvalidSignature, match="latest is 1"):
        transit.verify("k", b"release 1.2", signature.replace("vault:v1:", "vault:v2:"))
    with pytest.raises(InvalidSignature, match="not of the form"):
        transit.verify("k", b"release 1.2", "sig")
    with pytest.raises(InvalidType):
        transit.sign("k", untyped("text"))
    # Every key type HMACs with its version's own HMAC key (as Vault), written with the version.
    transit.verify_hmac("k", b"x", transit.hmac("k", b"x"))
    check()


@pytest.mark.parametrize("key_type", SIGNING_TYPES)
def test_rotation_and_min_decryption_version(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    old = transit.sign("k", b"m")
    transit.rotate_key("k")
    new = transit.sign("k", b"m")
    assert new.startswith("vault:v2:")
    transit.verify("k", b"m", old)
    transit.update_key_config("k", min_decryption_version=2)
    with pytest.raises(PolicyViolation, match="min_decryption_version"):
        transit.verify("k", b"m", old)
    transit.verify("k", b"m", new)


@pytest.mark.parametrize("key_type", CONTEXT_TYPES)
def test_context_is_bound(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    signature = transit.sign("k", b"m", b"invoices")
    transit.verify("k", b"m", signature, b"invoices")
    with pytest.raises(InvalidSignature):
        transit.verify("k", b"m", signature, b"receipts")
    with pytest.raises(InvalidSignature):
        transit.verify("k", b"m", signature)


@pytest.mark.parametrize("key_type", ["ed25519", "ecdsa-p256"])
def test_classical_types_refuse_a_context(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    with pytest.raises(InvalidArgument, match="no context"):
        transit.sign("k", b"m", b"ctx")
    with pytest.raises(InvalidArgument, match="no context"):
        transit.verify("k", b"m", transit.sign("k", b"m"), b"ctx")


@pytest.mark.parametrize("key_type", [*ENCRYPTION_TYPES, "hmac"])
def test_non_signing_types_refuse(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    with pytest.raises(UnsupportedAlgorithm, match="does not do signing"):
        transit.sign("k", b"m")
    with pytest.raises(UnsupportedAlgorithm, match="does not do signing"):
        transit.verify("k", b"m", "vault:v1:AAAA")


def test_hmac(transit: Transit, unchanged: Unchanged) -> None:
    import hashlib
    import hmac as std_hmac

    transit.create_key("k", "hmac", exportable=True)
    tag = transit.hmac("k", b"data")
    key = transit.export_key("k", "hmac-key")[1].key
    expected = base64.b64encode(std_hmac.digest(key, b"data", hashlib.sha256)).decode()
    assert tag == f"vault:v1:{expected}"  # plain HMAC-SHA256, as Vault computes it
    transit.verify_hmac("k", b"data", tag)
    check = unchanged()
    with pytest.raises(InvalidSignature):
        transit.verify_hmac("k", b"data!", tag)
    with pytest.raises(InvalidSignature):
        transit.verify_hmac("k", b"data", _flip_last_byte(tag))
    with pytest.raises(InvalidSignature):
        transit.verify_hmac("k", b"data", "vault:v1:" + expected[:-4])  # truncated tag
    with pytest.raises(InvalidSignature, match="not of the form"):
        transit.verify_hmac("k", b"data", "hmac")
    with pytest.raises(UnsupportedAlgorithm):
        transit.encrypt("k", b"x")
    check()
    transit.rotate_key("k")
    assert transit.hmac("k", b"data").startswith("vault:v2:")
    transit.verify_hmac("k", b"data", tag)
