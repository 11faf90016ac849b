"""Post-quantum KEMs (ML-KEM, FIPS 203) and signatures (ML-DSA, FIPS 204).

>>> from secretumvault import pqc
>>> kem = pqc.Kem("ML-KEM-768")
>>> kp = kem.generate_keypair()
>>> enc = kp.public_key.encapsulate()
>>> kp.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret
True

Every backend uses the standard encodings, so keys, ciphertexts and signatures
made by one backend work with the other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from secretumvault.errors import UnsupportedAlgorithm
from secretumvault.pqc import backends as _backends
from secretumvault.pqc.keys import (
    Buffer,
    Encapsulation,
    KemKeyPair,
    KemPublicKey,
    KemSecretKey,
    SigKeyPair,
    SigPublicKey,
    SigSecretKey,
)
from secretumvault.pqc.params import KEM_PARAMS, SIG_PARAMS

if TYPE_CHECKING:
    from secretumvault.pqc.backends import KemFactory, SignatureFactory

__all__ = [
    "Encapsulation",
    "Kem",
    "KemKeyPair",
    "KemPublicKey",
    "KemSecretKey",
    "SigKeyPair",
    "SigPublicKey",
    "SigSecretKey",
    "Signature",
    "available_backends",
    "backend_is_available",
    "get_default_backend",
    "kem_algorithms",
    "set_default_backend",
    "signature_algorithms",
]

_default_backend = "auto"
_default_lock = threading.Lock()


def available_backends() -> list[str]:
    """Backends usable here, fastest first, e.g. ``["oqs", "openssl"]``."""
    return _backends.available_backends()


def backend_is_available(name: str) -> bool:
    """Whether ``name`` ("oqs", "openssl"; "auto": any backend) is usable here.

    Cheaper than ``name in available_backends()``: it loads no other backend.
    """
    return _backends.is_available(name)


def get_default_backend() -> str:
    """The backend used when ``backend=None``: ``"auto"`` unless configured."""
    return _default_backend


def set_default_backend(name: str) -> None:
    """Set the backend used when ``backend=None`` ("oqs", "openssl" or "auto").

    Naming a backend that is not available raises
    :class:`~secretumvault.errors.BackendUnavailable` and keeps the old default.
    """
    global _default_backend
    if name != "auto":
        _backends.resolve(name)
    with _default_lock:
        _default_backend = name


def kem_algorithms(backend: str | None = None) -> list[str]:
    """KEM names offered by ``backend`` (all available backends when ``None``)."""
    names = _names(backend, "kem_names")
    return [n for n in KEM_PARAMS if n in names]


def signature_algorithms(backend: str | None = None) -> list[str]:
    """Signature names offered by ``backend`` (all available backends when ``None``)."""
    names = _names(backend, "sig_names")
    return [n for n in SIG_PARAMS if n in names]


def _names(backend: str | None, attr: str) -> set[str]:
    chosen = [backend] if backend not in (None, "auto") else available_backends()
    found: set[str] = set()
    for name in chosen:
        found.update(getattr(_backends.resolve(name), attr)())
    return found


def _backend_name(backend: str | None) -> str:
    if backend is None:
        return _default_backend
    if not isinstance(backend, str):
        raise UnsupportedAlgorithm(f"backend must be a name such as 'oqs', not {type(backend).__name__}")
    return backend


class _Facade:
    """What :class:`Kem` and :class:`Signature` share: the backend's factory and its sizes."""

    __slots__ = ("_impl",)
    _impl: KemFactory | SignatureFactory

    @property
    def name(self) -> str:
        """Algorithm name, e.g. 'ML-KEM-768'."""
        return self._impl.name

    @property
    def backend(self) -> str:
        """The backend in use."""
        return self._impl.backend

    @property
    def public_key_size(self) -> int:
        return self._impl.params.public_key_size

    @property
    def secret_key_size(self) -> int:
        """Size of the expanded secret key (the seed is smaller)."""
        return self._impl.params.secret_key_size

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, backend={self.backend!r})"


class Kem(_Facade):
    """An ML-KEM parameter set on one backend: a factory for keys.

    ``backend=None`` uses the configured default; ``"auto"`` prefers the native
    "oqs" backend and falls back to "openssl" when it lacks the algorithm.
    """

    __slots__ = ()
    _impl: KemFactory

    def __init__(self, name: str, backend: str | None = None) -> None:
        self._impl = _backends.kem(name, _backend_name(backend))

    @property
    def ciphertext_size(self) -> int:
        return self._impl.params.ciphertext_size

    @property
    def shared_secret_size(self) -> int:
        return self._impl.params.shared_secret_size

    def generate_keypair(self) -> KemKeyPair:
        """A fresh key pair from the operating system's CSPRNG."""
        return self._impl.generate_keypair()

    def keypair_from_seed(self, seed: Buffer) -> KemKeyPair:
        """FIPS 203 deterministic key generation from the 64-byte seed ``d || z``."""
        return self._impl.keypair_from_seed(seed)

    def public_key_from_bytes(self, data: Buffer) -> KemPublicKey:
        """Load an encapsulation key; runs the FIPS 203 modulus check."""
        return self._impl.public_key_from_bytes(data)

    def secret_key_from_bytes(self, data: Buffer) -> KemSecretKey:
        """Load an expanded decapsulation key; runs the FIPS 203 hash check."""
        return self._impl.secret_key_from_bytes(data)

    def encapsulate_batch(self, public_keys: Sequence[KemPublicKey]) -> list[Encapsulation]:
        """One encapsulation to each key, in one native call on "oqs"."""
        return self._impl.encapsulate_batch(public_keys)

    def decapsulate_batch(self, secret_key: KemSecretKey, ciphertexts: Sequence[Buffer]) -> list[bytes]:
        """Decapsulate many ciphertexts under one key, in one native call on "oqs"."""
        return self._impl.decapsulate_batch(secret_key, ciphertexts)


class Signature(_Facade):
    """An ML-DSA parameter set on one backend: a factory for keys."""

    __slots__ = ()
    _impl: SignatureFactory

    def __init__(self, name: str, backend: str | None = None) -> None:
        self._impl = _backends.signature(name, _backend_name(backend))

    @property
    def signature_size(self) -> int:
        return self._impl.params.signature_size

    def generate_keypair(self) -> SigKeyPair:
        """A fresh key pair from a random seed, which the secret key keeps (``seed_bytes()``)."""
        return self._impl.generate_keypair()

    def keypair_from_seed(self, seed: Buffer) -> SigKeyPair:
        """FIPS 204 ML-DSA.KeyGen_internal from the 32-byte seed ``xi``: the same keys on every backend."""
        return self._impl.keypair_from_seed(seed)

    def public_key_from_bytes(self, data: Buffer) -> SigPublicKey:
        return self._impl.public_key_from_bytes(data)

    def secret_key_from_bytes(self, data: Buffer) -> SigSecretKey:
        """Load an expanded signing key ("oqs"), after FIPS 204 skDecode's checks: s1 and s2 in
        range, and the public key recomputed from the key hashing to its ``tr``."""
        return self._impl.secret_key_from_bytes(data)

    def verify_batch(self, items: Iterable[tuple[SigPublicKey, Buffer, Buffer, Buffer]]) -> list[bool]:
        """Verify ``(public_key, signature, message, context)`` tuples; one native call on "oqs".

        Returns one boolean per item instead of raising, so a batch reports
        every bad signature rather than stopping at the first.
        """
        return self._impl.verify_batch(items)
