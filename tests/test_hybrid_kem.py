"""X25519 + ML-KEM hybrid KEMs: X-Wing vectors, independent recomputation, bad input."""

from __future__ import annotations

import hashlib
import json
import pickle
import struct
from pathlib import Path
from typing import cast

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from secretumvault import errors, hybrid, pqc
from secretumvault.pqc.keys import Buffer

from .conftest import untyped

VECTORS = json.loads((Path(__file__).parent / "data" / "xwing_vectors.json").read_text())["vectors"]
BACKENDS = pqc.available_backends()
ALGORITHMS = ["X25519-ML-KEM-768", "X25519-ML-KEM-1024"]
# Written out byte by byte rather than imported, so a typo in the library is caught.
LABELS = {
    "X25519-ML-KEM-768": bytes([0x5C, 0x2E, 0x2F, 0x2F, 0x5E, 0x5C]),  # \.//^\
    "X25519-ML-KEM-1024": b"SecretumVault X25519-ML-KEM-1024",
}
ML_KEM_CIPHERTEXT = {"X25519-ML-KEM-768": 1088, "X25519-ML-KEM-1024": 1568}
# A point of order 8 on Curve25519 (RFC 7748 section 7 / libsodium blacklist).
LOW_ORDER_POINT = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")


def envelope(classical: bytes, post_quantum: bytes, version: int = 1) -> bytes:
    return bytes([version]) + struct.pack(">I", len(classical)) + classical + post_quantum


def from_xwing_ciphertext(ct: bytes) -> bytes:
    """X-Wing's ``ct_M || ct_X`` re-framed as our envelope ``0x01 | u32be(32) | ct_X | ct_M``."""
    return envelope(ct[-32:], ct[:-32])


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=ALGORITHMS)
def kem(request: pytest.FixtureRequest, backend: str) -> hybrid.HybridKem:
    try:
        return hybrid.HybridKem(request.param, backend=backend)
    except errors.UnsupportedAlgorithm as exc:
        pytest.skip(f"backend {backend!r} lacks {request.param}'s ML-KEM: {exc}")


# -- X-Wing test vectors (draft-connolly-cfrg-xwing-kem-10, Appendix C) ----------


def test_vector_file_is_the_draft_appendix() -> None:
    assert len(VECTORS) == 3
    assert VECTORS[0]["ss"] == "d2df0522128f09dd8e2c92b1e905c793d8f57a54c3da25861f10bf4ca613e384"
    for v in VECTORS:
        assert v["sk"] == v["seed"]
        assert len(bytes.fromhex(v["pk"])) == 1216
        assert len(bytes.fromhex(v["ct"])) == 1120


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["seed"][:8])
def test_xwing_vector_keygen_and_decapsulate(vector: dict[str, str], backend: str) -> None:
    kem = hybrid.HybridKem("X25519-ML-KEM-768", backend=backend)
    pair = kem.keypair_from_seed(bytes.fromhex(vector["seed"]))
    public_key = pair.public_key
    assert isinstance(public_key, hybrid.HybridKemPublicKey)
    assert (public_key.pqc_key.to_bytes() + public_key.classical_bytes).hex() == vector["pk"]
    assert pair.secret_key.seed_bytes().hex() == vector["sk"]
    ct = from_xwing_ciphertext(bytes.fromhex(vector["ct"]))
    assert pair.secret_key.decapsulate(ct).hex() == vector["ss"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["seed"][:8])
def test_xwing_vector_encapsulate_derand(vector: dict[str, str], backend: str) -> None:
    kem = hybrid.HybridKem("X25519-ML-KEM-768", backend=backend)
    public_key = kem.keypair_from_seed(bytes.fromhex(vector["seed"])).public_key
    try:
        encapsulation = public_key.encapsulate_derand(bytes.fromhex(vector["eseed"]))
    except errors.UnsupportedAlgorithm:
        pytest.skip(f"backend {backend!r} has no derandomized ML-KEM encapsulation (encapsulate_derand)")
    assert encapsulation.ciphertext == from_xwing_ciphertext(bytes.fromhex(vector["ct"]))
    assert encapsulation.shared_secret.hex() == vector["ss"]


class _RecordedMlKem(pqc.KemPublicKey):
    """Stands in for a backend with derandomized ML-KEM: answers one known ``m``.

    The answer (ct_M from the vector, ss_M from really decapsulating it) lets
    the X25519 half, the combiner and the framing of ``encapsulate_derand`` be
    checked against the vectors on backends that cannot derandomize ML-KEM.
    """

    def __init__(self, real: pqc.KemPublicKey, m: bytes, answer: pqc.Encapsulation) -> None:
        self.algorithm, self.backend = real.algorithm, real.backend
        self._real, self._m, self._answer = real, m, answer

    def encapsulate(self) -> pqc.Encapsulation:
        raise AssertionError("encapsulate_derand must not fall back to randomized encapsulation")

    def encapsulate_derand(self, message: Buffer) -> pqc.Encapsulation:
        assert message == self._m
        return self._answer

    def to_bytes(self) -> bytes:
        return self._real.to_bytes()


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["seed"][:8])
def test_xwing_vector_encapsulate_derand_classical_half(vector: dict[str, str], backend: str) -> None:
    kem = hybrid.HybridKem("X25519-ML-KEM-768", backend=backend)
    pair = kem.keypair_from_seed(bytes.fromhex(vector["seed"]))
    public_key = pair.public_key
    assert isinstance(public_key, hybrid.HybridKemPublicKey)
    eseed, ct = bytes.fromhex(vector["eseed"]), bytes.fromhex(vector["ct"])
    ml_kem_secret = (
        pqc.Kem("ML-KEM-768", backend=backend)
        .keypair_from_seed(hashlib.shake_256(bytes.fromhex(vector["seed"])).digest(96)[:64])
        .secret_key
    )
    answer = pqc.Encapsulation(ct[:1088], ml_kem_secret.decapsulate(ct[:1088]))
    public_key._pqc_key = _RecordedMlKem(public_key.pqc_key, eseed[:32], answer)
    encapsulation = public_key.encapsulate_derand(eseed)
    assert encapsulation.ciphertext == from_xwing_ciphertext(ct)
    assert encapsulation.shared_secret.hex() == vector["ss"]


def test_library_label_is_xwing_label() -> None:
    assert hybrid.XWING_LABEL.hex() == "5c2e2f2f5e5c"


# -- independent recomputation from the parts ------------------------------------


def test_shared_secret_recomputed_by_hand(kem: hybrid.HybridKem) -> None:
    seed = bytes(range(32))
    pair = kem.keypair_from_seed(seed)
    encapsulation = pair.public_key.encapsulate()

    # Parse the envelope by hand.
    ct = encapsulation.ciphertext
    assert ct[0] == 1
    assert struct.unpack(">I", ct[1:5]) == (32,)
    ct_x, ct_m = ct[5:37], ct[37:]
    assert len(ct_m) == ML_KEM_CIPHERTEXT[kem.name]

    # Re-derive both halves from the seed without the hybrid module.
    expanded = hashlib.shake_256(seed).digest(96)
    ml_kem_secret = (
        pqc.Kem(kem.pqc_algorithm, backend=kem.backend).keypair_from_seed(expanded[:64]).secret_key
    )
    x_secret = X25519PrivateKey.from_private_bytes(expanded[64:])
    pk_x = x_secret.public_key().public_bytes_raw()
    ss_m = ml_kem_secret.decapsulate(ct_m)
    ss_x = x_secret.exchange(X25519PublicKey.from_public_bytes(ct_x))

    expected = hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + LABELS[kem.name]).digest()
    assert encapsulation.shared_secret == expected
    assert pair.secret_key.decapsulate(ct) == expected


def test_768_and_1024_never_share_a_secret_for_one_seed(backend: str) -> None:
    seed = b"\x07" * 32
    secrets = set()
    for name in ALGORITHMS:
        kem = hybrid.HybridKem(name, backend=backend)
        secrets.add(kem.keypair_from_seed(seed).public_key.encapsulate().shared_secret)
    assert len(secrets) == 2


# -- round trips, sizes, serialisation -------------------------------------------


def test_roundtrip_and_sizes(kem: hybrid.HybridKem) -> None:
    pair = kem.generate_keypair()
    encapsulation = pair.public_key.encapsulate()
    assert len(encapsulation.ciphertext) == kem.ciphertext_size
    assert len(encapsulation.shared_secret) == kem.shared_secret_size == 32
    assert pair.secret_key.decapsulate(encapsulation.ciphertext) == encapsulation.shared_secret
    assert len(pair.public_key.to_bytes()) == kem.public_key_size
    assert len(pair.secret_key.to_bytes()) == kem.secret_key_size
    assert pair.public_key.algorithm == pair.secret_key.algorithm == kem.name
    assert pair.public_key.backend == pair.secret_key.backend == kem.backend


def test_fresh_encapsulations_differ(kem: hybrid.HybridKem) -> None:
    public_key = kem.generate_keypair().public_key
    first, second = public_key.encapsulate(), public_key.encapsulate()
    assert first.ciphertext[5:37] != second.ciphertext[5:37]  # fresh ephemeral X25519 key
    assert first.shared_secret != second.shared_secret


def test_keys_serialise_and_load(kem: hybrid.HybridKem) -> None:
    pair = kem.generate_keypair()
    public_key = kem.public_key_from_bytes(pair.public_key.to_bytes())
    secret_key = kem.secret_key_from_bytes(pair.secret_key.to_bytes())
    assert public_key == pair.public_key
    assert hash(public_key) == hash(pair.public_key)
    assert secret_key.public_key() == pair.public_key
    encapsulation = public_key.encapsulate()
    assert secret_key.decapsulate(encapsulation.ciphertext) == encapsulation.shared_secret
    assert pair.secret_key.decapsulate(encapsulation.ciphertext) == encapsulation.shared_secret


def test_key_encoding_is_tagged(kem: hybrid.HybridKem) -> None:
    pair = kem.generate_keypair()
    name = kem.name.encode()
    assert pair.public_key.to_bytes()[:3] == bytes([1, 1, len(name)])
    assert pair.public_key.to_bytes()[3 : 3 + len(name)] == name
    assert pair.secret_key.to_bytes()[:3] == bytes([1, 2, len(name)])
    assert pair.secret_key.to_bytes()[3 + len(name) :] == pair.secret_key.seed_bytes()


def test_interoperates_across_backends() -> None:
    if len(BACKENDS) < 2:
        pytest.skip(f"only one backend available ({BACKENDS}); cross-backend interop needs two")
    seed = b"\x42" * 32
    pairs = [hybrid.HybridKem("X25519-ML-KEM-768", backend=b).keypair_from_seed(seed) for b in BACKENDS]
    for sender in pairs:
        encapsulation = sender.public_key.encapsulate()
        for receiver in pairs:
            assert receiver.secret_key.decapsulate(encapsulation.ciphertext) == encapsulation.shared_secret


def test_secrets_stay_out_of_repr_and_pickle(kem: hybrid.HybridKem) -> None:
    pair = kem.generate_keypair()
    encapsulation = pair.public_key.encapsulate()
    seed_hex = pair.secret_key.seed_bytes().hex()
    for text in (repr(pair.secret_key), str(pair.secret_key), repr(pair), repr(encapsulation)):
        assert seed_hex not in text
        assert encapsulation.shared_secret.hex() not in text
    for key in (pair.secret_key, pair.public_key):
        with pytest.raises(TypeError, match="to_bytes"):
            pickle.dumps(key)


# -- bad input -------------------------------------------------------------------


def test_unknown_algorithm() -> None:
    with pytest.raises(errors.UnsupportedAlgorithm, match="X25519-ML-KEM-768"):
        hybrid.HybridKem("X25519-ML-KEM-512")
    with pytest.raises(errors.UnsupportedAlgorithm):
        hybrid.HybridKem(untyped(768))


def bad_ciphertexts(ct: bytes) -> dict[str, bytes]:
    ct_x, ct_m = ct[5:37], ct[37:]
    return {
        "empty": b"",
        "version only": ct[:1],
        "truncated header": ct[:4],
        "header only": ct[:5],
        "truncated classical": ct[:20],
        "truncated pqc": ct[:-1],
        "unknown version 0": b"\x00" + ct[1:],
        "unknown version 2": b"\x02" + ct[1:],
        "length past the end": ct[:1] + struct.pack(">I", 2**32 - 1) + ct[5:],
        "length one too long": ct[:1] + struct.pack(">I", 33) + ct[5:],
        "length zero": ct[:1] + struct.pack(">I", 0) + ct[5:],
        "trailing byte": ct + b"\x00",
        "swapped halves": envelope(ct_m, ct_x),
        "classical twice": envelope(ct_x, ct_x),
        "pqc twice": envelope(ct_m, ct_m),
        "whole envelope twice": ct + ct,
        "bare X-Wing layout": ct_m + ct_x,
        "pqc ciphertext alone": ct_m,
    }


def test_malformed_ciphertexts_raise_invalid_ciphertext(kem: hybrid.HybridKem) -> None:
    pair = kem.generate_keypair()
    ct = pair.public_key.encapsulate().ciphertext
    for case, data in bad_ciphertexts(ct).items():
        try:
            pair.secret_key.decapsulate(data)
        except errors.InvalidCiphertext as exc:
            assert kem.name in str(exc), case
        else:
            pytest.fail(f"{case}: accepted")


def test_low_order_classical_ciphertext_is_refused(kem: hybrid.HybridKem) -> None:
    pair = kem.generate_keypair()
    ct = pair.public_key.encapsulate().ciphertext
    for point in (bytes(32), b"\x01" + bytes(31), LOW_ORDER_POINT):
        with pytest.raises(errors.InvalidCiphertext, match="low-order"):
            pair.secret_key.decapsulate(envelope(point, ct[37:]))


def test_tampering_changes_the_secret_without_error(kem: hybrid.HybridKem) -> None:
    pair = kem.generate_keypair()
    encapsulation = pair.public_key.encapsulate()
    ct = bytearray(encapsulation.ciphertext)
    ct[-1] ^= 1  # in the ML-KEM half: FIPS 203 implicit rejection
    assert pair.secret_key.decapsulate(bytes(ct)) != encapsulation.shared_secret
    ct = bytearray(encapsulation.ciphertext)
    ct[5] ^= 0x40  # in the X25519 half: another (valid) point
    assert pair.secret_key.decapsulate(bytes(ct)) != encapsulation.shared_secret


def test_decapsulate_with_another_key_disagrees(kem: hybrid.HybridKem) -> None:
    sender, other = kem.generate_keypair(), kem.generate_keypair()
    encapsulation = sender.public_key.encapsulate()
    assert other.secret_key.decapsulate(encapsulation.ciphertext) != encapsulation.shared_secret


def test_wrong_argument_types(kem: hybrid.HybridKem) -> None:
    pair = kem.generate_keypair()
    ct = pair.public_key.encapsulate().ciphertext
    with pytest.raises(errors.InvalidType):
        pair.secret_key.decapsulate(untyped(ct.hex()))
    with pytest.raises(errors.InvalidType):
        kem.public_key_from_bytes(untyped(pair.public_key))
    with pytest.raises(errors.InvalidType):
        kem.keypair_from_seed(untyped("0" * 32))
    assert pair.secret_key.decapsulate(bytearray(ct)) == pair.secret_key.decapsulate(memoryview(ct))


def test_wrong_seed_and_eseed_lengths(kem: hybrid.HybridKem) -> None:
    with pytest.raises(errors.InvalidArgument, match="32 bytes"):
        kem.keypair_from_seed(bytes(64))
    public_key = kem.generate_keypair().public_key
    with pytest.raises(errors.InvalidArgument, match="64 bytes"):
        public_key.encapsulate_derand(bytes(32))


def test_keys_of_another_algorithm_or_role_are_refused(backend: str) -> None:
    kem768 = hybrid.HybridKem("X25519-ML-KEM-768", backend=backend)
    kem1024 = hybrid.HybridKem("X25519-ML-KEM-1024", backend=backend)
    pair768, pair1024 = kem768.generate_keypair(), kem1024.generate_keypair()
    sig_pair = hybrid.HybridSignature("Ed25519-ML-DSA-65", backend=backend).generate_keypair()
    cases = {
        "1024 public key as 768": (kem768.public_key_from_bytes, pair1024.public_key.to_bytes()),
        "1024 secret key as 768": (kem768.secret_key_from_bytes, pair1024.secret_key.to_bytes()),
        "secret key as public": (kem768.public_key_from_bytes, pair768.secret_key.to_bytes()),
        "public key as secret": (kem768.secret_key_from_bytes, pair768.public_key.to_bytes()),
        "signature key as KEM key": (kem768.public_key_from_bytes, sig_pair.public_key.to_bytes()),
        "raw ML-KEM key": (
            kem768.public_key_from_bytes,
            cast(hybrid.HybridKemPublicKey, pair768.public_key).pqc_key.to_bytes(),
        ),
        "raw seed": (kem768.secret_key_from_bytes, pair768.secret_key.seed_bytes()),
        "empty": (kem768.public_key_from_bytes, b""),
        "truncated public key": (kem768.public_key_from_bytes, pair768.public_key.to_bytes()[:-1]),
        "trailing byte": (kem768.public_key_from_bytes, pair768.public_key.to_bytes() + b"\x00"),
        "truncated secret key": (kem768.secret_key_from_bytes, pair768.secret_key.to_bytes()[:-1]),
        "future format": (kem768.public_key_from_bytes, b"\x02" + pair768.public_key.to_bytes()[1:]),
    }
    for case, (load, data) in cases.items():
        try:
            load(data)
        except errors.InvalidKey:
            continue
        pytest.fail(f"{case}: accepted")


def test_low_order_classical_public_key_is_refused(kem: hybrid.HybridKem) -> None:
    encoded = kem.generate_keypair().public_key.to_bytes()
    offset = 3 + len(kem.name) + 4
    tampered = encoded[:offset] + LOW_ORDER_POINT + encoded[offset + 32 :]
    with pytest.raises(errors.InvalidKey, match="low-order"):
        kem.public_key_from_bytes(tampered)


def test_unreduced_ml_kem_public_key_is_refused(kem: hybrid.HybridKem) -> None:
    encoded = kem.generate_keypair().public_key.to_bytes()
    offset = 3 + len(kem.name) + 4 + 32
    tampered = encoded[:offset] + b"\xff\xff" + encoded[offset + 2 :]  # coefficient 4095 >= q
    with pytest.raises(errors.InvalidKey):
        kem.public_key_from_bytes(tampered)
