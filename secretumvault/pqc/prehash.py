"""HashML-DSA (FIPS 204, section 5.4): the pre-hash functions both backends accept.

Names are spelled as :mod:`hashlib` spells them. For each: the DER encoding of
its OID (which HashML-DSA signs along with the digest), the digest length
(SHAKE128 and SHAKE256 give 32 and 64 bytes here, as FIPS 204 fixes), and
mldsa-native's number for it.
"""

from __future__ import annotations

import hashlib

from secretumvault._frozen import Frozen, set_field
from secretumvault.errors import InvalidArgument, UnsupportedAlgorithm
from secretumvault.pqc._buffers import shown_name

__all__ = ["HASH_ALGORITHMS", "PreHash", "external_mu", "formatted_message", "prehash"]

_NIST_HASH_ARC = bytes.fromhex("06096086480165030402")  # OID 2.16.840.1.101.3.4.2, DER with its 9-byte length


class PreHash(Frozen):
    __slots__ = _fields = ("name", "oid", "digest_size", "mldsa_native_id")
    name: str
    oid: bytes  # DER: 06 09 60 86 48 01 65 03 04 02 xx
    digest_size: int
    mldsa_native_id: int  # MLD_PREHASH_*

    def __init__(self, name: str, oid: bytes, digest_size: int, mldsa_native_id: int) -> None:
        set_field(self, "name", name)
        set_field(self, "oid", oid)
        set_field(self, "digest_size", digest_size)
        set_field(self, "mldsa_native_id", mldsa_native_id)


HASH_ALGORITHMS: dict[str, PreHash] = {
    h.name: h
    for h in (
        PreHash("sha256", _NIST_HASH_ARC + b"\x01", 32, 2),
        PreHash("sha384", _NIST_HASH_ARC + b"\x02", 48, 3),
        PreHash("sha512", _NIST_HASH_ARC + b"\x03", 64, 4),
        PreHash("sha3_256", _NIST_HASH_ARC + b"\x08", 32, 8),
        PreHash("sha3_384", _NIST_HASH_ARC + b"\x09", 48, 9),
        PreHash("sha3_512", _NIST_HASH_ARC + b"\x0a", 64, 10),
        PreHash("shake_128", _NIST_HASH_ARC + b"\x0b", 32, 11),
        PreHash("shake_256", _NIST_HASH_ARC + b"\x0c", 64, 12),
    )
}


def prehash(hash_algorithm: object, digest_len: int) -> PreHash:
    """The pre-hash function named ``hash_algorithm``, after checking the digest length against it."""
    found = HASH_ALGORITHMS.get(hash_algorithm) if isinstance(hash_algorithm, str) else None
    if found is None:
        name, names = shown_name(hash_algorithm), ", ".join(HASH_ALGORITHMS)
        raise UnsupportedAlgorithm(f"unknown HashML-DSA hash {name}; expected one of {names}")
    if digest_len != found.digest_size:
        raise InvalidArgument(
            f"{found.name} digests for HashML-DSA are {found.digest_size} bytes, got {digest_len}"
        )
    return found


def formatted_message(digest: bytes, hash_algorithm: PreHash, context: bytes) -> bytes:
    """M' of HashML-DSA.Sign (FIPS 204 Algorithm 4): 1 || len(ctx) || ctx || OID || digest."""
    return b"\x01" + bytes((len(context),)) + context + hash_algorithm.oid + digest


def external_mu(public_key: bytes, message: bytes) -> bytes:
    """mu = SHAKE256(tr || M', 64) with tr = SHAKE256(pk, 64): what ML-DSA.Sign_internal signs."""
    tr = hashlib.shake_256(public_key).digest(64)
    return hashlib.shake_256(tr + message).digest(64)
