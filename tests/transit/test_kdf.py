"""transit._kdf: the KEM bodies' KDFs give exactly the bytes pyca computes (and Wycheproof's HKDF vectors)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

from secretumvault.transit._kdf import OneStepSha3, hkdf_sha256
from tests.wycheproof.loader import Case, MissingVectorFile, cases


def _empty_salt(param: Any) -> bool:
    """Transit's HKDF always has an empty salt; the other vectors would test pyca, not us."""
    (case,) = param.values
    return isinstance(case, MissingVectorFile) or (not case.hex("salt") and not case.invalid)


@pytest.mark.parametrize("case", [param for param in cases("hkdf_sha256_test.json") if _empty_salt(param)])
def test_wycheproof_hkdf_sha256_with_empty_salt(case: Case | MissingVectorFile) -> None:
    if isinstance(case, MissingVectorFile):
        pytest.fail(f"Wycheproof vector file {case.path} (or .gz) not found", pytrace=False)
    ikm, info, okm = (case.hex(k) or b"" for k in ("ikm", "info", "okm"))
    assert hkdf_sha256(ikm, info, case.test["size"]) == okm


@pytest.mark.parametrize("size", [0, 1, 32, 64, 200])
def test_one_step_kdf_is_pycas_concat_kdf_with_sha3_256(size: int) -> None:
    """SP 800-56C one-step KDF = pyca's ConcatKDFHash (the same construction, NIST SP 800-56A)."""
    for _ in range(5):
        fixed_info, z = os.urandom(size), os.urandom(32)
        expected = ConcatKDFHash(hashes.SHA3_256(), 32, otherinfo=fixed_info).derive(z)
        assert OneStepSha3(fixed_info).derive(z) == expected
