"""The public pqc API on each backend: sizes, round trips, and every error path."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest

from secretumvault import errors, pqc
from secretumvault.pqc.params import KEM_PARAMS, SIG_PARAMS

from .conftest import kem_or_skip, sig_or_skip, untyped

# FIPS 203 Table 3 and FIPS 204 Table 2, written out independently of algorithms.py.
NIST_KEM_SIZES = {
    "ML-KEM-512": (800, 1632, 768, 32),
    "ML-KEM-768": (1184, 2400, 1088, 32),
    "ML-KEM-1024": (1568, 3168, 1568, 32),
}
NIST_SIG_SIZES = {
    "ML-DSA-44": (1312, 2560, 2420),
    "ML-DSA-65": (1952, 4032, 3309),
    "ML-DSA-87": (2592, 4896, 4627),
}


@pytest.mark.parametrize("name", list(NIST_KEM_SIZES))
def test_kem_sizes_match_fips_203(name: str, backend: str) -> None:
    kem = kem_or_skip(name, backend)
    pk_size, sk_size, ct_size, ss_size = NIST_KEM_SIZES[name]
    assert (kem.public_key_size, kem.secret_key_size, kem.ciphertext_size, kem.shared_secret_size) == (
        pk_size,
        sk_size,
        ct_size,
        ss_size,
    )
    kp = kem.generate_keypair()
    enc = kp.public_key.encapsulate()
    assert len(kp.public_key.to_bytes()) == pk_size
    assert len(enc.ciphertext) == ct_size
    assert len(enc.shared_secret) == ss_size
    assert len(kp.secret_key.seed_bytes()) == 64
    assert kem.name == name and kem.backend == backend


@pytest.mark.parametrize("name", list(NIST_SIG_SIZES))
def test_signature_sizes_match_fips_204(name: str, backend: str) -> None:
    scheme = sig_or_skip(name, backend)
    pk_size, sk_size, sig_size = NIST_SIG_SIZES[name]
    assert (scheme.public_key_size, scheme.secret_key_size, scheme.signature_size) == (
        pk_size,
        sk_size,
        sig_size,
    )
    kp = scheme.generate_keypair()
    assert len(kp.public_key.to_bytes()) == pk_size
    assert len(kp.secret_key.sign(b"m")) == sig_size


@pytest.mark.parametrize("name", list(KEM_PARAMS))
def test_kem_round_trip_and_implicit_rejection(name: str, backend: str) -> None:
    kem = kem_or_skip(name, backend)
    kp = kem.generate_keypair()
    enc = kp.public_key.encapsulate()
    assert kp.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret
    assert kp.secret_key.decapsulate(bytearray(enc.ciphertext)) == enc.shared_secret
    assert kp.secret_key.decapsulate(memoryview(enc.ciphertext)) == enc.shared_secret
    tampered = bytearray(enc.ciphertext)
    tampered[0] ^= 1
    # FIPS 203 implicit rejection: a tampered ciphertext yields an unrelated secret, not an error.
    assert kp.secret_key.decapsulate(bytes(tampered)) != enc.shared_secret
    other = kem.generate_keypair()
    assert other.secret_key.decapsulate(enc.ciphertext) != enc.shared_secret
    assert kp.public_key.encapsulate().shared_secret != enc.shared_secret


@pytest.mark.parametrize("name", list(KEM_PARAMS))
def test_kem_keys_reload_from_their_encodings(name: str, backend: str) -> None:
    kem = kem_or_skip(name, backend)
    kp = kem.generate_keypair()
    enc = kp.public_key.encapsulate()
    assert kem.public_key_from_bytes(bytes(kp.public_key)) == kp.public_key
    again = kem.keypair_from_seed(kp.secret_key.seed_bytes())
    assert again.public_key == kp.public_key
    assert again.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret
    assert kp.secret_key.public_key() == kp.public_key


def test_expanded_kem_secret_key_round_trip(native: str) -> None:
    kem = pqc.Kem("ML-KEM-768", backend=native)
    kp = kem.generate_keypair()
    loaded = kem.secret_key_from_bytes(kp.secret_key.to_bytes())
    enc = kp.public_key.encapsulate()
    assert loaded.decapsulate(enc.ciphertext) == enc.shared_secret
    with pytest.raises(errors.UnsupportedAlgorithm, match="does not contain the seed"):
        loaded.seed_bytes()


@pytest.mark.parametrize("name", list(SIG_PARAMS))
def test_signature_round_trip_and_context_binding(name: str, backend: str) -> None:
    scheme = sig_or_skip(name, backend)
    kp = scheme.generate_keypair()
    sig = kp.secret_key.sign(b"message", context=b"app-v1")
    kp.public_key.verify(sig, b"message", context=b"app-v1")
    kp.public_key.verify(sig, bytearray(b"message"), context=memoryview(b"app-v1"))
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify(sig, b"message")  # context is part of what is signed
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify(sig, b"messagE", context=b"app-v1")
    tampered = bytearray(sig)
    tampered[10] ^= 0x40
    with pytest.raises(errors.InvalidSignature):
        kp.public_key.verify(bytes(tampered), b"message", context=b"app-v1")
    with pytest.raises(errors.InvalidSignature):
        scheme.generate_keypair().public_key.verify(sig, b"message", context=b"app-v1")
    assert scheme.public_key_from_bytes(kp.public_key.to_bytes()) == kp.public_key
    assert kp.public_key.verify(kp.secret_key.sign(b""), b"") is None


def test_expanded_signature_secret_key_round_trip(native: str) -> None:
    scheme = pqc.Signature("ML-DSA-65", backend=native)
    kp = scheme.generate_keypair()
    loaded = scheme.secret_key_from_bytes(kp.secret_key.to_bytes())
    kp.public_key.verify(loaded.sign(b"m"), b"m")
    assert len(kp.secret_key.seed_bytes()) == 32  # generate_keypair keeps the seed, as for ML-KEM
    with pytest.raises(errors.UnsupportedAlgorithm, match="does not contain the seed"):
        loaded.seed_bytes()


def test_seeded_signature_keys_are_deterministic(backend: str) -> None:
    scheme = sig_or_skip("ML-DSA-65", backend)
    a = scheme.keypair_from_seed(b"\x01" * 32)
    b = scheme.keypair_from_seed(bytearray(b"\x01" * 32))
    assert a.public_key == b.public_key
    assert a.secret_key.seed_bytes() == b"\x01" * 32


# -- errors -------------------------------------------------------------------------


def test_unknown_algorithms_and_backends_are_rejected() -> None:
    with pytest.raises(errors.UnsupportedAlgorithm, match="ML-KEM-768"):
        pqc.Kem("Kyber768")
    with pytest.raises(errors.UnsupportedAlgorithm, match="ML-DSA-65"):
        pqc.Signature("Dilithium3")
    with pytest.raises(errors.UnsupportedAlgorithm, match="unknown backend"):
        pqc.Kem("ML-KEM-768", backend="gpu")
    with pytest.raises(errors.UnsupportedAlgorithm):
        pqc.Kem(untyped(None))
    assert issubclass(errors.UnsupportedAlgorithm, ValueError)


def test_openssl_backend_names_what_it_lacks() -> None:
    if "openssl" not in pqc.available_backends():
        pytest.skip("openssl backend unavailable")
    with pytest.raises(errors.UnsupportedAlgorithm, match=r"openssl backend.*ML-KEM-512"):
        pqc.Kem("ML-KEM-512", backend="openssl")
    kp = pqc.Kem("ML-KEM-768", backend="openssl").generate_keypair()
    with pytest.raises(errors.UnsupportedAlgorithm, match="openssl backend"):
        kp.public_key.encapsulate_derand(b"\0" * 32)
    with pytest.raises(errors.UnsupportedAlgorithm, match="seed"):
        pqc.Kem("ML-KEM-768", backend="openssl").secret_key_from_bytes(b"\0" * 2400)


def test_missing_native_backend_is_a_clear_error() -> None:
    if "oqs" in pqc.available_backends():
        pytest.skip("native core is built here; nothing to report missing")
    with pytest.raises(errors.BackendUnavailable, match="oqs"):
        pqc.Kem("ML-KEM-768", backend="oqs")


@pytest.mark.parametrize("bad", ["text", 12, None, [1, 2, 3], 3.5])
def test_wrong_types_raise_invalid_type(bad: Any, backend: str) -> None:
    kem = kem_or_skip("ML-KEM-768", backend)
    kp = kem.generate_keypair()
    scheme = sig_or_skip("ML-DSA-65", backend)
    skp = scheme.generate_keypair()
    sig = skp.secret_key.sign(b"m")
    calls: list[Callable[[], object]] = [
        lambda: kem.public_key_from_bytes(bad),
        lambda: kem.keypair_from_seed(bad),
        lambda: kp.secret_key.decapsulate(bad),
        lambda: skp.secret_key.sign(bad),
        lambda: skp.secret_key.sign(b"m", context=bad),
        lambda: skp.public_key.verify(bad, b"m"),
        lambda: skp.public_key.verify(sig, bad),
        lambda: scheme.public_key_from_bytes(bad),
    ]
    for call in calls:
        with pytest.raises(errors.InvalidType) as raised:
            call()
        assert isinstance(raised.value, TypeError)


def test_non_contiguous_buffers_are_refused(native: str) -> None:
    kp = pqc.Kem("ML-KEM-768", backend=native).generate_keypair()
    strided = memoryview(bytes(2 * 1088))[::2]
    with pytest.raises(errors.InvalidType, match="contiguous"):
        kp.secret_key.decapsulate(strided)


@pytest.mark.parametrize("length", [0, 1, 1087, 1089, 4096])
def test_wrong_ciphertext_length(length: int, backend: str) -> None:
    kp = kem_or_skip("ML-KEM-768", backend).generate_keypair()
    with pytest.raises(errors.InvalidCiphertext, match="ML-KEM-768 ciphertexts are 1088 bytes"):
        kp.secret_key.decapsulate(b"\0" * length)


@pytest.mark.parametrize("length", [0, 1183, 1185])
def test_wrong_public_key_length(length: int, backend: str) -> None:
    kem = kem_or_skip("ML-KEM-768", backend)
    with pytest.raises(errors.InvalidKey, match="1184 bytes"):
        kem.public_key_from_bytes(b"\0" * length)
    with pytest.raises(errors.InvalidKey, match="1952 bytes"):
        sig_or_skip("ML-DSA-65", backend).public_key_from_bytes(b"\0" * (length + 768))


def test_encapsulation_key_modulus_check(backend: str) -> None:
    kem = kem_or_skip("ML-KEM-768", backend)
    ek = bytearray(kem.generate_keypair().public_key.to_bytes())
    ek[0], ek[1] = 0xFF, 0x0F  # first coefficient = 4095 >= q
    with pytest.raises(errors.InvalidKey):
        kem.public_key_from_bytes(bytes(ek))


def test_decapsulation_key_hash_check(native: str) -> None:
    kem = pqc.Kem("ML-KEM-768", backend=native)
    dk = bytearray(kem.generate_keypair().secret_key.to_bytes())
    dk[1152 + 5] ^= 1  # flip a bit of the embedded ek: H(ek) no longer matches
    with pytest.raises(errors.InvalidKey, match="hash check"):
        kem.secret_key_from_bytes(bytes(dk))
    with pytest.raises(errors.InvalidKey, match="2400 bytes"):
        kem.secret_key_from_bytes(bytes(dk[:-1]))


def test_wrong_lengths_for_native_only_inputs(native: str) -> None:
    kem = pqc.Kem("ML-KEM-768", backend=native)
    pk = kem.generate_keypair().public_key
    with pytest.raises(errors.InvalidArgument, match="32 bytes"):
        pk.encapsulate_derand(b"\0" * 31)
    with pytest.raises(errors.InvalidKey, match="64 bytes"):
        kem.keypair_from_seed(b"\0" * 63)
    scheme = pqc.Signature("ML-DSA-44", backend=native)
    with pytest.raises(errors.InvalidKey, match="2560 bytes"):
        scheme.secret_key_from_bytes(b"\0" * 2559)
    with pytest.raises(errors.InvalidKey, match=r"seeds \(xi\) are 32 bytes"):
        scheme.keypair_from_seed(b"\0" * 31)


def test_context_longer_than_255_bytes(backend: str) -> None:
    kp = sig_or_skip("ML-DSA-44", backend).generate_keypair()
    with pytest.raises(errors.InvalidArgument, match="at most 255 bytes"):
        kp.secret_key.sign(b"m", context=b"c" * 256)
    sig = kp.secret_key.sign(b"m", context=b"c" * 255)
    with pytest.raises(errors.InvalidArgument, match="at most 255 bytes"):
        kp.public_key.verify(sig, b"m", context=b"c" * 256)


def test_wrong_signature_length_is_an_invalid_signature(backend: str) -> None:
    kp = sig_or_skip("ML-DSA-65", backend).generate_keypair()
    sig = kp.secret_key.sign(b"m")
    for bad in (b"", sig[:-1], sig + b"\0"):
        with pytest.raises(errors.InvalidSignature, match="3309 bytes"):
            kp.public_key.verify(bad, b"m")


# -- secrets stay secret --------------------------------------------------------------


def test_repr_never_shows_key_material(backend: str) -> None:
    kem = kem_or_skip("ML-KEM-768", backend)
    kp = kem.generate_keypair()
    enc = kp.public_key.encapsulate()
    seed = kp.secret_key.seed_bytes()
    for text in (repr(kp), repr(kp.secret_key), str(kp.secret_key), repr(enc)):
        assert seed.hex()[:16] not in text
        assert enc.shared_secret.hex()[:16] not in text
        assert repr(enc.shared_secret)[:20] not in text
    assert "redacted" in repr(enc)
    assert "ML-KEM-768" in repr(kp.secret_key)


def test_secret_keys_refuse_pickling(backend: str) -> None:
    kp = kem_or_skip("ML-KEM-768", backend).generate_keypair()
    skp = sig_or_skip("ML-DSA-65", backend).generate_keypair()
    for key in (kp.secret_key, skp.secret_key):
        with pytest.raises(errors.InvalidType, match="not picklable") as raised:
            pickle.dumps(key)
        assert isinstance(raised.value, TypeError)


def test_public_keys_pickle_by_their_encoding(backend: str) -> None:
    kp = kem_or_skip("ML-KEM-768", backend).generate_keypair()
    skp = sig_or_skip("ML-DSA-65", backend).generate_keypair()
    for pk in (kp.public_key, skp.public_key):
        again = pickle.loads(pickle.dumps(pk))
        assert again == pk and again.backend == backend


def test_key_classes_cannot_be_built_directly(native: str) -> None:
    from secretumvault.pqc.backends import _oqs

    for cls in (_oqs.KemPublicKey, _oqs.KemSecretKey, _oqs.SigPublicKey, _oqs.SigSecretKey):
        with pytest.raises(errors.InvalidType):
            cls()
        # Not even through __new__: a key with no buffers must never exist.
        with pytest.raises(errors.InvalidType):
            cls.__new__(cls)
    with pytest.raises(errors.UnsupportedAlgorithm):
        _oqs.KemMechanism("ML-KEM-9")
    with pytest.raises(errors.UnsupportedAlgorithm):
        _oqs.SigMechanism("ML-DSA-9")


def test_keys_implement_the_public_interfaces(backend: str) -> None:
    kp = kem_or_skip("ML-KEM-768", backend).generate_keypair()
    skp = sig_or_skip("ML-DSA-65", backend).generate_keypair()
    assert isinstance(kp, pqc.KemKeyPair)
    assert isinstance(kp.public_key, pqc.KemPublicKey)
    assert isinstance(kp.secret_key, pqc.KemSecretKey)
    assert isinstance(skp.public_key, pqc.SigPublicKey)
    assert isinstance(skp.secret_key, pqc.SigSecretKey)
    assert isinstance(kp.public_key.encapsulate(), pqc.Encapsulation)
    assert kp.secret_key.backend == backend


# -- defaults -------------------------------------------------------------------------


def test_default_backend_selection() -> None:
    previous = pqc.get_default_backend()
    try:
        pqc.set_default_backend("openssl")
        assert pqc.Kem("ML-KEM-768").backend == "openssl"
        pqc.set_default_backend("auto")
        expected = "oqs" if "oqs" in pqc.available_backends() else "openssl"
        assert pqc.Kem("ML-KEM-768").backend == expected
        with pytest.raises(errors.UnsupportedAlgorithm):
            pqc.set_default_backend("quantum")
        assert pqc.get_default_backend() == "auto"
    finally:
        pqc.set_default_backend(previous)


# -- hostile arguments: errors from secretumvault.errors, never the caller's data -------

MARKER = b"TOPSECRET-" * 12  # stands in for key material passed where it does not belong


def _assert_hidden(exc: BaseException) -> None:
    text = f"{exc} {exc.args!r}"
    for shown in ("TOPSECRET", MARKER.hex()[:20], MARKER.decode()[:20]):
        assert shown not in text, f"message shows the caller's data: {text[:200]}"


@pytest.mark.parametrize(
    "not_a_list", [None, MARKER, bytearray(MARKER), memoryview(MARKER), MARKER.decode(), 5]
)
def test_batch_calls_refuse_what_is_not_a_list(backend: str, not_a_list: object) -> None:
    kem = kem_or_skip("ML-KEM-768", backend)
    scheme = sig_or_skip("ML-DSA-65", backend)
    sk = kem.generate_keypair().secret_key
    calls: list[Callable[[], object]] = [
        lambda: kem.encapsulate_batch(untyped(not_a_list)),
        lambda: kem.decapsulate_batch(sk, untyped(not_a_list)),
        lambda: scheme.verify_batch(untyped(not_a_list)),
    ]
    for call in calls:
        with pytest.raises(errors.InvalidType) as raised:
            call()
        assert isinstance(raised.value, TypeError)
        _assert_hidden(raised.value)


def test_batch_items_of_the_wrong_shape(backend: str) -> None:
    kem = kem_or_skip("ML-KEM-768", backend)
    scheme = sig_or_skip("ML-DSA-65", backend)
    kp, skp = kem.generate_keypair(), scheme.generate_keypair()
    ct = kp.public_key.encapsulate().ciphertext
    sig = skp.secret_key.sign(b"m")
    good = (skp.public_key, sig, b"m", b"")
    for bad_item in [good[:3], (*good, b"extra"), None, MARKER]:
        with pytest.raises(errors.InvalidArgument, match="item 1") as raised:
            scheme.verify_batch([good, untyped(bad_item)])
        _assert_hidden(raised.value)
    # A key where a public key belongs: refused before anything is verified.
    with pytest.raises(errors.InvalidKey, match="item 0") as raised:
        scheme.verify_batch([(untyped(MARKER), sig, b"m", b"")])
    _assert_hidden(raised.value)
    with pytest.raises(errors.InvalidKey, match="item 1") as raised:
        kem.encapsulate_batch([kp.public_key, untyped(MARKER)])
    _assert_hidden(raised.value)
    # decapsulate_batch needs the secret key: its public key, or raw bytes, are refused.
    for not_a_secret_key in (kp.public_key, MARKER):
        with pytest.raises(errors.InvalidKey, match="secret key") as raised:
            kem.decapsulate_batch(untyped(not_a_secret_key), [ct])
        _assert_hidden(raised.value)


def test_names_that_are_not_names_are_not_shown(backend: str) -> None:
    for call in (
        lambda: pqc.Kem(untyped(MARKER), backend=backend),
        lambda: pqc.Signature(untyped(MARKER), backend=backend),
        lambda: pqc.Kem(MARKER.decode(), backend=backend),
        lambda: pqc.Kem("ML-KEM-768", backend=MARKER.decode()),
    ):
        with pytest.raises(errors.UnsupportedAlgorithm) as raised:
            call()
        _assert_hidden(raised.value)


def test_wrong_lengths_never_show_the_value(backend: str) -> None:
    kem = kem_or_skip("ML-KEM-768", backend)
    scheme = sig_or_skip("ML-DSA-65", backend)
    kp, skp = kem.generate_keypair(), scheme.generate_keypair()
    calls: list[Callable[[], object]] = [
        lambda: kem.public_key_from_bytes(MARKER),
        lambda: kem.keypair_from_seed(MARKER),
        lambda: kem.secret_key_from_bytes(MARKER),
        lambda: kp.secret_key.decapsulate(MARKER),
        lambda: kp.public_key.encapsulate_derand(MARKER),
        lambda: scheme.public_key_from_bytes(MARKER),
        lambda: scheme.secret_key_from_bytes(MARKER),
        lambda: scheme.keypair_from_seed(MARKER),
        lambda: skp.public_key.verify(MARKER, b"m"),
        lambda: skp.secret_key.sign(b"m", context=MARKER * 3),
        lambda: kem.decapsulate_batch(kp.secret_key, [MARKER]),
        lambda: skp.secret_key.sign_mu(MARKER),
        lambda: skp.public_key.verify_mu(MARKER, bytes(64)),
        lambda: skp.secret_key.sign_prehashed(MARKER, "sha256"),
        lambda: skp.secret_key.sign_prehashed(bytes(32), MARKER.decode()),
        lambda: skp.public_key.verify_prehashed(MARKER, bytes(32), "sha256"),
    ]
    for call in calls:
        with pytest.raises(errors.SecretumVaultError) as raised:
            call()
        _assert_hidden(raised.value)
