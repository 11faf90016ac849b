"""Hybrid (classical + post-quantum) KEMs and signatures, and the hybrid-mode policy.

A hybrid holds as long as *either* half holds: the KEM's shared secret stays
secret if X25519 or ML-KEM is unbroken, and a hybrid signature verifies only
if both the classical and the ML-DSA signature verify.

>>> from secretumvault import hybrid
>>> kem = hybrid.HybridKem("X25519-ML-KEM-768")     # X-Wing
>>> kp = kem.generate_keypair()
>>> enc = kp.public_key.encapsulate()
>>> kp.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret
True
>>> sig = hybrid.HybridSignature("Ed25519-ML-DSA-65")
>>> pair = sig.generate_keypair()
>>> pair.public_key.verify(pair.secret_key.sign(b"msg"), b"msg")

Composite ML-DSA (draft-ietf-lamps-pq-composite-sigs), the IETF format that goes into X.509:

>>> comp = hybrid.CompositeSignature("MLDSA65-Ed25519-SHA512")
>>> pair = comp.generate_keypair()
>>> pair.public_key.verify(pair.secret_key.sign(b"msg", b"ctx"), b"msg", b"ctx")

Engines do not pick algorithms themselves; they ask a :class:`CryptoPolicy`
for "the configured KEM/signature", and ``hybrid_mode`` decides whether that
is the hybrid or the pure post-quantum algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from secretumvault import pqc
from secretumvault.errors import InvalidType, UnsupportedAlgorithm
from secretumvault.hybrid.composite import (
    COMPOSITE_ALGORITHMS,
    CompositeSignature,
    CompositeSigPublicKey,
    CompositeSigSecretKey,
)
from secretumvault.hybrid.kem import (
    KEM_ALGORITHMS,
    XWING_LABEL,
    HybridKem,
    HybridKemPublicKey,
    HybridKemSecretKey,
    xwing_combiner,
)
from secretumvault.hybrid.sig import (
    SIGNATURE_ALGORITHMS,
    SIGNATURE_DOMAIN,
    HybridSignature,
    HybridSigPublicKey,
    HybridSigSecretKey,
    bound_message,
)
from secretumvault.pqc.keys import (
    Buffer,
    KemKeyPair,
    KemPublicKey,
    KemSecretKey,
    SigKeyPair,
    SigPublicKey,
    SigSecretKey,
)

__all__ = [
    "COMPOSITE_ALGORITHMS",
    "KEM_ALGORITHMS",
    "SIGNATURE_ALGORITHMS",
    "SIGNATURE_DOMAIN",
    "XWING_LABEL",
    "CompositeSigPublicKey",
    "CompositeSigSecretKey",
    "CompositeSignature",
    "CryptoPolicy",
    "HybridKem",
    "HybridKemPublicKey",
    "HybridKemSecretKey",
    "HybridSigPublicKey",
    "HybridSigSecretKey",
    "HybridSignature",
    "KemAlgorithm",
    "SignatureAlgorithm",
    "bound_message",
    "xwing_combiner",
]


@runtime_checkable
class KemAlgorithm(Protocol):
    """What :class:`pqc.Kem` and :class:`HybridKem` have in common."""

    @property
    def name(self) -> str: ...
    @property
    def backend(self) -> str: ...
    @property
    def ciphertext_size(self) -> int: ...
    @property
    def shared_secret_size(self) -> int: ...
    def generate_keypair(self) -> KemKeyPair: ...
    def public_key_from_bytes(self, data: Buffer) -> KemPublicKey: ...
    def secret_key_from_bytes(self, data: Buffer) -> KemSecretKey: ...


@runtime_checkable
class SignatureAlgorithm(Protocol):
    """What :class:`pqc.Signature`, :class:`HybridSignature` and :class:`CompositeSignature` share."""

    @property
    def name(self) -> str: ...
    @property
    def backend(self) -> str: ...
    @property
    def signature_size(self) -> int: ...
    def generate_keypair(self) -> SigKeyPair: ...
    def public_key_from_bytes(self, data: Buffer) -> SigPublicKey: ...
    def secret_key_from_bytes(self, data: Buffer) -> SigSecretKey: ...


# Which hybrid stands for which post-quantum algorithm in hybrid mode.
_HYBRID_KEM = {"ML-KEM-768": "X25519-ML-KEM-768", "ML-KEM-1024": "X25519-ML-KEM-1024"}
_HYBRID_SIGNATURE = {
    ("Ed25519", "ML-DSA-44"): "Ed25519-ML-DSA-44",
    ("Ed25519", "ML-DSA-65"): "Ed25519-ML-DSA-65",
    ("ECDSA-P256", "ML-DSA-65"): "ECDSA-P256-ML-DSA-65",
}


@dataclass(frozen=True)
class CryptoPolicy:
    """The algorithms engines get when they ask for "the configured KEM/signature".

    ``hybrid_mode=True`` yields the hybrid that contains the configured
    post-quantum algorithm (ML-KEM-768 -> X25519-ML-KEM-768, ML-DSA-65 with
    ``classical_signature="Ed25519"`` -> Ed25519-ML-DSA-65); ``False`` yields
    the post-quantum algorithm alone. Combinations without a hybrid are
    refused when the policy is made, not when it is first used.
    """

    hybrid_mode: bool = True
    kem_algorithm: str = "ML-KEM-768"
    signature_algorithm: str = "ML-DSA-65"
    classical_signature: str = "Ed25519"
    backend: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.hybrid_mode, bool):
            raise InvalidType(f"hybrid_mode must be a bool, not {type(self.hybrid_mode).__name__}")
        if self.hybrid_mode:
            self.kem_name()
            self.signature_name()

    def kem_name(self) -> str:
        """The name :meth:`kem` will use."""
        if not self.hybrid_mode:
            return self.kem_algorithm
        try:
            return _HYBRID_KEM[self.kem_algorithm]
        except KeyError:
            raise UnsupportedAlgorithm(
                f"hybrid mode has no hybrid KEM for {self.kem_algorithm!r}; choose one of "
                f"{', '.join(_HYBRID_KEM)}, or turn hybrid mode off"
            ) from None

    def signature_name(self) -> str:
        """The name :meth:`signature` will use."""
        if not self.hybrid_mode:
            return self.signature_algorithm
        try:
            return _HYBRID_SIGNATURE[(self.classical_signature, self.signature_algorithm)]
        except KeyError:
            offered = ", ".join(f"{c} + {p}" for c, p in _HYBRID_SIGNATURE)
            raise UnsupportedAlgorithm(
                f"hybrid mode has no hybrid signature for {self.classical_signature} + "
                f"{self.signature_algorithm}; choose one of {offered}, or turn hybrid mode off"
            ) from None

    def kem(self) -> KemAlgorithm:
        """The configured KEM: a :class:`HybridKem` in hybrid mode, else a :class:`pqc.Kem`."""
        if self.hybrid_mode:
            return HybridKem(self.kem_name(), backend=self.backend)
        return pqc.Kem(self.kem_name(), backend=self.backend)

    def signature(self) -> SignatureAlgorithm:
        """The configured signature scheme: hybrid in hybrid mode, else a :class:`pqc.Signature`."""
        if self.hybrid_mode:
            return HybridSignature(self.signature_name(), backend=self.backend)
        return pqc.Signature(self.signature_name(), backend=self.backend)
