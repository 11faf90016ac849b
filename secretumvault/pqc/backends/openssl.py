"""The portable "openssl" backend: ML-KEM and ML-DSA from pyca/cryptography.

It offers what pyca/cryptography offers (ML-KEM-768/1024, ML-DSA-44/65/87) with
the same interface and encodings as the native "oqs" backend, so keys,
ciphertexts and signatures move between the two byte for byte. pyca/cryptography
stores private keys as seeds, has no derandomized encapsulation and signs
ML-DSA hedged only; those operations raise :class:`UnsupportedAlgorithm`
naming this backend and the way out. External mu comes from pyca/cryptography;
HashML-DSA is built on it (FIPS 204 Algorithm 4 signs mu = H(tr || M')).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, NoReturn, Protocol, TypeVar

from secretumvault._words import with_article
from secretumvault.errors import (
    InvalidArgument,
    InvalidCiphertext,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
)
from secretumvault.pqc._buffers import VERIFY_ITEM, as_bytes, as_item, as_list, describe, refuse_pickle
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
from secretumvault.pqc.params import KemParams, SigParams, is_slh_dsa, kem_params, sig_params
from secretumvault.pqc.prehash import external_mu, formatted_message, prehash

NAME = "openssl"

_KEM_CLASSES: dict[str, tuple[Any, Any]] = {}
_SIG_CLASSES: dict[str, tuple[Any, Any]] = {}
try:
    from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
    from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem
except ImportError:  # pragma: no cover - cryptography without the PQC modules
    pass
else:
    _KEM_CLASSES = {
        "ML-KEM-768": (mlkem.MLKEM768PublicKey, mlkem.MLKEM768PrivateKey),
        "ML-KEM-1024": (mlkem.MLKEM1024PublicKey, mlkem.MLKEM1024PrivateKey),
    }
    _SIG_CLASSES = {
        "ML-DSA-44": (mldsa.MLDSA44PublicKey, mldsa.MLDSA44PrivateKey),
        "ML-DSA-65": (mldsa.MLDSA65PublicKey, mldsa.MLDSA65PrivateKey),
        "ML-DSA-87": (mldsa.MLDSA87PublicKey, mldsa.MLDSA87PrivateKey),
    }


# What this module uses of pyca/cryptography's key classes (one class per parameter set there).
class _PycaPublic(Protocol):
    def public_bytes_raw(self) -> bytes: ...


class _PycaKemPublic(_PycaPublic, Protocol):
    def encapsulate(self) -> tuple[bytes, bytes]: ...


class _PycaKemPrivate(Protocol):
    def decapsulate(self, ciphertext: bytes) -> bytes: ...
    def public_key(self) -> _PycaKemPublic: ...
    def private_bytes_raw(self) -> bytes: ...


class _PycaSigPublic(_PycaPublic, Protocol):
    def verify(self, signature: bytes, data: bytes, context: bytes | None = None) -> None: ...
    def verify_mu(self, signature: bytes, mu: bytes) -> None: ...


class _PycaSigPrivate(Protocol):
    def sign(self, data: bytes, context: bytes | None = None) -> bytes: ...
    def sign_mu(self, mu: bytes) -> bytes: ...
    def public_key(self) -> _PycaSigPublic: ...
    def private_bytes_raw(self) -> bytes: ...


def is_available() -> bool:
    return bool(_KEM_CLASSES or _SIG_CLASSES)


def kem_names() -> list[str]:
    return list(_KEM_CLASSES)


def sig_names() -> list[str]:
    return list(_SIG_CLASSES)


def _unsupported(what: str, advice: str, *, detail: str = "") -> UnsupportedAlgorithm:
    """``advice`` names Python calls; the reason and the backend that can are attributes too."""
    reason = f"the openssl backend (pyca/cryptography) cannot {what}" + (f"; {detail}" if detail else "")
    return UnsupportedAlgorithm(f"{reason}; {advice}", backend="oqs", reason=reason)


def _check_len(data: bytes, expected: int, what: str, exc: type[Exception]) -> None:
    if len(data) != expected:
        raise exc(f"{what} are {expected} bytes, got {len(data)}")


# -- what the KEM and signature keys share ------------------------------------------


class _PublicKeyBase:
    """A public key: pyca's object and the standard encoding it was made from."""

    __slots__ = ()
    algorithm: str
    backend = NAME
    _raw: bytes
    _interface: ClassVar[type[KemPublicKey] | type[SigPublicKey]]

    def to_bytes(self) -> bytes:
        return self._raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, self._interface):  # the same key on any backend compares equal
            return NotImplemented
        return self.algorithm == other.algorithm and self._raw == other.to_bytes()

    def __hash__(self) -> int:
        return hash((self.algorithm, self._raw))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_load_public_key, (self._interface is KemPublicKey, self.algorithm, self._raw))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.algorithm} backend={NAME}>"


def _load_public_key(is_kem: bool, name: str, raw: bytes) -> KemPublicKey | SigPublicKey:
    """Unpickle a public key from its standard encoding (the checks run again)."""
    return Kem(name).public_key_from_bytes(raw) if is_kem else Signature(name).public_key_from_bytes(raw)


class _SecretKeyBase:
    """A secret key: pyca's object, which holds the seed and nothing else exportable."""

    __slots__ = ()
    algorithm: str
    backend = NAME
    _key: _PycaKemPrivate | _PycaSigPrivate
    _EXPANDED_HINT = ""

    def to_bytes(self) -> bytes:
        raise _unsupported(f"export an expanded {self._EXPANDED_HINT}", "use seed_bytes() or backend='oqs'")

    def seed_bytes(self) -> bytes:
        return self._key.private_bytes_raw()

    def __reduce__(self) -> NoReturn:
        refuse_pickle(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.algorithm} backend={NAME}>"


_Key = TypeVar("_Key", bound="_PublicKeyBase | _SecretKeyBase")


def _own(key: object, cls: type[_Key], name: str, index: int | None = None) -> _Key:
    """``key`` if it is this backend's ``cls`` for ``name``; the error never shows the key."""
    if not isinstance(key, cls) or key.algorithm != name:
        kind = "secret key" if issubclass(cls, _SecretKeyBase) else "public key"
        where = "" if index is None else f"item {index}: "
        raise InvalidKey(
            f"{where}expected {with_article(name)} {kind} of the openssl backend, got {describe(key)}"
        )
    return key


class _Factory:
    """One parameter set on pyca/cryptography: the key classes and the seed checks."""

    backend = NAME
    name: str
    _seeds_phrase = ""

    def _seed(self, seed: Buffer, size: int) -> bytes:
        data = as_bytes(seed, "seed")
        _check_len(data, size, f"{self.name} {self._seeds_phrase}", InvalidKey)
        return data

    def _expanded_refused(self, data: Buffer, what: str, seed_size: int) -> UnsupportedAlgorithm:
        as_bytes(data, what)
        return _unsupported(
            f"load an expanded {what}",
            f"load the {seed_size}-byte seed with keypair_from_seed(), or use backend='oqs'",
        )


# -- ML-KEM ---------------------------------------------------------------------


class OpenSSLKemPublicKey(_PublicKeyBase, KemPublicKey):
    __slots__ = ("_key", "_raw", "algorithm")
    _interface = KemPublicKey

    def __init__(self, params: KemParams, key: _PycaKemPublic, raw: bytes) -> None:
        self.algorithm = params.name
        self._key = key
        self._raw = raw

    def encapsulate(self) -> Encapsulation:
        shared_secret, ciphertext = self._key.encapsulate()
        return Encapsulation(ciphertext, shared_secret)

    def encapsulate_derand(self, message: Buffer) -> Encapsulation:
        raise _unsupported(
            "encapsulate deterministically", "use backend='oqs' for derandomized encapsulation"
        )


class OpenSSLKemSecretKey(_SecretKeyBase, KemSecretKey):
    __slots__ = ("_key", "_params", "algorithm")
    _key: _PycaKemPrivate
    _EXPANDED_HINT = "ML-KEM decapsulation key (the portable form is the 64-byte seed)"

    def __init__(self, params: KemParams, key: _PycaKemPrivate) -> None:
        self.algorithm = params.name
        self._params = params
        self._key = key

    def decapsulate(self, ciphertext: Buffer) -> bytes:
        ct = as_bytes(ciphertext, "ciphertext")
        _check_len(ct, self._params.ciphertext_size, f"{self.algorithm} ciphertexts", InvalidCiphertext)
        return self._key.decapsulate(ct)

    def public_key(self) -> KemPublicKey:
        pub = self._key.public_key()
        return OpenSSLKemPublicKey(self._params, pub, pub.public_bytes_raw())


class Kem(_Factory):
    """One ML-KEM parameter set on pyca/cryptography."""

    _seeds_phrase = "seeds (d || z)"

    def __init__(self, name: str) -> None:
        params = kem_params(name)
        if name not in _KEM_CLASSES:
            offered = ", ".join(_KEM_CLASSES) or "no ML-KEM"
            raise _unsupported(f"provide {name}", "use backend='oqs'", detail=f"it offers {offered}")
        self.params = params
        self.name = params.name
        self._pub_cls, self._priv_cls = _KEM_CLASSES[name]

    def _pair(self, private: _PycaKemPrivate) -> KemKeyPair:
        secret = OpenSSLKemSecretKey(self.params, private)
        return KemKeyPair(secret.public_key(), secret)

    def generate_keypair(self) -> KemKeyPair:
        return self._pair(self._priv_cls.generate())

    def keypair_from_seed(self, seed: Buffer) -> KemKeyPair:
        return self._pair(self._priv_cls.from_seed_bytes(self._seed(seed, self.params.keypair_seed_size)))

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
        raise self._expanded_refused(data, "ML-KEM decapsulation key", self.params.keypair_seed_size)

    def encapsulate_batch(self, public_keys: Iterable[KemPublicKey]) -> list[Encapsulation]:
        keys = [
            _own(pk, OpenSSLKemPublicKey, self.name, i)
            for i, pk in enumerate(as_list(public_keys, "public_keys"))
        ]
        return [pk.encapsulate() for pk in keys]

    def decapsulate_batch(self, secret_key: KemSecretKey, ciphertexts: Iterable[Buffer]) -> list[bytes]:
        sk = _own(secret_key, OpenSSLKemSecretKey, self.name)
        return [sk.decapsulate(ct) for ct in as_list(ciphertexts, "ciphertexts")]


# -- ML-DSA ---------------------------------------------------------------------


def _context(context: object, params: SigParams) -> bytes:
    ctx = as_bytes(context, "context")
    if len(ctx) > params.max_context_size:
        raise InvalidArgument(
            f"FIPS 204 context strings are at most {params.max_context_size} bytes, got {len(ctx)}"
        )
    return ctx


def _mu(mu: object) -> bytes:
    data = as_bytes(mu, "mu")
    _check_len(data, _MU_SIZE, "FIPS 204 mu values", InvalidArgument)
    return data


def _hashml_mu(
    public_key: bytes, digest: object, hash_algorithm: object, context: object, params: SigParams
) -> bytes:
    """HashML-DSA's mu, computed here and signed as external mu: pyca/cryptography has no HashML-DSA call."""
    data = as_bytes(digest, "digest")
    chosen = prehash(hash_algorithm, len(data))
    return external_mu(public_key, formatted_message(data, chosen, _context(context, params)))


_MU_SIZE = 64
_HEDGED_ONLY = "pyca/cryptography signs ML-DSA with fresh randomness only"


class OpenSSLSigPublicKey(_PublicKeyBase, SigPublicKey):
    __slots__ = ("_key", "_params", "_raw", "algorithm")
    _interface = SigPublicKey

    def __init__(self, params: SigParams, key: _PycaSigPublic, raw: bytes) -> None:
        self.algorithm = params.name
        self._params = params
        self._key = key
        self._raw = raw

    def verify(self, signature: Buffer, message: Buffer, context: Buffer = b"") -> None:
        sig = as_bytes(signature, "signature")
        msg = as_bytes(message, "message")
        ctx = _context(context, self._params)
        _check_len(sig, self._params.signature_size, f"{self.algorithm} signatures", InvalidSignature)
        try:
            self._key.verify(sig, msg, ctx)
        except _CryptoInvalidSignature:
            raise InvalidSignature(f"{self.algorithm} signature does not verify") from None

    def verify_mu(self, signature: Buffer, mu: Buffer) -> None:
        sig = as_bytes(signature, "signature")
        m = _mu(mu)
        _check_len(sig, self._params.signature_size, f"{self.algorithm} signatures", InvalidSignature)
        try:
            self._key.verify_mu(sig, m)
        except _CryptoInvalidSignature:
            raise InvalidSignature(f"{self.algorithm} signature does not verify") from None

    def verify_prehashed(
        self, signature: Buffer, digest: Buffer, hash_algorithm: str, context: Buffer = b""
    ) -> None:
        self.verify_mu(signature, _hashml_mu(self._raw, digest, hash_algorithm, context, self._params))


class OpenSSLSigSecretKey(_SecretKeyBase, SigSecretKey):
    __slots__ = ("_key", "_params", "_public", "algorithm")
    _key: _PycaSigPrivate
    _EXPANDED_HINT = "ML-DSA signing key (the portable form is the 32-byte seed)"

    def __init__(self, params: SigParams, key: _PycaSigPrivate, public: bytes) -> None:
        self.algorithm = params.name
        self._params = params
        self._key = key
        self._public = public  # HashML-DSA's mu starts from H(public key)

    def sign(self, message: Buffer, context: Buffer = b"", deterministic: bool = False) -> bytes:
        msg = as_bytes(message, "message")
        ctx = _context(context, self._params)
        if deterministic:
            raise _unsupported("sign deterministically", "use backend='oqs'", detail=_HEDGED_ONLY)
        return self._key.sign(msg, ctx)

    def sign_mu(self, mu: Buffer, deterministic: bool = False) -> bytes:
        m = _mu(mu)
        if deterministic:
            raise _unsupported("sign deterministically", "use backend='oqs'", detail=_HEDGED_ONLY)
        return self._key.sign_mu(m)

    def sign_prehashed(self, digest: Buffer, hash_algorithm: str, context: Buffer = b"") -> bytes:
        """HashML-DSA: FIPS 204 Algorithm 4 signs mu = H(tr || M'), so signing that mu is HashML-DSA."""
        return self._key.sign_mu(_hashml_mu(self._public, digest, hash_algorithm, context, self._params))


class Signature(_Factory):
    """One ML-DSA parameter set on pyca/cryptography."""

    _seeds_phrase = "seeds (xi)"

    def __init__(self, name: str) -> None:
        params = sig_params(name)
        if is_slh_dsa(name):
            detail = "pyca/cryptography has no SLH-DSA (FIPS 205)"
            raise _unsupported(f"provide {name}", "use backend='oqs'", detail=detail)
        if name not in _SIG_CLASSES:
            raise _unsupported(f"provide {name}", "use backend='oqs'")
        self.params = params
        self.name = params.name
        self._pub_cls, self._priv_cls = _SIG_CLASSES[name]

    def _pair(self, private: _PycaSigPrivate) -> SigKeyPair:
        pub = private.public_key()
        raw = pub.public_bytes_raw()
        return SigKeyPair(
            OpenSSLSigPublicKey(self.params, pub, raw), OpenSSLSigSecretKey(self.params, private, raw)
        )

    def generate_keypair(self) -> SigKeyPair:
        return self._pair(self._priv_cls.generate())

    def keypair_from_seed(self, seed: Buffer) -> SigKeyPair:
        return self._pair(self._priv_cls.from_seed_bytes(self._seed(seed, self.params.seed_size)))

    def public_key_from_bytes(self, data: Buffer) -> SigPublicKey:
        raw = as_bytes(data, "public key")
        _check_len(raw, self.params.public_key_size, f"{self.name} public keys", InvalidKey)
        try:
            key = self._pub_cls.from_public_bytes(raw)
        except ValueError:
            raise InvalidKey(f"invalid {self.name} public key encoding") from None
        return OpenSSLSigPublicKey(self.params, key, raw)

    def secret_key_from_bytes(self, data: Buffer) -> SigSecretKey:
        raise self._expanded_refused(data, "ML-DSA signing key", self.params.seed_size)

    def verify_batch(self, items: Iterable[tuple[SigPublicKey, Buffer, Buffer, Buffer]]) -> list[bool]:
        # Every item is checked before any is verified, as on the oqs backend.
        batch = [as_item(item, i, VERIFY_ITEM) for i, item in enumerate(as_list(items, "items"))]
        for i, (public_key, _, _, context) in enumerate(batch):
            _own(public_key, OpenSSLSigPublicKey, self.name, i)
            _context(context, self.params)
        return [_verifies(*item) for item in batch]


def _verifies(public_key: SigPublicKey, signature: Buffer, message: Buffer, context: Buffer) -> bool:
    try:
        public_key.verify(signature, message, context)
    except InvalidSignature:
        return False
    return True
