"""SLH-DSA known answers from a second implementation, OpenSSL 3.5.9 (tests/vectors/slh_dsa/README.md).

Keys from seeds and deterministic signatures must be byte-equal to OpenSSL's;
OpenSSL's randomized signatures must verify here, and not once altered.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from secretumvault import errors, pqc

VECTORS = Path(__file__).parent / "vectors" / "slh_dsa" / "openssl_3_5.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text())["cases"]
# RFC 9909: id-slh-dsa-sha2-128s .. id-slh-dsa-shake-256f are 2.16.840.1.101.3.4.3.20 .. .31, in
# SLH_DSA_NAMES's order (SHA2 then SHAKE; 128s, 128f, 192s, ...), as OpenSSL 3.5 lists them too.
OID_ARC = {name: 20 + i for i, name in enumerate(pqc.params.SLH_DSA_NAMES)}


def _id(case: dict[str, Any]) -> str:
    return f"{case['parameter_set']}-ctx{len(case['context']) // 2}"


def test_every_set_has_cases() -> None:
    assert {c["parameter_set"] for c in CASES} == set(pqc.params.SLH_DSA_NAMES)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_keys_from_seed_match_openssl(case: dict[str, Any], native: str) -> None:
    sig = pqc.Signature(case["parameter_set"], backend=native)
    kp = sig.keypair_from_seed(bytes.fromhex(case["seed"]))
    spki = bytes.fromhex(case["public_key_spki_der"])
    pkcs8 = bytes.fromhex(case["secret_key_pkcs8_der"])
    pk, sk = kp.public_key.to_bytes(), kp.secret_key.to_bytes()
    # SPKI: SEQUENCE { SEQUENCE { OID }, BIT STRING { 00 || pk } }, OID with no parameters (RFC 9909)
    oid = bytes.fromhex("06096086480165030403") + bytes((OID_ARC[case["parameter_set"]],))
    assert spki[2:4] == b"\x30\x0b" and spki[4:15] == oid
    assert spki.endswith(pk) and spki[-len(pk) - 1] == 0
    # PKCS#8 OneAsymmetricKey: the privateKey OCTET STRING is the raw 4n-byte key (RFC 9909)
    length = bytes((len(sk),)) if len(sk) < 128 else bytes((0x81, len(sk)))  # DER definite length
    assert pkcs8.endswith(b"\x04" + length + sk)


def _sign_cases() -> list[dict[str, Any]]:
    # Every case of the fast "f" sets; the first of each slow "s" set (seconds per signature).
    seen: set[str] = set()
    chosen = []
    for case in CASES:
        name = case["parameter_set"]
        if name.endswith("f") or name not in seen:
            chosen.append(case)
        seen.add(name)
    return chosen


@pytest.mark.parametrize("case", _sign_cases(), ids=_id)
def test_deterministic_signatures_are_byte_equal_to_openssl(case: dict[str, Any], native: str) -> None:
    kp = pqc.Signature(case["parameter_set"], backend=native).keypair_from_seed(bytes.fromhex(case["seed"]))
    ours = kp.secret_key.sign(
        bytes.fromhex(case["message"]), bytes.fromhex(case["context"]), deterministic=True
    )
    assert hashlib.sha256(ours).hexdigest() == case["deterministic_signature_sha256"]
    if "deterministic_signature" in case:
        assert ours.hex() == case["deterministic_signature"]


@pytest.mark.parametrize("case", [c for c in CASES if "randomized_signature" in c], ids=_id)
def test_openssl_randomized_signatures_verify(case: dict[str, Any], native: str) -> None:
    sig = pqc.Signature(case["parameter_set"], backend=native)
    pk = sig.keypair_from_seed(bytes.fromhex(case["seed"])).public_key
    signature = bytes.fromhex(case["randomized_signature"])
    message, context = bytes.fromhex(case["message"]), bytes.fromhex(case["context"])
    pk.verify(signature, message, context)
    assert hashlib.sha256(signature).hexdigest() != case["deterministic_signature_sha256"]
    altered = bytearray(signature)
    altered[-1] ^= 0x80
    with pytest.raises(errors.InvalidSignature):
        pk.verify(bytes(altered), message, context)
    with pytest.raises(errors.InvalidSignature):
        pk.verify(signature, message + b"\x00", context)
