"""All of FIPS 204 on the pqc API: seeds, deterministic signing, external mu, HashML-DSA, checked keys.

The HashML-DSA checks build mu here with hashlib (FIPS 204 Algorithm 4 and the
OIDs written out below), independently of either backend.
"""

from __future__ import annotations

import hashlib

import pytest

from secretumvault import errors, pqc
from secretumvault.encoding import keyfile

from .conftest import sig_or_skip, untyped

NAMES = ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"]

# FIPS 204 section 5.4.1: the DER OIDs of the pre-hash functions (2.16.840.1.101.3.4.2.x).
OIDS = {
    "sha256": "0609608648016503040201",
    "sha384": "0609608648016503040202",
    "sha512": "0609608648016503040203",
    "sha3_256": "0609608648016503040208",
    "sha3_384": "0609608648016503040209",
    "sha3_512": "060960864801650304020a",
    "shake_128": "060960864801650304020b",
    "shake_256": "060960864801650304020c",
}


def _digest(hash_name: str, message: bytes) -> bytes:
    if hash_name == "shake_128":
        return hashlib.shake_128(message).digest(32)
    if hash_name == "shake_256":
        return hashlib.shake_256(message).digest(64)
    return hashlib.new(hash_name, message).digest()


def _mu(public_key: bytes, formatted_message: bytes) -> bytes:
    tr = hashlib.shake_256(public_key).digest(64)
    return hashlib.shake_256(tr + formatted_message).digest(64)


def _hashml_mu(public_key: bytes, hash_name: str, digest: bytes, context: bytes) -> bytes:
    m_prime = b"\x01" + bytes((len(context),)) + context + bytes.fromhex(OIDS[hash_name]) + digest
    return _mu(public_key, m_prime)


# -- keys from seeds ---------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_generated_keys_keep_their_seed(name: str, backend: str) -> None:
    scheme = sig_or_skip(name, backend)
    kp = scheme.generate_keypair()
    seed = kp.secret_key.seed_bytes()
    assert len(seed) == 32
    again = scheme.keypair_from_seed(seed)
    assert again.public_key == kp.public_key
    kp.public_key.verify(again.secret_key.sign(b"m"), b"m")


@pytest.mark.parametrize("name", NAMES)
def test_seeded_keys_are_stored_as_seeds(name: str, backend: str) -> None:
    secret = sig_or_skip(name, backend).generate_keypair().secret_key
    blob = keyfile.dump(secret)
    assert blob.endswith(secret.seed_bytes()) and len(blob) == 3 + len(name) + 1 + 32
    loaded = keyfile.load(blob, backend=backend)
    assert isinstance(loaded, pqc.SigSecretKey) and loaded.seed_bytes() == secret.seed_bytes()


# -- deterministic signing -----------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_signatures_repeat_and_hedged_ones_do_not(name: str, native: str) -> None:
    kp = pqc.Signature(name, backend=native).keypair_from_seed(bytes(32))
    one = kp.secret_key.sign(b"message", b"ctx", deterministic=True)
    assert one == kp.secret_key.sign(bytearray(b"message"), memoryview(b"ctx"), deterministic=True)
    assert kp.secret_key.sign(b"message", b"ctx") != kp.secret_key.sign(b"message", b"ctx")
    kp.public_key.verify(one, b"message", b"ctx")
    # The deterministic signature is the one over the external mu of the same message.
    mu = _mu(kp.public_key.to_bytes(), b"\x00\x03ctx" + b"message")
    assert kp.secret_key.sign_mu(mu, deterministic=True) == one


def test_openssl_signs_hedged_only() -> None:
    kp = sig_or_skip("ML-DSA-65", "openssl").generate_keypair()
    with pytest.raises(errors.UnsupportedAlgorithm, match=r"fresh randomness only; use backend='oqs'"):
        kp.secret_key.sign(b"m", deterministic=True)
    with pytest.raises(errors.UnsupportedAlgorithm, match="fresh randomness only"):
        kp.secret_key.sign_mu(bytes(64), deterministic=True)


# -- external mu ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_sign_mu_is_signing_the_formatted_message(name: str, backend: str) -> None:
    kp = sig_or_skip(name, backend).generate_keypair()
    mu = _mu(kp.public_key.to_bytes(), b"\x00\x05hello" + b"a message")
    sig = kp.secret_key.sign_mu(mu)
    kp.public_key.verify_mu(sig, mu)
    kp.public_key.verify(sig, b"a message", b"hello")  # the same as a pure signature of it
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify_mu(sig, bytes(64))


def test_mu_must_be_64_bytes(backend: str) -> None:
    kp = sig_or_skip("ML-DSA-44", backend).generate_keypair()
    sig = kp.secret_key.sign_mu(bytes(64))
    for bad in (b"", bytes(63), bytes(65)):
        with pytest.raises(errors.InvalidArgument, match="64 bytes"):
            kp.secret_key.sign_mu(bad)
        with pytest.raises(errors.InvalidArgument, match="64 bytes"):
            kp.public_key.verify_mu(sig, bad)
    with pytest.raises(errors.InvalidSignature, match="2420 bytes"):
        kp.public_key.verify_mu(sig[:-1], bytes(64))
    with pytest.raises(errors.InvalidType):
        kp.secret_key.sign_mu(untyped("text"))


# -- HashML-DSA ------------------------------------------------------------------------


@pytest.mark.parametrize("hash_name", list(OIDS))
def test_hashml_dsa_signs_the_independently_computed_mu(hash_name: str, backend: str) -> None:
    kp = sig_or_skip("ML-DSA-65", backend).generate_keypair()
    digest = _digest(hash_name, b"a long document")
    sig = kp.secret_key.sign_prehashed(digest, hash_name, context=b"app")
    kp.public_key.verify_prehashed(sig, digest, hash_name, context=b"app")
    kp.public_key.verify_mu(sig, _hashml_mu(kp.public_key.to_bytes(), hash_name, digest, b"app"))
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify_prehashed(sig, digest, hash_name, context=b"other")
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify_prehashed(sig, _digest(hash_name, b"another document"), hash_name, b"app")


@pytest.mark.parametrize("name", NAMES)
def test_hashml_dsa_and_pure_ml_dsa_never_stand_for_each_other(name: str, backend: str) -> None:
    kp = sig_or_skip(name, backend).generate_keypair()
    digest = hashlib.sha512(b"document").digest()
    hashed = kp.secret_key.sign_prehashed(digest, "sha512")
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify(hashed, digest)  # a HashML-DSA signature is no pure signature of the digest
    pure = kp.secret_key.sign(digest)
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify_prehashed(pure, digest, "sha512")  # nor the reverse
    # Nor under another hash with a digest of the same length.
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify_prehashed(hashed, digest, "sha3_512")


def test_hashml_dsa_checks_names_and_digest_lengths(backend: str) -> None:
    kp = sig_or_skip("ML-DSA-44", backend).generate_keypair()
    sig = kp.secret_key.sign_prehashed(bytes(32), "sha256")
    for hash_name, size in [("sha256", 32), ("sha384", 48), ("shake_128", 32), ("shake_256", 64)]:
        for wrong in (size - 1, size + 1):
            with pytest.raises(
                errors.InvalidArgument, match=f"{hash_name} digests for HashML-DSA are {size} bytes"
            ):
                kp.secret_key.sign_prehashed(bytes(wrong), hash_name)
            with pytest.raises(
                errors.InvalidArgument, match=f"{hash_name} digests for HashML-DSA are {size} bytes"
            ):
                kp.public_key.verify_prehashed(sig, bytes(wrong), hash_name)
    for unknown in ("SHA-256", "md5", "sha224", untyped(None)):
        with pytest.raises(errors.UnsupportedAlgorithm, match="expected one of sha256, sha384"):
            kp.secret_key.sign_prehashed(bytes(32), unknown)
    with pytest.raises(errors.InvalidArgument, match="at most 255 bytes"):
        kp.secret_key.sign_prehashed(bytes(32), "sha256", context=bytes(256))


@pytest.mark.parametrize("maker", ["oqs", "openssl"])
def test_hashml_dsa_verifies_across_backends(maker: str) -> None:
    if not {"oqs", "openssl"} <= set(pqc.available_backends()):
        pytest.skip("needs both backends")
    taker = "openssl" if maker == "oqs" else "oqs"
    kp = pqc.Signature("ML-DSA-87", backend=maker).generate_keypair()
    other = pqc.Signature("ML-DSA-87", backend=taker).keypair_from_seed(kp.secret_key.seed_bytes())
    digest = hashlib.sha3_512(b"document").digest()
    sig = kp.secret_key.sign_prehashed(digest, "sha3_512", b"c")
    other.public_key.verify_prehashed(sig, digest, "sha3_512", b"c")
    mu = bytes(range(64))
    other.public_key.verify_mu(kp.secret_key.sign_mu(mu), mu)


def test_hybrid_keys_do_not_offer_mu_or_prehash() -> None:
    from secretumvault import hybrid

    pair = hybrid.HybridSignature("Ed25519-ML-DSA-65").generate_keypair()
    with pytest.raises(errors.UnsupportedAlgorithm, match="external mu"):
        pair.secret_key.sign_mu(bytes(64))
    with pytest.raises(errors.UnsupportedAlgorithm, match="HashML-DSA"):
        pair.public_key.verify_prehashed(b"", bytes(32), "sha256")
    with pytest.raises(errors.UnsupportedAlgorithm, match="hedged"):
        pair.secret_key.sign(b"m", deterministic=True)


# -- expanded secret keys are checked as FIPS 204 skDecode requires -----------------------

# (k, l, eta) of each parameter set; sk = rho (32) | K (32) | tr (64) | s1 | s2 | t0.
SHAPES = {"ML-DSA-44": (4, 4, 2), "ML-DSA-65": (6, 5, 4), "ML-DSA-87": (8, 7, 2)}


def _s1_s2_offsets(name: str) -> tuple[int, int]:
    _, s1_polys, eta = SHAPES[name]
    packed = 96 if eta == 2 else 128  # 256 coefficients of 3 or 4 bits
    return 128, 128 + s1_polys * packed


def _with_coefficient(sk: bytes, offset: int, eta: int, value: int) -> bytes:
    """``sk`` with the first packed coefficient at ``offset`` set to the raw value ``value``."""
    out = bytearray(sk)
    bits = 3 if eta == 2 else 4
    mask = (1 << bits) - 1
    out[offset] = (out[offset] & ~mask & 0xFF) | value
    return bytes(out)


@pytest.mark.parametrize("name", NAMES)
def test_expanded_keys_with_out_of_range_coefficients_are_refused(name: str, native: str) -> None:
    scheme = pqc.Signature(name, backend=native)
    sk = scheme.keypair_from_seed(bytes(range(32))).secret_key.to_bytes()
    _, _, eta = SHAPES[name]
    for offset in _s1_s2_offsets(name):
        for raw in range(2 * eta + 1, 8 if eta == 2 else 16):  # eta - raw < -eta
            with pytest.raises(errors.InvalidKey, match="s1 or s2 is out of range"):
                scheme.secret_key_from_bytes(_with_coefficient(sk, offset, eta, raw))
        # An in-range change passes the range check but breaks the key's consistency.
        current = sk[offset] & ((1 << (3 if eta == 2 else 4)) - 1)
        with pytest.raises(errors.InvalidKey, match="inconsistent"):
            scheme.secret_key_from_bytes(_with_coefficient(sk, offset, eta, (current + 1) % (2 * eta + 1)))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("part", "offset"), [("rho", 0), ("tr", 64), ("t0", -1)])
def test_expanded_keys_whose_parts_disagree_are_refused(
    name: str, part: str, offset: int, native: str
) -> None:
    scheme = pqc.Signature(name, backend=native)
    sk = bytearray(scheme.keypair_from_seed(bytes(range(32))).secret_key.to_bytes())
    sk[offset] ^= 0x01
    with pytest.raises(errors.InvalidKey, match="inconsistent"):
        scheme.secret_key_from_bytes(bytes(sk))


@pytest.mark.parametrize("name", NAMES)
def test_well_formed_expanded_keys_load_and_sign(name: str, native: str) -> None:
    scheme = pqc.Signature(name, backend=native)
    kp = scheme.keypair_from_seed(bytes(range(32)))
    sk = bytearray(kp.secret_key.to_bytes())
    sk[33] ^= 0xFF  # K only seeds the signing randomness: the key stays valid, its signatures too
    loaded = scheme.secret_key_from_bytes(bytes(sk))
    kp.public_key.verify(loaded.sign(b"m", deterministic=True), b"m")
    assert loaded.sign(b"m", deterministic=True) != kp.secret_key.sign(b"m", deterministic=True)
