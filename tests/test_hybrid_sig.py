"""Hybrid signatures: both halves required, domain separation, stripping, bad input."""

from __future__ import annotations

import pickle
import struct
from typing import cast

import pytest
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from secretumvault import errors, hybrid, pqc

from .conftest import untyped

BACKENDS = pqc.available_backends()
ALGORITHMS = ["Ed25519-ML-DSA-44", "Ed25519-ML-DSA-65", "ECDSA-P256-ML-DSA-65"]
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
MESSAGE = b"transfer 100 to alice"
CONTEXT = b"payments-v2"


def envelope(classical: bytes, post_quantum: bytes, version: int = 1) -> bytes:
    return bytes([version]) + struct.pack(">I", len(classical)) + classical + post_quantum


def split(signature: bytes) -> tuple[bytes, bytes]:
    (length,) = struct.unpack(">I", signature[1:5])
    return signature[5 : 5 + length], signature[5 + length :]


def expected_bound_message(label: str, context: bytes, message: bytes) -> bytes:
    """M' written out independently of the library."""
    prefix = b"SecretumVault-hybrid-signature-v1\x00"
    return prefix + bytes([len(label)]) + label.encode() + bytes([len(context)]) + context + message


def classical_key(
    public_key: hybrid.HybridSigPublicKey,
) -> ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey:
    raw = public_key.classical_bytes
    if public_key.algorithm.startswith("Ed25519"):
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def classical_verifies(public_key: hybrid.HybridSigPublicKey, signature: bytes, message: bytes) -> bool:
    key = classical_key(public_key)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except CryptoInvalidSignature:
        return False
    return True


def pqc_verifies(
    public_key: hybrid.HybridSigPublicKey, signature: bytes, message: bytes, context: bytes
) -> bool:
    try:
        public_key.pqc_key.verify(signature, message, context)
    except errors.InvalidSignature:
        return False
    return True


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=ALGORITHMS)
def scheme(request: pytest.FixtureRequest, backend: str) -> hybrid.HybridSignature:
    try:
        return hybrid.HybridSignature(request.param, backend=backend)
    except errors.UnsupportedAlgorithm as exc:
        pytest.skip(f"backend {backend!r} lacks {request.param}'s ML-DSA: {exc}")


@pytest.fixture
def pair(scheme: hybrid.HybridSignature) -> tuple[hybrid.HybridSigPublicKey, hybrid.HybridSigSecretKey]:
    keys = scheme.generate_keypair()
    assert isinstance(keys.public_key, hybrid.HybridSigPublicKey)
    assert isinstance(keys.secret_key, hybrid.HybridSigSecretKey)
    return keys.public_key, keys.secret_key


Pair = tuple[hybrid.HybridSigPublicKey, hybrid.HybridSigSecretKey]


# -- it works, and only for the right inputs -------------------------------------


def test_sign_verify_with_and_without_context(scheme: hybrid.HybridSignature, pair: Pair) -> None:
    public_key, secret_key = pair
    for context in (b"", CONTEXT, bytes(255)):
        signature = secret_key.sign(MESSAGE, context)
        assert len(signature) == scheme.signature_size
        public_key.verify(signature, MESSAGE, context)  # raises if invalid
    public_key.verify(secret_key.sign(MESSAGE), MESSAGE)


def test_wrong_message_context_or_key_fails(scheme: hybrid.HybridSignature, pair: Pair) -> None:
    public_key, secret_key = pair
    signature = secret_key.sign(MESSAGE, CONTEXT)
    other_public = scheme.generate_keypair().public_key
    attempts = {
        "other message": (public_key, MESSAGE + b"!", CONTEXT),
        "other context": (public_key, MESSAGE, b"payments-v3"),
        "no context": (public_key, MESSAGE, b""),
        "context moved into message": (public_key, CONTEXT + MESSAGE, b""),
        "other key": (other_public, MESSAGE, CONTEXT),
    }
    for case, (key, message, context) in attempts.items():
        try:
            key.verify(signature, message, context)
        except errors.InvalidSignature:
            continue
        pytest.fail(f"{case}: accepted")


def test_both_halves_are_required(scheme: hybrid.HybridSignature, pair: Pair) -> None:
    public_key, secret_key = pair
    good = secret_key.sign(MESSAGE)
    other = scheme.generate_keypair().secret_key.sign(MESSAGE)  # valid, but under another key
    good_classical, good_pqc = split(good)
    other_classical, other_pqc = split(other)
    public_key.verify(envelope(good_classical, good_pqc), MESSAGE)  # control: re-framing is lossless
    with pytest.raises(errors.InvalidSignature):
        public_key.verify(envelope(good_classical, other_pqc), MESSAGE)
    with pytest.raises(errors.InvalidSignature):
        public_key.verify(envelope(other_classical, good_pqc), MESSAGE)
    corrupted = bytearray(good)
    corrupted[6] ^= 1
    with pytest.raises(errors.InvalidSignature):
        public_key.verify(bytes(corrupted), MESSAGE)
    corrupted = bytearray(good)
    corrupted[-1] ^= 1
    with pytest.raises(errors.InvalidSignature):
        public_key.verify(bytes(corrupted), MESSAGE)


# -- domain separation -----------------------------------------------------------


def test_halves_sign_the_bound_message(scheme: hybrid.HybridSignature, pair: Pair) -> None:
    public_key, secret_key = pair
    classical_sig, pqc_sig = split(secret_key.sign(MESSAGE, CONTEXT))
    bound = expected_bound_message(scheme.name, CONTEXT, MESSAGE)
    assert hybrid.bound_message(scheme.name.encode(), CONTEXT, MESSAGE) == bound
    # Controls for the stripping test below: each half is a genuine signature on M'.
    assert classical_verifies(public_key, classical_sig, bound)
    assert pqc_verifies(public_key, pqc_sig, bound, CONTEXT)


def test_stripped_halves_are_not_plain_signatures(pair: Pair) -> None:
    public_key, secret_key = pair
    for context in (b"", CONTEXT):
        classical_sig, pqc_sig = split(secret_key.sign(MESSAGE, context))
        assert not classical_verifies(public_key, classical_sig, MESSAGE)
        assert not pqc_verifies(public_key, pqc_sig, MESSAGE, context)
        assert not pqc_verifies(public_key, pqc_sig, MESSAGE, b"")


def test_classical_half_is_bound_to_the_context(scheme: hybrid.HybridSignature, pair: Pair) -> None:
    public_key, secret_key = pair
    classical_sig, _ = split(secret_key.sign(MESSAGE, CONTEXT))
    assert classical_verifies(
        public_key, classical_sig, expected_bound_message(scheme.name, CONTEXT, MESSAGE)
    )
    assert not classical_verifies(
        public_key, classical_sig, expected_bound_message(scheme.name, b"", MESSAGE)
    )
    assert not classical_verifies(
        public_key, classical_sig, expected_bound_message(scheme.name, b"other", MESSAGE)
    )


def test_halves_are_bound_to_the_hybrid_algorithm(backend: str) -> None:
    # Ed25519-ML-DSA-44 and Ed25519-ML-DSA-65 share a classical scheme; give them the same
    # Ed25519 key and the -44 classical half must still not verify for -65.
    sig44 = hybrid.HybridSignature("Ed25519-ML-DSA-44", backend=backend)
    secret44 = sig44.generate_keypair().secret_key
    assert isinstance(secret44, hybrid.HybridSigSecretKey)
    classical_sig, _ = split(secret44.sign(MESSAGE))
    ed_public = ed25519.Ed25519PrivateKey.from_private_bytes(classical_private_bytes(secret44)).public_key()
    ed_public.verify(classical_sig, expected_bound_message("Ed25519-ML-DSA-44", b"", MESSAGE))
    with pytest.raises(CryptoInvalidSignature):
        ed_public.verify(classical_sig, expected_bound_message("Ed25519-ML-DSA-65", b"", MESSAGE))


def classical_private_bytes(secret_key: hybrid.HybridSigSecretKey) -> bytes:
    encoded = secret_key.to_bytes()
    body = encoded[3 + encoded[2] :]
    (length,) = struct.unpack(">I", body[:4])
    return body[4 : 4 + length]


def test_bound_message_is_unambiguous() -> None:
    label = b"Ed25519-ML-DSA-65"
    variants = {
        hybrid.bound_message(label, b"a", b"bc"),
        hybrid.bound_message(label, b"ab", b"c"),
        hybrid.bound_message(label, b"", b"abc"),
        hybrid.bound_message(label + b"a", b"", b"bc"),
        hybrid.bound_message(b"Ed25519-ML-DSA-44", b"a", b"bc"),
    }
    assert len(variants) == 5


# -- ECDSA specifics -------------------------------------------------------------


def test_ecdsa_half_is_low_s_and_high_s_is_refused(backend: str) -> None:
    scheme = hybrid.HybridSignature("ECDSA-P256-ML-DSA-65", backend=backend)
    public_key, secret_key = scheme.generate_keypair()
    assert isinstance(public_key, hybrid.HybridSigPublicKey)
    for i in range(16):
        classical_sig, _ = split(secret_key.sign(MESSAGE + bytes([i])))
        assert 0 < int.from_bytes(classical_sig[32:], "big") <= P256_ORDER // 2
    signature = secret_key.sign(MESSAGE)
    classical_sig, pqc_sig = split(signature)
    r, s = int.from_bytes(classical_sig[:32], "big"), int.from_bytes(classical_sig[32:], "big")
    high_s = r.to_bytes(32, "big") + (P256_ORDER - s).to_bytes(32, "big")
    bound = expected_bound_message(scheme.name, b"", MESSAGE)
    assert classical_verifies(public_key, high_s, bound)  # control: mathematically valid ECDSA
    with pytest.raises(errors.InvalidSignature):
        public_key.verify(envelope(high_s, pqc_sig), MESSAGE)
    for bad in (bytes(64), b"\xff" * 64, r.to_bytes(32, "big") + bytes(32)):
        with pytest.raises(errors.InvalidSignature):
            public_key.verify(envelope(bad, pqc_sig), MESSAGE)


# -- malformed envelopes ---------------------------------------------------------


def test_malformed_signatures_raise_invalid_signature(pair: Pair) -> None:
    public_key, secret_key = pair
    signature = secret_key.sign(MESSAGE)
    classical_sig, pqc_sig = split(signature)
    cases = {
        "empty": b"",
        "version only": signature[:1],
        "header only": signature[:5],
        "truncated classical": signature[:20],
        "truncated pqc": signature[:-1],
        "unknown version 0": b"\x00" + signature[1:],
        "unknown version 2": b"\x02" + signature[1:],
        "length past the end": signature[:1] + struct.pack(">I", 2**32 - 1) + signature[5:],
        "length off by one": signature[:1] + struct.pack(">I", len(classical_sig) + 1) + signature[5:],
        "length zero": signature[:1] + struct.pack(">I", 0) + signature[5:],
        "trailing byte": signature + b"\x00",
        "swapped halves": envelope(pqc_sig, classical_sig),
        "classical twice": envelope(classical_sig, classical_sig),
        "pqc twice": envelope(pqc_sig, pqc_sig),
        "whole signature twice": signature + signature,
        "pqc half alone": pqc_sig,
        "classical half alone": classical_sig,
    }
    for case, data in cases.items():
        try:
            public_key.verify(data, MESSAGE)
        except errors.InvalidSignature:
            continue
        pytest.fail(f"{case}: accepted")


def test_argument_checks(pair: Pair) -> None:
    public_key, secret_key = pair
    with pytest.raises(errors.InvalidArgument, match="255"):
        secret_key.sign(MESSAGE, bytes(256))
    with pytest.raises(errors.InvalidArgument, match="255"):
        public_key.verify(secret_key.sign(MESSAGE), MESSAGE, bytes(256))
    with pytest.raises(errors.InvalidType):
        secret_key.sign(untyped("text"))
    with pytest.raises(errors.InvalidType):
        public_key.verify(untyped(secret_key.sign(MESSAGE).hex()), MESSAGE)
    signature = secret_key.sign(bytearray(MESSAGE), memoryview(CONTEXT))
    public_key.verify(memoryview(signature), bytearray(MESSAGE), CONTEXT)


def test_unknown_algorithm() -> None:
    with pytest.raises(errors.UnsupportedAlgorithm, match="Ed25519-ML-DSA-65"):
        hybrid.HybridSignature("Ed25519-ML-DSA-87")


# -- keys ------------------------------------------------------------------------


def test_keys_serialise_and_load(scheme: hybrid.HybridSignature, pair: Pair) -> None:
    public_key, secret_key = pair
    encoded_public = public_key.to_bytes()
    assert len(encoded_public) == scheme.public_key_size
    assert encoded_public[:3] == bytes([1, 3, len(scheme.name)])
    loaded_public = scheme.public_key_from_bytes(encoded_public)
    loaded_secret = scheme.secret_key_from_bytes(secret_key.to_bytes())
    assert loaded_public == public_key
    assert loaded_secret.to_bytes() == secret_key.to_bytes()
    loaded_public.verify(loaded_secret.sign(MESSAGE, CONTEXT), MESSAGE, CONTEXT)
    public_key.verify(loaded_secret.sign(MESSAGE), MESSAGE)


def test_interoperates_across_backends() -> None:
    if len(BACKENDS) < 2:
        pytest.skip(f"only one backend available ({BACKENDS}); cross-backend interop needs two")
    signer = hybrid.HybridSignature("Ed25519-ML-DSA-65", backend=BACKENDS[0])
    public_key, secret_key = signer.generate_keypair()
    signature = secret_key.sign(MESSAGE, CONTEXT)
    for name in BACKENDS[1:]:
        verifier = hybrid.HybridSignature("Ed25519-ML-DSA-65", backend=name)
        verifier.public_key_from_bytes(public_key.to_bytes()).verify(signature, MESSAGE, CONTEXT)


def test_keys_of_another_algorithm_or_role_are_refused(backend: str) -> None:
    ed65 = hybrid.HybridSignature("Ed25519-ML-DSA-65", backend=backend)
    ec65 = hybrid.HybridSignature("ECDSA-P256-ML-DSA-65", backend=backend)
    ed_pair, ec_pair = ed65.generate_keypair(), ec65.generate_keypair()
    kem_pair = hybrid.HybridKem("X25519-ML-KEM-768", backend=backend).generate_keypair()
    secret_encoded = ed_pair.secret_key.to_bytes()
    form_offset = 3 + len(ed65.name) + 4 + 32
    cases = {
        "ECDSA key as Ed25519": (ed65.public_key_from_bytes, ec_pair.public_key.to_bytes()),
        "ECDSA secret as Ed25519": (ed65.secret_key_from_bytes, ec_pair.secret_key.to_bytes()),
        "secret as public": (ed65.public_key_from_bytes, secret_encoded),
        "public as secret": (ed65.secret_key_from_bytes, ed_pair.public_key.to_bytes()),
        "KEM key": (ed65.public_key_from_bytes, kem_pair.public_key.to_bytes()),
        "raw ML-DSA key": (
            ed65.public_key_from_bytes,
            cast(hybrid.HybridSigPublicKey, ed_pair.public_key).pqc_key.to_bytes(),
        ),
        "truncated public": (ed65.public_key_from_bytes, ed_pair.public_key.to_bytes()[:-1]),
        "trailing byte public": (ed65.public_key_from_bytes, ed_pair.public_key.to_bytes() + b"\x00"),
        "truncated secret": (ed65.secret_key_from_bytes, secret_encoded[:-1]),
        "trailing byte secret": (ed65.secret_key_from_bytes, secret_encoded + b"\x00"),
        "secret header only": (ed65.secret_key_from_bytes, secret_encoded[: 3 + len(ed65.name)]),
        "unknown ML-DSA key form": (
            ed65.secret_key_from_bytes,
            secret_encoded[:form_offset] + b"\x09" + secret_encoded[form_offset + 1 :],
        ),
        "P-256 compressed point": (ec65.public_key_from_bytes, compress_point(ec_pair.public_key.to_bytes())),
        "P-256 scalar zero": (
            ec65.secret_key_from_bytes,
            zero_classical_secret(ec_pair.secret_key.to_bytes()),
        ),
    }
    for case, (load, data) in cases.items():
        try:
            load(data)
        except errors.InvalidKey:
            continue
        pytest.fail(f"{case}: accepted")


def compress_point(encoded: bytes) -> bytes:
    offset = 3 + encoded[2] + 4
    point = encoded[offset : offset + 65]
    y_is_odd = point[-1] & 1
    compressed = bytes([2 + y_is_odd]) + point[1:33] + bytes(32)  # keep the declared size
    return encoded[:offset] + compressed + encoded[offset + 65 :]


def zero_classical_secret(encoded: bytes) -> bytes:
    offset = 3 + encoded[2] + 4
    return encoded[:offset] + bytes(32) + encoded[offset + 32 :]


def test_secrets_stay_out_of_repr_and_pickle(pair: Pair) -> None:
    public_key, secret_key = pair
    secret_hex = classical_private_bytes(secret_key).hex()
    assert secret_hex not in repr(secret_key)
    assert secret_key.algorithm in repr(secret_key)
    for key in (secret_key, public_key):
        with pytest.raises(TypeError, match="to_bytes"):
            pickle.dumps(key)
    with pytest.raises(errors.UnsupportedAlgorithm, match="to_bytes"):
        secret_key.seed_bytes()
