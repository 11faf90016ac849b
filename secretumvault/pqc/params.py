"""Static facts about the post-quantum algorithms SecretumVault ships.

Sizes are the FIPS 203 / FIPS 204 / FIPS 205 encodings. Both backends check their inputs
against these numbers, so a wrong length gets the same error everywhere.
"""

from __future__ import annotations

from typing import TypeVar

from secretumvault._frozen import Frozen, set_field
from secretumvault.errors import UnsupportedAlgorithm
from secretumvault.pqc._buffers import shown_name

__all__ = [
    "KEM_PARAMS",
    "SIG_PARAMS",
    "SLH_DSA_NAMES",
    "KemParams",
    "SigParams",
    "is_slh_dsa",
    "kem_params",
    "sig_params",
]


class KemParams(Frozen):
    __slots__ = _fields = (
        "name",
        "public_key_size",
        "secret_key_size",
        "ciphertext_size",
        "shared_secret_size",
        "keypair_seed_size",
        "encaps_seed_size",
    )
    name: str
    public_key_size: int
    secret_key_size: int
    ciphertext_size: int
    shared_secret_size: int
    keypair_seed_size: int
    encaps_seed_size: int

    def __init__(
        self,
        name: str,
        public_key_size: int,
        secret_key_size: int,
        ciphertext_size: int,
        shared_secret_size: int = 32,
        keypair_seed_size: int = 64,
        encaps_seed_size: int = 32,
    ) -> None:
        set_field(self, "name", name)
        set_field(self, "public_key_size", public_key_size)
        set_field(self, "secret_key_size", secret_key_size)
        set_field(self, "ciphertext_size", ciphertext_size)
        set_field(self, "shared_secret_size", shared_secret_size)
        set_field(self, "keypair_seed_size", keypair_seed_size)
        set_field(self, "encaps_seed_size", encaps_seed_size)


class SigParams(Frozen):
    __slots__ = _fields = (
        "name",
        "public_key_size",
        "secret_key_size",
        "signature_size",
        "seed_size",
        "max_context_size",
    )
    name: str
    public_key_size: int
    secret_key_size: int
    signature_size: int
    seed_size: int
    max_context_size: int

    def __init__(
        self,
        name: str,
        public_key_size: int,
        secret_key_size: int,
        signature_size: int,
        seed_size: int = 32,
        max_context_size: int = 255,
    ) -> None:
        set_field(self, "name", name)
        set_field(self, "public_key_size", public_key_size)
        set_field(self, "secret_key_size", secret_key_size)
        set_field(self, "signature_size", signature_size)
        set_field(self, "seed_size", seed_size)
        set_field(self, "max_context_size", max_context_size)


_P = TypeVar("_P", KemParams, SigParams)

KEM_PARAMS: dict[str, KemParams] = {
    p.name: p
    for p in (
        KemParams("ML-KEM-512", 800, 1632, 768),
        KemParams("ML-KEM-768", 1184, 2400, 1088),
        KemParams("ML-KEM-1024", 1568, 3168, 1568),
    )
}

SIG_PARAMS: dict[str, SigParams] = {
    p.name: p
    for p in (
        SigParams("ML-DSA-44", 1312, 2560, 2420),
        SigParams("ML-DSA-65", 1952, 4032, 3309),
        SigParams("ML-DSA-87", 2592, 4896, 4627),
    )
}

# FIPS 205 Table 2: n and the signature size of each set. Keys are PK.seed || PK.root (2n) and
# SK.seed || SK.prf || PK.seed || PK.root (4n); the "seed" is SK.seed || SK.prf || PK.seed (3n),
# slh_keygen_internal's inputs. The order is csrc/sv_slhdsa.h's numbering.
_SLH_DSA_SIZES = (
    ("128s", 16, 7856),
    ("128f", 16, 17088),
    ("192s", 24, 16224),
    ("192f", 24, 35664),
    ("256s", 32, 29792),
    ("256f", 32, 49856),
)
#: The twelve SLH-DSA parameter sets, SHA2 then SHAKE.
SLH_DSA_NAMES: tuple[str, ...] = tuple(
    f"SLH-DSA-{family}-{level}" for family in ("SHA2", "SHAKE") for level, _, _ in _SLH_DSA_SIZES
)
for _family in ("SHA2", "SHAKE"):
    for _level, _n, _sig in _SLH_DSA_SIZES:
        _p = SigParams(f"SLH-DSA-{_family}-{_level}", 2 * _n, 4 * _n, _sig, seed_size=3 * _n)
        SIG_PARAMS[_p.name] = _p


def is_slh_dsa(name: str) -> bool:
    """Whether ``name`` is one of the SLH-DSA (FIPS 205) parameter sets."""
    return name in SLH_DSA_NAMES


def kem_params(name: object) -> KemParams:
    return _lookup(KEM_PARAMS, name, "KEM")


def sig_params(name: object) -> SigParams:
    return _lookup(SIG_PARAMS, name, "signature algorithm")


def _lookup(table: dict[str, _P], name: object, family: str) -> _P:
    if isinstance(name, str) and name in table:
        return table[name]
    raise UnsupportedAlgorithm(f"unknown {family} {shown_name(name)}; expected one of {', '.join(table)}")
