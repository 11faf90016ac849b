"""The portable "openssl" backend: ML-KEM and ML-DSA from pyca/cryptography.

It offers what pyca/cryptography offers (ML-KEM-768/1024, ML-DSA-44/65/87) with
the same interface and encodings as the native "oqs" backend, so keys,
ciphertexts and signatures move between the two byte for byte. pyca/cryptography
stores private keys as seeds and has no derandomized encapsulation; those
operations raise :class:`UnsupportedAlgorithm` naming this backend and the way out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from secretumvault.errors import (
    InvalidArgument,
    InvalidCiphertext,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
)
from secretumvault.pqc._buffers import as_bytes
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
from secretumvault.pqc.params import KemParams, SigParams, kem_params, sig_params

NAME = "openssl"

try:
    from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
    from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem
except ImportError:  # pragma: no cover - cryptography without the PQC modules
    mlkem = mldsa = None  # type: ignore[assignment]

_KEM_CLASSES: dict[str, tuple[Any, Any]] = {}
_SIG_CLASSES: dict[str, tuple[Any, Any]] = {}
if mlkem is not None:
    _KEM_CLASSES = {
        "ML-KEM-768": (mlkem.MLKEM768PublicKey, mlkem.MLKEM768PrivateKey),
        "ML-KEM-1024": (mlkem.MLKEM1024PublicKey, mlkem.MLKEM1024PrivateKey),
    }
if mldsa is not None:
    _SIG_CLASSES = {
        "ML-DSA-44": (mldsa.MLDSA44PublicKey, mldsa.MLDSA44PrivateKey),
        "ML-DSA-65": (mldsa.MLDSA65PublicKey, mldsa.MLDSA65PrivateKey),
        "ML-DSA-87": (mldsa.MLDSA87PublicKey, mldsa.MLDSA87PrivateKey),
    }


def is_available() -> bool:
    return bool(_KEM_CLASSES or _SIG_CLASSES)


def kem_names() -> list[str]:
    return list(_KEM_CLASSES)


def sig_names() -> list[str]:
    return list(_SIG_CLASSES)


def _unsupported(what: str, hint: str) -> UnsupportedAlgorithm:
    return UnsupportedAlgorithm(f"the openssl backend (pyca/cryptography) cannot {what}; {hint}")


def _check_len(data: bytes, expected: int, what: str, exc: type[Exception]) -> None:
    if len(data) != expected:
        raise exc(f"{what} are {expected} bytes, got {len(data)}")


# -- ML-KEM ---------------------------------------------------------------------


class OpenSSLKemPublicKey(KemPublicKey):
    __slots__ = ("_key", "_params", "_raw")
    backend = NAME

    def __init__(self, params: KemParams, key: Any, raw: bytes) -> None:
        self._params = params
        self._key = key
        self._raw = raw

    @property
    def algorithm(self) -> str:  # type: ignore[override]
        return self._params.name

    def encapsulate(self) -> Encapsulation:
        shared_secret, ciphertext = self._key.encapsulate()
        return Encapsulation(ciphertext, shared_secret)

    def encapsulate_derand(self, message: Buffer) -> Encapsulation:
        raise _unsupported(
            "encapsulate deterministically", "use backend='oqs' for derandomized encapsulation"
        )

    def to_bytes(self) -> bytes:
        return self._raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KemPublicKey):
            return NotImplemented
        return self.algorithm == other.algorithm and self._raw == other.to_bytes()

    def __hash__(self) -> int:
        return hash((self.algorithm, self._raw))

    def __repr__(self) -> str:
        return f"<KemPublicKey {self.algorithm} backend={NAME}>"


class OpenSSLKemSecretKey(KemSecretKey):
    __slots__ = ("_key", "_params")
    backend = NAME

    def __init__(self, params: KemParams, key: Any) -> None:
        self._params = params
        self._key = key

    @property
    def algorithm(self) -> str:  # type: ignore[override]
        return self._params.name

    def decapsulate(self, ciphertext: Buffer) -> bytes:
        ct = as_bytes(ciphertext, "ciphertext")
        _check_len(ct, self._params.ciphertext_size, f"{self.algorithm} ciphertexts", InvalidCiphertext)
        return self._key.decapsulate(ct)  # type: ignore[no-any-return]

    def public_key(self) -> KemPublicKey:
        pub = self._key.public_key()
        return OpenSSLKemPublicKey(self._params, pub, pub.public_bytes_raw())

    def to_bytes(self) -> bytes:
        raise _unsupported(
            "export an expanded ML-KEM decapsulation key",
            "use seed_bytes() (the portable 64-byte seed) or backend='oqs'",
        )

    def seed_bytes(self) -> bytes:
        return self._key.private_bytes_raw()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<KemSecretKey {self.algorithm} backend={NAME}>"


class Kem:
    """One ML-KEM parameter set on pyca/cryptography."""

    backend = NAME

    def __init__(self, name: str) -> None:
        params = kem_params(name)
        if name not in _KEM_CLASSES:
            raise _unsupported(
                f"provide {name}", f"it offers {', '.join(_KEM_CLASSES) or 'no ML-KEM'}; use backend='oqs'"
            )
        self.params = params
        self.name = params.name
        self._pub_cls, self._priv_cls = _KEM_CLASSES[name]

    def _pair(self, private: Any) -> KemKeyPair:
        secret = OpenSSLKemSecretKey(self.params, private)
        return KemKeyPair(secret.public_key(), secret)

    def generate_keypair(self) -> KemKeyPair:
        return self._pair(self._priv_cls.generate())

    def keypair_from_seed(self, seed: Buffer) -> KemKeyPair:
        data = as_bytes(seed, "seed")
        _check_len(data, self.params.keypair_seed_size, f"{self.name} seeds (d || z)", InvalidKey)
        return self._pair(self._priv_cls.from_seed_bytes(data))

    def public_key_from_bytes(self, data: Buffer) -> KemPublicKey:
        raw = as_bytes(data, "encapsulation key")
        _check_len(raw, self.params.public_key_size, f"{self.name} encapsulation keys", InvalidKey)
        try:
            key = self._pub_cls.from_public_bytes(raw)
        except ValueError:
            raise InvalidKey(
                f"invalid {self.name} encapsulation key: a coefficient is not reduced modulo q "
                "(FIPS 203 modulus check)"
            ) from None
        return OpenSSLKemPublicKey(self.params, key, raw)

    def secret_key_from_bytes(self, data: Buffer) -> KemSecretKey:
        as_bytes(data, "decapsulation key")
        raise _unsupported(
            "load an expanded ML-KEM decapsulation key",
            "load the 64-byte seed with keypair_from_seed(), or use backend='oqs'",
        )

    def encapsulate_batch(self, public_keys: Sequence[KemPublicKey]) -> list[Encapsulation]:
        return [_own_kem_key(pk, self.name).encapsulate() for pk in public_keys]

    def decapsulate_batch(self, secret_key: KemSecretKey, ciphertexts: Iterable[Buffer]) -> list[bytes]:
        sk = _own_kem_key(secret_key, self.name)
        return [sk.decapsulate(ct) for ct in ciphertexts]


def _own_kem_key(key: Any, name: str) -> Any:
    if not isinstance(key, (OpenSSLKemPublicKey, OpenSSLKemSecretKey)) or key.algorithm != name:
        raise InvalidKey(f"expected a {name} key of the openssl backend, got {key!r}")
    return key


# -- ML-DSA ---------------------------------------------------------------------


def _context(context: object, params: SigParams) -> bytes:
    ctx = as_bytes(context, "context")
    if len(ctx) > params.max_context_size:
        raise InvalidArgument(
            f"FIPS 204 context strings are at most {params.max_context_size} bytes, got {len(ctx)}"
        )
    return ctx


class OpenSSLSigPublicKey(SigPublicKey):
    __slots__ = ("_key", "_params", "_raw")
    backend = NAME

    def __init__(self, params: SigParams, key: Any, raw: bytes) -> None:
        self._params = params
        self._key = key
        self._raw = raw

    @property
    def algorithm(self) -> str:  # type: ignore[override]
        return self._params.name

    def verify(self, signature: Buffer, message: Buffer, context: Buffer = b"") -> None:
        sig = as_bytes(signature, "signature")
        msg = as_bytes(message, "message")
        ctx = _context(context, self._params)
        if len(sig) != self._params.signature_size:
            raise InvalidSignature(
                f"{self.algorithm} signatures are {self._params.signature_size} bytes, got {len(sig)}"
            )
        try:
            self._key.verify(sig, msg, ctx)
        except _CryptoInvalidSignature:
            raise InvalidSignature(f"{self.algorithm} signature does not verify") from None

    def to_bytes(self) -> bytes:
        return self._raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigPublicKey):
            return NotImplemented
        return self.algorithm == other.algorithm and self._raw == other.to_bytes()

    def __hash__(self) -> int:
        return hash((self.algorithm, self._raw))

    def __repr__(self) -> str:
        return f"<SigPublicKey {self.algorithm} backend={NAME}>"


class OpenSSLSigSecretKey(SigSecretKey):
    __slots__ = ("_key", "_params")
    backend = NAME

    def __init__(self, params: SigParams, key: Any) -> None:
        self._params = params
        self._key = key

    @property
    def algorithm(self) -> str:  # type: ignore[override]
        return self._params.name

    def sign(self, message: Buffer, context: Buffer = b"") -> bytes:
        msg = as_bytes(message, "message")
        ctx = _context(context, self._params)
        return self._key.sign(msg, ctx)  # type: ignore[no-any-return]

    def to_bytes(self) -> bytes:
        raise _unsupported(
            "export an expanded ML-DSA signing key",
            "use seed_bytes() (the portable 32-byte seed) or backend='oqs'",
        )

    def seed_bytes(self) -> bytes:
        return self._key.private_bytes_raw()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<SigSecretKey {self.algorithm} backend={NAME}>"


class Signature:
    """One ML-DSA parameter set on pyca/cryptography."""

    backend = NAME

    def __init__(self, name: str) -> None:
        params = sig_params(name)
        if name not in _SIG_CLASSES:
            raise _unsupported(f"provide {name}", "use backend='oqs'")
        self.params = params
        self.name = params.name
        self._pub_cls, self._priv_cls = _SIG_CLASSES[name]

    def _pair(self, private: Any) -> SigKeyPair:
        pub = private.public_key()
        return SigKeyPair(
            OpenSSLSigPublicKey(self.params, pub, pub.public_bytes_raw()),
            OpenSSLSigSecretKey(self.params, private),
        )

    def generate_keypair(self) -> SigKeyPair:
        return self._pair(self._priv_cls.generate())

    def keypair_from_seed(self, seed: Buffer) -> SigKeyPair:
        data = as_bytes(seed, "seed")
        _check_len(data, self.params.seed_size, f"{self.name} seeds", InvalidKey)
        return self._pair(self._priv_cls.from_seed_bytes(data))

    def public_key_from_bytes(self, data: Buffer) -> SigPublicKey:
        raw = as_bytes(data, "public key")
        _check_len(raw, self.params.public_key_size, f"{self.name} public keys", InvalidKey)
        try:
            key = self._pub_cls.from_public_bytes(raw)
        except ValueError:
            raise InvalidKey(f"invalid {self.name} public key encoding") from None
        return OpenSSLSigPublicKey(self.params, key, raw)

    def secret_key_from_bytes(self, data: Buffer) -> SigSecretKey:
        as_bytes(data, "secret key")
        raise _unsupported(
            "load an expanded ML-DSA signing key",
            "load the 32-byte seed with keypair_from_seed(), or use backend='oqs'",
        )

    def verify_batch(self, items: Iterable[tuple[SigPublicKey, Buffer, Buffer, Buffer]]) -> list[bool]:
        results = []
        for public_key, signature, message, context in items:
            if not isinstance(public_key, OpenSSLSigPublicKey) or public_key.algorithm != self.name:
                raise InvalidKey(f"expected a {self.name} public key of the openssl backend")
            try:
                public_key.verify(signature, message, context)
                results.append(True)
            except InvalidSignature:
                results.append(False)
        return results
