"""Transit ed25519 / ecdsa-p256 keys through the shared classical helper (issue 13 item 11, issue 12).

ECDSA signatures are DER with low ``s``: the high-``s`` twin ``(r, n - s)`` of a
valid signature is refused, as is any other DER spelling of the same pair, and
a stored key whose public point is compressed does not load.
"""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from secretumvault.errors import CorruptRecord, InvalidSignature
from secretumvault.hybrid import classical
from secretumvault.keystore import Keystore
from secretumvault.transit import Transit

ORDER = classical.EcdsaP256.ORDER
MESSAGE = b"pay 10 to alice"


def _split(tagged: str) -> tuple[str, bytes]:
    prefix, encoded = tagged.rsplit(":", 1)
    return prefix, base64.b64decode(encoded)


def _join(prefix: str, raw: bytes) -> str:
    return f"{prefix}:{base64.b64encode(raw).decode()}"


def _public_key(transit: Transit, name: str) -> ec.EllipticCurvePublicKey:
    point = transit.read_key(name).versions[1].public_key
    assert point is not None
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


def test_ecdsa_signatures_are_low_s_and_high_s_twins_are_refused(transit: Transit) -> None:
    transit.create_key("k", "ecdsa-p256")
    public_key = _public_key(transit, "k")
    for index in range(24):  # about half of raw ECDSA signatures have a high s
        message = MESSAGE + bytes([index])
        prefix, der = _split(transit.sign("k", message))
        r, s = decode_dss_signature(der)
        assert s <= ORDER // 2
        twin = encode_dss_signature(r, ORDER - s)
        # Control: the twin is a mathematically valid ECDSA signature (pyca accepts it) ...
        public_key.verify(twin, message, ec.ECDSA(hashes.SHA256()))
        # ... which transit refuses.
        with pytest.raises(InvalidSignature):
            transit.verify("k", message, _join(prefix, twin))
        transit.verify("k", message, _join(prefix, der))  # returns, does not raise


def test_ecdsa_refuses_other_der_spellings(transit: Transit) -> None:
    transit.create_key("k", "ecdsa-p256")
    prefix, der = _split(transit.sign("k", MESSAGE))
    r, s = decode_dss_signature(der)
    for altered in (
        der + b"\x00",  # trailing data after the SEQUENCE
        encode_dss_signature(r, s)[:-1],  # truncated
        b"\x30\x81" + bytes([len(der) - 2]) + der[2:],  # long-form length where short form is due
    ):
        with pytest.raises(InvalidSignature):
            transit.verify("k", MESSAGE, _join(prefix, altered))


def test_ed25519_round_trip_through_the_shared_helper(transit: Transit) -> None:
    transit.create_key("k", "ed25519")
    signature = transit.sign("k", MESSAGE)
    assert len(_split(signature)[1]) == 64
    transit.verify("k", MESSAGE, signature)
    with pytest.raises(InvalidSignature):
        transit.verify("k", MESSAGE + b"!", signature)


def _compress(point: bytes) -> bytes:
    return bytes([2 + (point[-1] & 1)]) + point[1:33]


def test_stored_ecdsa_key_with_compressed_point_does_not_load(transit: Transit, keystore: Keystore) -> None:
    transit.create_key("k", "ecdsa-p256")
    stored = json.loads(keystore.get("transit/keys/k"))
    material = stored["versions"]["1"]["material"]
    point = base64.b64decode(material["public_key"])
    material["public_key"] = base64.b64encode(_compress(point)).decode()
    keystore.put("transit/keys/k", json.dumps(stored, sort_keys=True, separators=(",", ":")).encode())
    with pytest.raises(CorruptRecord, match="unusable"):
        transit.sign("k", MESSAGE)


def test_stored_key_whose_public_half_does_not_match_is_refused(transit: Transit, keystore: Keystore) -> None:
    transit.create_key("k", "ed25519")
    transit.create_key("other", "ed25519")
    stored = json.loads(keystore.get("transit/keys/k"))
    other = json.loads(keystore.get("transit/keys/other"))
    stored["versions"]["1"]["material"]["public_key"] = other["versions"]["1"]["material"]["public_key"]
    keystore.put("transit/keys/k", json.dumps(stored, sort_keys=True, separators=(",", ":")).encode())
    with pytest.raises(CorruptRecord, match="does not match"):
        transit.sign("k", MESSAGE)


# -- the helper itself -------------------------------------------------------------------------


def test_helper_p256_rules() -> None:
    scheme = classical.ECDSA_P256
    key = scheme.generate()
    point = scheme.public_bytes(key.public_key())
    assert len(point) == 65 and point[0] == 4
    with pytest.raises(ValueError):
        scheme.public_from_bytes(_compress(point))
    for bad_scalar in (bytes(32), ORDER.to_bytes(32, "big"), b"\x01" * 31):
        with pytest.raises(ValueError):
            scheme.private_from_bytes(bad_scalar)
    raw = scheme.sign(key, MESSAGE)
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    assert s <= ORDER // 2
    public_key = scheme.public_from_bytes(point)
    assert scheme.is_valid(public_key, raw, MESSAGE)
    high = r.to_bytes(32, "big") + (ORDER - s).to_bytes(32, "big")
    assert not scheme.is_valid(public_key, high, MESSAGE)
    assert not scheme.is_valid(public_key, raw[:-1], MESSAGE)
    assert not scheme.is_valid_der(public_key, b"\x30\x00", MESSAGE)
    assert scheme.is_valid_der(public_key, scheme.sign_der(key, MESSAGE), MESSAGE)
    assert scheme.private_bytes(scheme.private_from_bytes(scheme.private_bytes(key))) == scheme.private_bytes(
        key
    )
