"""SLH-DSA (FIPS 205) through the native core: the API, its checks and its refusals.

Known answers from a second implementation are in test_slh_dsa_vectors.py;
the fast "f" sets carry most of these tests (an "s" signature takes up to seconds).
"""

from __future__ import annotations

import hashlib
import pickle

import pytest

from secretumvault import errors, pqc
from secretumvault.pqc.params import SLH_DSA_NAMES, sig_params

from .conftest import untyped

FAST = ("SLH-DSA-SHA2-128f", "SLH-DSA-SHAKE-128f")
N = {"128": 16, "192": 24, "256": 32}


def n_of(name: str) -> int:
    return N[name.rsplit("-", 1)[1][:3]]


@pytest.mark.parametrize("name", SLH_DSA_NAMES)
def test_all_twelve_sets_have_fips_205_sizes_and_seeded_keys(name: str, native: str) -> None:
    sig = pqc.Signature(name, backend=native)
    n = n_of(name)
    assert (sig.public_key_size, sig.secret_key_size) == (2 * n, 4 * n)
    assert sig.signature_size == sig_params(name).signature_size
    seed = bytes(range(3 * n))
    kp = sig.keypair_from_seed(seed)
    sk = kp.secret_key.to_bytes()
    # SK = SK.seed || SK.prf || PK.seed || PK.root and PK = PK.seed || PK.root (FIPS 205 Figure 15-16)
    assert sk[: 3 * n] == seed == kp.secret_key.seed_bytes()
    assert kp.public_key.to_bytes() == sk[2 * n :]
    assert sig.keypair_from_seed(seed).public_key == kp.public_key


def test_signature_algorithms_lists_them_on_oqs_only(native: str) -> None:
    assert set(SLH_DSA_NAMES) <= set(pqc.signature_algorithms("oqs"))
    if "openssl" in pqc.available_backends():
        assert not set(SLH_DSA_NAMES) & set(pqc.signature_algorithms("openssl"))


def test_openssl_backend_refuses_with_the_reason() -> None:
    if "openssl" not in pqc.available_backends():
        pytest.skip("the openssl backend (pyca/cryptography with ML-DSA) is not available here")
    with pytest.raises(errors.UnsupportedAlgorithm, match="pyca/cryptography has no SLH-DSA"):
        pqc.Signature("SLH-DSA-SHA2-128s", backend="openssl")


@pytest.mark.parametrize("name", FAST)
def test_sign_verify_with_context(name: str, native: str) -> None:
    kp = pqc.Signature(name, backend=native).generate_keypair()
    signature = kp.secret_key.sign(b"firmware image", b"ctx")
    kp.public_key.verify(signature, b"firmware image", b"ctx")
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify(signature, b"firmware image", b"other")
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify(signature, b"firmware imagE", b"ctx")
    tampered = bytearray(signature)
    tampered[len(tampered) // 2] ^= 1
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify(bytes(tampered), b"firmware image", b"ctx")


@pytest.mark.parametrize("name", FAST)
def test_deterministic_signatures_repeat_and_hedged_ones_do_not(name: str, native: str) -> None:
    kp = pqc.Signature(name, backend=native).keypair_from_seed(b"\x07" * 48)
    one = kp.secret_key.sign(b"m", deterministic=True)
    assert kp.secret_key.sign(b"m", deterministic=True) == one
    hedged = kp.secret_key.sign(b"m")
    assert hedged != one  # the randomizer R (the first n bytes) differs
    kp.public_key.verify(hedged, b"m")
    kp.public_key.verify(one, b"m")


@pytest.mark.parametrize("hash_name", ["sha256", "sha512", "sha3_256", "shake_128", "shake_256"])
def test_hash_slh_dsa_round_trip_and_separation(hash_name: str, native: str) -> None:
    kp = pqc.Signature("SLH-DSA-SHA2-128f", backend=native).keypair_from_seed(b"\x01" * 48)
    size = {"shake_128": 32, "shake_256": 64}.get(hash_name)
    digest = hashlib.new(hash_name, b"archive").digest(*(() if size is None else (size,)))
    signature = kp.secret_key.sign_prehashed(digest, hash_name, b"c")
    kp.public_key.verify_prehashed(signature, digest, hash_name, b"c")
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify_prehashed(signature, digest, hash_name, b"d")
    # HashSLH-DSA and pure SLH-DSA sign different M' (domain byte 1 vs 0): never each other's.
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify(signature, digest, b"c")
    pure = kp.secret_key.sign(digest, b"c")
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify_prehashed(pure, digest, hash_name, b"c")
    # deterministic=True is an SLH-DSA extra (the abstract SigSecretKey does not declare it)
    slh_key = untyped(kp.secret_key)
    first = slh_key.sign_prehashed(digest, hash_name, b"c", deterministic=True)
    assert slh_key.sign_prehashed(digest, hash_name, b"c", deterministic=True) == first
    kp.public_key.verify_prehashed(first, digest, hash_name, b"c")


def test_hash_slh_dsa_checks_names_and_digest_lengths(native: str) -> None:
    kp = pqc.Signature("SLH-DSA-SHA2-128f", backend=native).keypair_from_seed(b"\x03" * 48)
    with pytest.raises(errors.UnsupportedAlgorithm, match="md5"):
        kp.secret_key.sign_prehashed(b"\x00" * 16, "md5")
    with pytest.raises(errors.InvalidArgument, match="32 bytes"):
        kp.secret_key.sign_prehashed(b"\x00" * 31, "sha256")
    with pytest.raises(errors.InvalidArgument, match="FIPS 205 context"):
        kp.secret_key.sign_prehashed(b"\x00" * 32, "sha256", b"x" * 256)


def test_external_mu_is_not_offered(native: str) -> None:
    kp = pqc.Signature("SLH-DSA-SHA2-128f", backend=native).generate_keypair()
    with pytest.raises(errors.UnsupportedAlgorithm, match="external mu"):
        kp.secret_key.sign_mu(b"\x00" * 64)
    with pytest.raises(errors.UnsupportedAlgorithm, match="external mu"):
        kp.public_key.verify_mu(b"\x00" * 17088, b"\x00" * 64)


def test_wrong_sizes_are_refused_with_library_errors(native: str) -> None:
    sig = pqc.Signature("SLH-DSA-SHA2-128f", backend=native)
    kp = sig.keypair_from_seed(b"\x04" * 48)
    good = kp.secret_key.sign(b"m", b"c", deterministic=True)
    with pytest.raises(errors.InvalidSignature, match="17088 bytes, got 17087"):
        kp.public_key.verify(good[:-1], b"m", b"c")
    with pytest.raises(errors.InvalidSignature, match="17088 bytes, got 17089"):
        kp.public_key.verify(good + b"\x00", b"m", b"c")
    with pytest.raises(errors.InvalidArgument, match="at most 255 bytes, got 256"):
        kp.secret_key.sign(b"m", b"x" * 256)
    with pytest.raises(errors.InvalidArgument, match="at most 255 bytes, got 256"):
        kp.public_key.verify(good, b"m", b"x" * 256)
    kp.secret_key.sign(b"m", b"x" * 255)  # 255 is the limit, and allowed
    with pytest.raises(errors.InvalidKey, match="public keys are 32 bytes, got 31"):
        sig.public_key_from_bytes(kp.public_key.to_bytes()[:-1])
    with pytest.raises(errors.InvalidKey, match="secret keys are 64 bytes, got 65"):
        sig.secret_key_from_bytes(kp.secret_key.to_bytes() + b"\x00")
    with pytest.raises(errors.InvalidKey, match="seeds"):
        sig.keypair_from_seed(b"\x00" * 47)
    with pytest.raises(errors.InvalidType):
        kp.secret_key.sign(untyped("text"))
    with pytest.raises(errors.UnsupportedAlgorithm, match="unknown"):
        pqc.Signature("SLH-DSA-SHA2-128x", backend=native)


def test_expanded_secret_keys_load_after_the_root_check(native: str) -> None:
    sig = pqc.Signature("SLH-DSA-SHA2-128f", backend=native)
    kp = sig.keypair_from_seed(b"\x05" * 48)
    raw = kp.secret_key.to_bytes()
    loaded = sig.secret_key_from_bytes(raw)
    assert loaded.seed_bytes() == b"\x05" * 48
    kp.public_key.verify(loaded.sign(b"m"), b"m")
    bad = bytearray(raw)
    bad[-1] ^= 1  # PK.root no longer the root of SK.seed/PK.seed
    with pytest.raises(errors.InvalidKey, match=r"PK\.root"):
        sig.secret_key_from_bytes(bytes(bad))


def test_keys_of_one_set_do_not_verify_another(native: str) -> None:
    a = pqc.Signature("SLH-DSA-SHA2-128f", backend=native).keypair_from_seed(b"\x06" * 48)
    b = pqc.Signature("SLH-DSA-SHAKE-128f", backend=native).keypair_from_seed(b"\x06" * 48)
    assert a.public_key != b.public_key
    with pytest.raises(errors.InvalidSignature):
        b.public_key.verify(a.secret_key.sign(b"m"), b"m")


def test_verify_batch_reports_each_item(native: str) -> None:
    sig = pqc.Signature("SLH-DSA-SHA2-128f", backend=native)
    kp = sig.keypair_from_seed(b"\x08" * 48)
    other = sig.keypair_from_seed(b"\x09" * 48)
    s = kp.secret_key.sign(b"one", b"c")
    results = sig.verify_batch(
        [
            (kp.public_key, s, b"one", b"c"),
            (kp.public_key, s, b"two", b"c"),
            (other.public_key, s, b"one", b"c"),
            (kp.public_key, s[:-1], b"one", b"c"),
        ]
    )
    assert results == [True, False, False, False]
    with pytest.raises(errors.InvalidArgument):
        sig.verify_batch([(kp.public_key, s, b"one", b"x" * 256)])
    ml = pqc.Signature("ML-DSA-44", backend=native).generate_keypair()
    with pytest.raises(errors.InvalidKey, match="item 0"):
        sig.verify_batch([(untyped(ml.public_key), s, b"one", b"c")])


def test_secrets_stay_out_of_repr_and_pickle(native: str) -> None:
    kp = pqc.Signature("SLH-DSA-SHA2-128f", backend=native).keypair_from_seed(b"\xab" * 48)
    assert kp.secret_key.to_bytes().hex() not in repr(kp.secret_key)
    assert "abab" not in repr(kp.secret_key).lower()
    assert "SLH-DSA-SHA2-128f" in repr(kp.secret_key)
    with pytest.raises(errors.SecretumVaultError):
        pickle.dumps(kp.secret_key)
    assert pickle.loads(pickle.dumps(kp.public_key)) == kp.public_key


def test_bench_measures_slh_dsa_against_its_c_floor(native: str) -> None:
    from secretumvault import bench

    make = bench._secretumvault(native)
    for alg, op in bench.SLH_OPERATIONS:
        if alg.endswith("128s"):
            continue  # half a second a signature: the 128f rows exercise the same code
        assert bench._floor_runner(alg, op)(1) > 0
        make(alg, op)()
