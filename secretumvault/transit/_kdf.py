"""The KDFs transit derives per-message AES keys with, from a KEM shared secret.

``OneStepSha3`` (KEM bodies, format 2): NIST SP 800-56C Rev. 2's one-step KDF
with H = SHA3-256 for a 256-bit key, which is a single hash
``SHA3-256(u32be(1) || Z || FixedInfo)`` (docs/design.md says why it is sound
after ML-KEM). pyca's ``ConcatKDFHash`` computes the same bytes (tests check
it); one hashlib call is used because it sits on every KEM encryption and
pyca's object costs more than the hash.

``hkdf_sha256`` (format 1 bodies, still read): pyca's HKDF, empty salt.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["OneStepSha3", "hkdf_sha256"]

_FIRST_COUNTER = b"\x00\x00\x00\x01"  # SP 800-56C: a 32-bit counter from 1; one block for 256 bits


class OneStepSha3:
    """SP 800-56C Rev. 2 one-step KDF, H = SHA3-256, L = 256 bits, fixed ``FixedInfo``: ``derive(z)``."""

    __slots__ = ("_fixed_info",)

    def __init__(self, fixed_info: bytes) -> None:
        self._fixed_info = fixed_info

    def derive(self, shared_secret: bytes) -> bytes:
        return hashlib.sha3_256(_FIRST_COUNTER + shared_secret + self._fixed_info).digest()


def hkdf_sha256(ikm: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869) with an empty salt, as format 1 KEM bodies were made."""
    return HKDF(hashes.SHA256(), length, salt=None, info=info).derive(ikm)
