"""Turn one stored key version into the object that performs its operations.

ML-DSA secrets are stored as a 32-byte seed where the generating backend kept
one ("openssl"), else expanded ("oqs"); each loads only on a backend that
understands its form. So secret keys are loaded on the configured backend
first and, if it cannot load that form, on the other available backends.
Public keys use the standard encodings, which every backend reads.

The hybrid package and the KEM cipher are imported only when a key of a type
that needs them is loaded: a command line call pays for each module it
imports, and an AES or ML-KEM key has no use for X25519 or Ed25519.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from secretumvault import pqc
from secretumvault.errors import InvalidKey, UnsupportedAlgorithm
from secretumvault.pqc.keys import KemSecretKey, SigPublicKey, SigSecretKey
from secretumvault.transit import _material
from secretumvault.transit._binding import kem_kdf_fixed_info, kem_kdf_info
from secretumvault.transit._mac import HmacKey
from secretumvault.transit._material import Material
from secretumvault.transit._signers import EcdsaP256Signer, Ed25519Signer, PqcSigner
from secretumvault.transit._symmetric import SymmetricCipher
from secretumvault.transit.key_types import KeyTypeSpec, Purpose

if TYPE_CHECKING:
    from typing import TypeAlias

    from secretumvault import hybrid
    from secretumvault.transit._kem_cipher import KemCipher
    from secretumvault.transit._rsa import RsaKey
    from secretumvault.transit._signers import Signer

    #: What a key version turns into (a type only: the KEM cipher is imported for KEM keys alone).
    Operator: TypeAlias = SymmetricCipher | KemCipher | Signer | HmacKey | RsaKey

__all__ = ["Operator", "build_operator"]

_T = TypeVar("_T")


def build_operator(
    spec: KeyTypeSpec, name: str, version: int, material: Material, backend: str | None
) -> Operator:
    """The operation object for ``name`` version ``version``. Raises InvalidKey if the material is bad."""
    label = f"transit key {name!r} version {version}"
    if spec.purpose is Purpose.SYMMETRIC_ENCRYPTION:
        return SymmetricCipher(spec.algorithm, material.secret, label)
    if spec.purpose is Purpose.HMAC:
        return HmacKey(material.secret, label)
    assert material.public_key is not None  # Material.from_dict guarantees it for asymmetric types
    if spec.purpose is Purpose.RSA:
        from secretumvault.transit._rsa import RsaKey

        return RsaKey(material.secret, material.public_key, label)
    if spec.purpose is Purpose.KEM_ENCRYPTION:
        return _kem_cipher(spec, name, version, material, material.public_key, backend, label)
    if spec.name == "ed25519":
        return Ed25519Signer(material.secret, material.public_key, label)
    if spec.name == "ecdsa-p256":
        return EcdsaP256Signer(material.secret, material.public_key, label)
    return _pqc_signer(spec, material, material.public_key, backend, label)


def _kem_cipher(
    spec: KeyTypeSpec,
    name: str,
    version: int,
    material: Material,
    public_key: bytes,
    backend: str | None,
    label: str,
) -> KemCipher:
    from secretumvault.transit._kem_cipher import KemCipher

    kem: hybrid.KemAlgorithm
    load_secret: Callable[[], KemSecretKey]
    if material.encoding == _material.ML_KEM_SEED:
        ml_kem = pqc.Kem(spec.algorithm, backend)
        kem = ml_kem
        # ML-KEM seeds load on every backend: no fallback needed.
        load_secret = lambda: ml_kem.keypair_from_seed(material.secret).secret_key  # noqa: E731
    else:
        from secretumvault import hybrid

        hybrid_kem = hybrid.HybridKem(spec.algorithm, backend)
        kem = hybrid_kem
        load_secret = lambda: hybrid_kem.secret_key_from_bytes(material.secret)  # noqa: E731
    return KemCipher(
        kem,
        kem.public_key_from_bytes(public_key),
        load_secret,
        fixed_info=kem_kdf_fixed_info(name, version, spec.name),
        v1_info=kem_kdf_info(name, version, spec.name),
        label=label,
    )


def _pqc_signer(
    spec: KeyTypeSpec, material: Material, public_key: bytes, backend: str | None, label: str
) -> PqcSigner:
    load_secret: Callable[[], SigSecretKey]
    public: SigPublicKey
    if material.encoding == _material.COMPOSITE_ML_DSA:
        from secretumvault import hybrid

        public = hybrid.CompositeSignature(spec.algorithm, backend).public_key_from_bytes(public_key)

        def load_secret() -> SigSecretKey:
            pair = _on_any_backend(
                backend,
                lambda b: hybrid.CompositeSignature(spec.algorithm, b).keypair_from_bytes(material.secret),
            )
            if pair.public_key.to_bytes() != public_key:
                raise InvalidKey(f"{label}: stored public key does not match its private key")
            return pair.secret_key

    elif material.encoding == _material.TAGGED_HYBRID:
        from secretumvault import hybrid

        public = hybrid.HybridSignature(spec.algorithm, backend).public_key_from_bytes(public_key)

        def load_secret() -> SigSecretKey:
            return _on_any_backend(
                backend,
                lambda b: hybrid.HybridSignature(spec.algorithm, b).secret_key_from_bytes(material.secret),
            )

    else:
        backend = _material.signature_backend(spec, backend)
        public = pqc.Signature(spec.algorithm, backend).public_key_from_bytes(public_key)
        if material.encoding in (_material.ML_DSA_SEED, _material.SLH_DSA_SEED):

            def load_secret() -> SigSecretKey:
                return _on_any_backend(
                    backend,
                    lambda b: pqc.Signature(spec.algorithm, b).keypair_from_seed(material.secret).secret_key,
                )

        else:

            def load_secret() -> SigSecretKey:
                return _on_any_backend(
                    backend, lambda b: pqc.Signature(spec.algorithm, b).secret_key_from_bytes(material.secret)
                )

    return PqcSigner(public, load_secret, label)


def _on_any_backend(preferred: str | None, load: Callable[[str | None], _T]) -> _T:
    """``load(preferred)``, else ``load`` on each other available backend that can."""
    try:
        return load(preferred)
    except UnsupportedAlgorithm as first_refusal:
        for other in pqc.available_backends():
            if other == preferred:
                continue
            try:
                return load(other)
            except UnsupportedAlgorithm:
                continue
        raise first_refusal from None
