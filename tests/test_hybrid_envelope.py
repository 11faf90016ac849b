"""Property tests of the hybrid envelope and key-header parsers (hypothesis)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretumvault import errors, hybrid
from secretumvault.encoding import envelope, keyheader
from tests._thorough import examples

CLASSICAL, PQC = 32, 1088  # the X25519-ML-KEM-768 part sizes


def parse(data: bytes) -> tuple[bytes, bytes]:
    return envelope.unpack(
        data, classical_size=CLASSICAL, pqc_size=PQC, what="envelope", error=errors.InvalidCiphertext
    )


# Inputs near the valid shape reach the deep branches far more often than random bytes.
near_valid = st.builds(
    lambda version, length, classical, pqc_part, tail: (
        bytes([version]) + struct.pack(">I", length) + classical + pqc_part + tail
    ),
    version=st.sampled_from([0, 1, 1, 1, 2, 255]),
    length=st.one_of(
        st.just(CLASSICAL), st.sampled_from([0, 31, 33, PQC, 2**32 - 1]), st.integers(0, 2**32 - 1)
    ),
    classical=st.binary(max_size=40) | st.binary(min_size=CLASSICAL, max_size=CLASSICAL),
    pqc_part=st.one_of(st.binary(max_size=16), st.binary(min_size=PQC - 2, max_size=PQC + 2)),
    tail=st.one_of(st.just(b""), st.binary(max_size=4)),
)


@settings(max_examples=examples(10_000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=1200), near_valid))
def test_envelope_parser_accepts_exactly_the_canonical_encodings(data: bytes) -> None:
    try:
        classical, post_quantum = parse(data)
    except errors.InvalidCiphertext as exc:
        assert str(exc).startswith("envelope")
        return
    assert len(classical) == CLASSICAL
    assert len(post_quantum) == PQC
    assert envelope.pack(classical, post_quantum) == data


@settings(max_examples=examples(2_000), deadline=None)
@given(st.binary(max_size=64), st.binary(max_size=64))
def test_envelope_roundtrip(classical: bytes, post_quantum: bytes) -> None:
    packed = envelope.pack(classical, post_quantum)
    assert packed[0] == 1
    assert packed[1:5] == struct.pack(">I", len(classical))
    assert envelope.unpack(
        packed,
        classical_size=len(classical),
        pqc_size=len(post_quantum),
        what="envelope",
        error=errors.InvalidSignature,
    ) == (classical, post_quantum)


@settings(max_examples=examples(5_000), deadline=None)
@given(
    st.one_of(
        st.binary(max_size=64),
        st.builds(
            lambda version, kind, name, body: bytes([version, kind, len(name)]) + name + body,
            st.sampled_from([0, 1, 1, 2]),
            st.integers(0, 6),
            st.sampled_from([b"X25519-ML-KEM-768", b"X25519-ML-KEM-1024", b"", b"X25519-ML-KEM-76"]),
            st.binary(max_size=8),
        ),
    )
)
def test_key_header_parser(data: bytes) -> None:
    try:
        body = keyheader.decode_key(data, kind=keyheader.KeyKind.KEM_PUBLIC, algorithm="X25519-ML-KEM-768")
    except errors.InvalidKey:
        return
    assert keyheader.encode_key(keyheader.KeyKind.KEM_PUBLIC, "X25519-ML-KEM-768", body) == data


# End to end through the real key objects: fewer examples, each does real crypto.

_KEM = hybrid.HybridKem("X25519-ML-KEM-768")
_KEM_PAIR = _KEM.generate_keypair()
_VALID_CT = _KEM_PAIR.public_key.encapsulate().ciphertext
_SIG = hybrid.HybridSignature("Ed25519-ML-DSA-65")
_SIG_PAIR = _SIG.generate_keypair()
_VALID_SIG = _SIG_PAIR.secret_key.sign(b"m")


def mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    """Valid bytes with one byte replaced, a cut, or an extension."""
    return st.one_of(
        st.builds(
            lambda i, b: valid[: i % len(valid)] + bytes([b]) + valid[i % len(valid) + 1 :],
            st.integers(0, len(valid) - 1),
            st.integers(0, 255),
        ),
        st.integers(0, len(valid) - 1).map(lambda n: valid[:n]),
        st.binary(min_size=1, max_size=8).map(lambda extra: valid + extra),
    )


@settings(max_examples=examples(1_000), deadline=None)
@given(st.one_of(st.binary(max_size=1200), mutations(_VALID_CT)))
def test_decapsulate_never_crashes(data: bytes) -> None:
    try:
        secret = _KEM_PAIR.secret_key.decapsulate(data)
    except errors.InvalidCiphertext:
        return
    assert len(secret) == 32
    assert len(data) == _KEM.ciphertext_size


@settings(max_examples=examples(1_000), deadline=None)
@given(st.one_of(st.binary(max_size=3400), mutations(_VALID_SIG)))
def test_verify_never_accepts_a_changed_signature(data: bytes) -> None:
    if data == _VALID_SIG:
        return
    with pytest.raises(errors.InvalidSignature):
        _SIG_PAIR.public_key.verify(data, b"m")
