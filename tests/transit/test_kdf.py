"""transit._kdf: HKDF-SHA256 on hashlib, byte-identical to RFC 5869 as pyca and Wycheproof compute it."""

from __future__ import annotations

import hmac
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from secretumvault.transit._kdf import Hkdf, HmacSha256, hkdf_sha256
from tests.wycheproof.loader import Case, MissingVectorFile, cases


@pytest.mark.parametrize("case", cases("hkdf_sha256_test.json"))
def test_wycheproof_hkdf_sha256(case: Case | MissingVectorFile) -> None:
    if isinstance(case, MissingVectorFile):
        pytest.fail(f"Wycheproof vector file {case.path} (or .gz) not found", pytrace=False)
    ikm, salt, info, okm = (case.hex(k) or b"" for k in ("ikm", "salt", "info", "okm"))
    size = case.test["size"]
    if case.invalid:  # the only invalid cases ask for more than 255 blocks
        with pytest.raises(ValueError):
            hkdf_sha256(ikm, salt, info, size)
        return
    assert hkdf_sha256(ikm, salt, info, size) == okm


@pytest.mark.parametrize("length", [1, 16, 31, 32, 33, 64, 100, 255 * 32])
@pytest.mark.parametrize("salt_size", [0, 1, 32, 64, 65, 200])
def test_matches_pyca(length: int, salt_size: int) -> None:
    for _ in range(5):
        ikm, salt, info = os.urandom(32), os.urandom(salt_size), os.urandom(length % 70)
        expected = HKDF(hashes.SHA256(), length, salt=salt or None, info=info).derive(ikm)
        assert Hkdf(salt, info, length).derive(ikm) == expected


def test_reused_object_gives_the_same_as_fresh_ones() -> None:
    """The precomputed salt states are copied per call, never consumed."""
    kdf = Hkdf(b"", b"transit info", 32)
    secrets = [os.urandom(32) for _ in range(20)]
    assert [kdf.derive(s) for s in secrets] == [
        HKDF(hashes.SHA256(), 32, salt=None, info=b"transit info").derive(s) for s in secrets
    ]
    assert [kdf.derive(s) for s in reversed(secrets)] == [kdf.derive(s) for s in secrets][::-1]


@pytest.mark.parametrize("length", [0, -1, 255 * 32 + 1])
def test_refuses_impossible_lengths(length: int) -> None:
    with pytest.raises(ValueError):
        Hkdf(b"", b"", length)


@pytest.mark.parametrize("key_size", [0, 1, 32, 63, 64, 65, 131])
def test_hmac_sha256_matches_the_standard_library(key_size: int) -> None:
    key = os.urandom(key_size)
    mac = HmacSha256(key)
    for size in (0, 1, 55, 56, 64, 1000):
        message = os.urandom(size)
        assert mac.digest(message) == hmac.digest(key, message, "sha256")


def test_hmac_sha256_rfc4231_case_2() -> None:
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert HmacSha256(b"Jefe").digest(b"what do ya want for nothing?").hex() == expected
