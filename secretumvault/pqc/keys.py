"""Abstract key classes and result tuples shared by every backend.

This module sits at the bottom of the package (it imports only
``secretumvault.errors``) so that both the compiled ``_oqs`` core and the
pure-Python ``openssl`` backend can return the same result types and register
their concrete key classes as implementations of the same interfaces, the way
pyca/cryptography registers its Rust key classes.

The FIPS 204 operations beyond plain signing (external mu, HashML-DSA) have
default implementations that raise :class:`UnsupportedAlgorithm`: the pqc
backends override them, hybrid keys do not offer them.
"""

from __future__ import annotations

import abc
from typing import NamedTuple, NoReturn, Union

from secretumvault.errors import UnsupportedAlgorithm

#: Anything exposing a C-contiguous buffer: ``bytes``, ``bytearray``, ``memoryview``.
Buffer = Union[bytes, bytearray, memoryview]

__all__ = [
    "Buffer",
    "Encapsulation",
    "KemKeyPair",
    "KemPublicKey",
    "KemSecretKey",
    "SigKeyPair",
    "SigPublicKey",
    "SigSecretKey",
]


class KemPublicKey(metaclass=abc.ABCMeta):
    """An ML-KEM encapsulation key (``ek`` in FIPS 203)."""

    algorithm: str
    backend: str

    @abc.abstractmethod
    def encapsulate(self) -> Encapsulation:
        """Make a fresh shared secret and the ciphertext that carries it."""

    @abc.abstractmethod
    def encapsulate_derand(self, message: Buffer) -> Encapsulation:
        """Deterministic encapsulation from a 32-byte message ``m`` (for test vectors)."""

    @abc.abstractmethod
    def to_bytes(self) -> bytes:
        """The standard FIPS 203 encoding of the encapsulation key."""

    def __bytes__(self) -> bytes:
        return self.to_bytes()


class KemSecretKey(metaclass=abc.ABCMeta):
    """An ML-KEM decapsulation key (``dk`` in FIPS 203). Its bytes never appear in ``repr``."""

    algorithm: str
    backend: str

    @abc.abstractmethod
    def decapsulate(self, ciphertext: Buffer) -> bytes:
        """Recover the shared secret. A tampered ciphertext yields an unrelated
        secret (FIPS 203 implicit rejection); a wrongly sized one raises."""

    @abc.abstractmethod
    def public_key(self) -> KemPublicKey:
        """The matching encapsulation key."""

    @abc.abstractmethod
    def to_bytes(self) -> bytes:
        """The expanded FIPS 203 decapsulation key. Handle the result as a secret."""

    @abc.abstractmethod
    def seed_bytes(self) -> bytes:
        """The 64-byte ``d || z`` seed the key was generated from: the portable form.
        Raises :class:`~secretumvault.errors.UnsupportedAlgorithm` if the key was
        loaded from its expanded encoding, which does not contain the seed."""

    def __bytes__(self) -> bytes:
        return self.to_bytes()


def _not_offered(key: object, what: str) -> NoReturn:
    raise UnsupportedAlgorithm(f"{type(key).__name__} keys do not offer {what}")


class SigPublicKey(metaclass=abc.ABCMeta):
    """An ML-DSA verification key."""

    algorithm: str
    backend: str

    @abc.abstractmethod
    def verify(self, signature: Buffer, message: Buffer, context: Buffer = b"") -> None:
        """Return ``None`` if the signature is valid, else raise
        :class:`~secretumvault.errors.InvalidSignature`."""

    def verify_mu(self, signature: Buffer, mu: Buffer) -> None:
        """Verify a signature over the 64-byte message representative mu (FIPS 204 external mu)."""
        _not_offered(self, "external mu")

    def verify_prehashed(
        self, signature: Buffer, digest: Buffer, hash_algorithm: str, context: Buffer = b""
    ) -> None:
        """Verify a HashML-DSA signature (FIPS 204 Algorithm 5) over ``digest``, a
        ``hash_algorithm`` digest (named as :mod:`hashlib` names it) of the message."""
        _not_offered(self, "HashML-DSA")

    @abc.abstractmethod
    def to_bytes(self) -> bytes:
        """The standard FIPS 204 encoding of the public key."""

    def __bytes__(self) -> bytes:
        return self.to_bytes()


class SigSecretKey(metaclass=abc.ABCMeta):
    """An ML-DSA signing key. Its bytes never appear in ``repr``."""

    algorithm: str
    backend: str

    @abc.abstractmethod
    def sign(self, message: Buffer, context: Buffer = b"", deterministic: bool = False) -> bytes:
        """Sign ``message`` under the FIPS 204 context string ``context`` (at most 255 bytes).

        Hedged (randomized) by default; ``deterministic=True`` is FIPS 204's
        deterministic variant (rnd = 32 zero bytes), where the backend offers it."""

    def sign_mu(self, mu: Buffer, deterministic: bool = False) -> bytes:
        """Sign the 64-byte message representative mu (FIPS 204 external mu)."""
        _not_offered(self, "external mu")

    def sign_prehashed(self, digest: Buffer, hash_algorithm: str, context: Buffer = b"") -> bytes:
        """HashML-DSA (FIPS 204 Algorithm 4): sign ``digest``, the ``hash_algorithm``
        digest of the message (``"sha256"``, ``"sha3_512"``, ``"shake_256"``, ...)."""
        _not_offered(self, "HashML-DSA")

    @abc.abstractmethod
    def to_bytes(self) -> bytes:
        """The standard encoding of the key held by this backend. Handle as a secret."""

    @abc.abstractmethod
    def seed_bytes(self) -> bytes:
        """The 32-byte FIPS 204 seed ``xi``, where the backend keeps it."""

    def __bytes__(self) -> bytes:
        return self.to_bytes()


class Encapsulation(NamedTuple):
    """Result of an encapsulation: send ``ciphertext``, keep ``shared_secret``."""

    ciphertext: bytes
    shared_secret: bytes

    def __repr__(self) -> str:  # the shared secret is key material
        return f"Encapsulation(ciphertext=<{len(self.ciphertext)} bytes>, shared_secret=<redacted>)"


class KemKeyPair(NamedTuple):
    public_key: KemPublicKey
    secret_key: KemSecretKey


class SigKeyPair(NamedTuple):
    public_key: SigPublicKey
    secret_key: SigSecretKey
