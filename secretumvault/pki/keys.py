"""Key pairs for CAs and leaves: generation, signing, SubjectPublicKeyInfo, storage.

ML-DSA keys are reached only through :mod:`secretumvault.pqc`, so a CA key
created on the "oqs" backend signs with liboqs and one created on "openssl"
with OpenSSL. Ed25519, ECDSA (P-224, P-256, P-384, P-521) and RSA keys are pyca/cryptography's.

At rest a key is a tagged JSON record (format, version, key type, backend and
encoding named): ML-DSA keys as the 32-byte FIPS 204 seed wherever the key
has one (every new key on "openssl", and on "oqs" where the native core
keeps seeds), else the expanded FIPS 204 secret key (records written before,
and keys loaded from expanded bytes); classical keys as PKCS#8 DER. The
keystore encrypts the record.

Private keys handed out (``pkcs8_der``) are RFC 9881 PKCS#8: the ``seed``
form where there is a seed, which pyca/cryptography and OpenSSL 3.5 read,
else the ``expandedKey`` form.

SLH-DSA keys (FIPS 205, RFC 9909) run on the native core whatever backend the
engine uses (pyca/cryptography has no SLH-DSA), are stored as their 3n-byte seed
(SK.seed || SK.prf || PK.seed) and handed out as RFC 9909 PKCS#8: the raw 4n-byte
secret key in the privateKey OCTET STRING, as OpenSSL 3.5 writes it.
"""

from __future__ import annotations

import abc
import hashlib
from typing import Any, Union

from cryptography.exceptions import InternalError as _CryptoInternalError
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa

from secretumvault import pqc
from secretumvault.errors import (
    BackendUnavailable,
    CorruptRecord,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
)
from secretumvault.pki import _der, _json
from secretumvault.pki.sig_algorithms import KEY_TYPES, KeyType, key_type
from secretumvault.pqc.params import sig_params

__all__ = [
    "PublicKey",
    "PycaPrivateKey",
    "SigningKey",
    "generate_key",
    "key_from_record",
    "ml_dsa_signing_key",
    "public_key_from_spki",
    "signing_key_from_pyca",
    "slh_dsa_signing_key",
]

_KEY_FORMAT = "secretumvault-pki-key"
_KEY_VERSION = 1
#: SLH-DSA runs where the native core is, whatever the engine's backend (pyca has no SLH-DSA).
_SLH_DSA_BACKEND = "auto"
_RSA_SIZES = (2048, 3072, 4096)
_CURVES = {
    "secp224r1": "ECDSA-P224",
    "secp256r1": "ECDSA-P256",
    "secp384r1": "ECDSA-P384",
    "secp521r1": "ECDSA-P521",
}
_CURVE_OBJECTS: dict[str, ec.EllipticCurve] = {
    "ECDSA-P224": ec.SECP224R1(),
    "ECDSA-P256": ec.SECP256R1(),
    "ECDSA-P384": ec.SECP384R1(),
    "ECDSA-P521": ec.SECP521R1(),
}
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
_PYCA_ML_DSA: dict[str, type[mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey]] = {
    "ML-DSA-44": mldsa.MLDSA44PrivateKey,
    "ML-DSA-65": mldsa.MLDSA65PrivateKey,
    "ML-DSA-87": mldsa.MLDSA87PrivateKey,
}

_ClassicalPrivate = Union[ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey]
_ClassicalPublic = Union[ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey]
#: A private key pyca/cryptography can sign with (its OCSP builder, for one).
PycaPrivateKey = Union[
    _ClassicalPrivate, mldsa.MLDSA44PrivateKey, mldsa.MLDSA65PrivateKey, mldsa.MLDSA87PrivateKey
]


def _hash(kind: KeyType) -> hashes.HashAlgorithm:
    return _HASHES[kind.hash_name or "sha256"]


def _ml_dsa_spki(kind: KeyType, raw: bytes) -> bytes:
    # RFC 9881 section 4: AlgorithmIdentifier without parameters; the BIT STRING is the raw FIPS 204 key.
    return _der.sequence(kind.signature_algorithm_der(), _der.bit_string(raw))


def key_identifier(subject_public_key: bytes) -> bytes:
    """RFC 7093 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey bits."""
    return hashlib.sha256(subject_public_key).digest()[:20]


# -- public keys (verification only) ---------------------------------------------------------------


class PublicKey(abc.ABC):
    """A public key as read from a SubjectPublicKeyInfo: its type, encoding and a verifier."""

    key_type: KeyType
    spki: bytes

    @property
    def subject_public_key(self) -> bytes:
        """The contents of the subjectPublicKey BIT STRING (for key identifiers)."""
        return self._raw_bits()

    @abc.abstractmethod
    def _raw_bits(self) -> bytes: ...

    @abc.abstractmethod
    def verify(self, signature: bytes, data: bytes) -> None:
        """None if ``signature`` is this key's X.509 signature over ``data``, else InvalidSignature."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key_type.name})"


class _MlDsaPublicKey(PublicKey):
    def __init__(self, kind: KeyType, key: pqc.SigPublicKey) -> None:
        self.key_type = kind
        self._key = key
        self.spki = _ml_dsa_spki(kind, key.to_bytes())

    def _raw_bits(self) -> bytes:
        return self._key.to_bytes()

    def verify(self, signature: bytes, data: bytes) -> None:
        self._key.verify(signature, data, b"")  # RFC 9881: empty context string


class _SlhDsaPublicKey(_MlDsaPublicKey):
    """An SLH-DSA key (RFC 9909): the same SubjectPublicKeyInfo shape as ML-DSA's, pure
    SLH-DSA signatures with an empty context."""


class _CompositePublicKey(PublicKey):
    """A composite ML-DSA key (draft-ietf-lamps-pq-composite-sigs-19): raw ``mldsaPK || tradPK`` bits."""

    def __init__(self, kind: KeyType, key: pqc.SigPublicKey) -> None:
        self.key_type = kind
        self._key = key
        self.spki = _ml_dsa_spki(kind, key.to_bytes())  # the same shape: OID, no parameters, raw bits

    def _raw_bits(self) -> bytes:
        return self._key.to_bytes()

    def verify(self, signature: bytes, data: bytes) -> None:
        self._key.verify(signature, data, b"")  # X.509: the empty application context


def _composite(kind: KeyType, backend: str | None) -> Any:
    from secretumvault.hybrid.composite import (
        CompositeSignature,
    )  # only composite keys need pyca's Ed448 etc.

    return CompositeSignature(kind.name, backend)


def _composite_public_from_spki(spki: bytes, backend: str | None) -> PublicKey | None:
    """The composite key in ``spki``, None if it names no composite algorithm; InvalidKey if malformed."""
    for kind in KEY_TYPES.values():
        if not kind.is_composite:
            continue
        algorithm = kind.signature_algorithm_der()
        for at in (2, 3, 4):  # right after the outer SEQUENCE's tag and 1- to 3-byte length
            if not spki.startswith(algorithm, at):
                continue
            # Then a BIT STRING: its tag, length and unused-bits byte; the encoding must be exact.
            for offset in range(at + len(algorithm) + 3, at + len(algorithm) + 6):
                if spki == _ml_dsa_spki(kind, spki[offset:]):
                    key = _composite(kind, backend).public_key_from_bytes(spki[offset:])
                    return _CompositePublicKey(kind, key)
            raise InvalidKey(f"the {kind.name} SubjectPublicKeyInfo is malformed")
    return None


class _ClassicalPublicKey(PublicKey):
    def __init__(self, kind: KeyType, key: _ClassicalPublic) -> None:
        self.key_type = kind
        self._key = key
        self.spki = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def _raw_bits(self) -> bytes:
        if isinstance(self._key, ed25519.Ed25519PublicKey):
            return self._key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if isinstance(self._key, ec.EllipticCurvePublicKey):
            return self._key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return self._key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)

    def verify(self, signature: bytes, data: bytes) -> None:
        try:
            if isinstance(self._key, ed25519.Ed25519PublicKey):
                self._key.verify(signature, data)
            elif isinstance(self._key, ec.EllipticCurvePublicKey):
                self._key.verify(signature, data, ec.ECDSA(_hash(self.key_type)))
            else:
                self._key.verify(signature, data, padding.PKCS1v15(), _hash(self.key_type))
        except _CryptoInvalidSignature:
            raise InvalidSignature(f"the {self.key_type.name} signature does not verify") from None


def public_key_from_spki(spki: bytes, backend: str | None) -> PublicKey:
    """Read a DER SubjectPublicKeyInfo of one of the supported key types.

    ML-DSA keys are recognised by their exact RFC 9881 encoding and loaded
    through pqc on ``backend``; anything else is handed to pyca/cryptography.
    UnsupportedAlgorithm for other key types (RSA of another size, other curves).
    """
    composite = _composite_public_from_spki(spki, backend)
    if composite is not None:
        return composite
    for kind in KEY_TYPES.values():
        if kind.is_ml_dsa or kind.is_slh_dsa:
            raw = spki[-sig_params(kind.name).public_key_size :]
            if spki == _ml_dsa_spki(kind, raw):
                if kind.is_slh_dsa:
                    slh = pqc.Signature(kind.name, backend=_SLH_DSA_BACKEND)
                    return _SlhDsaPublicKey(kind, slh.public_key_from_bytes(raw))
                return _MlDsaPublicKey(
                    kind, pqc.Signature(kind.name, backend=backend).public_key_from_bytes(raw)
                )
            if kind.is_slh_dsa and any(
                spki.startswith(kind.signature_algorithm_der(), at) for at in (2, 3, 4)
            ):
                # pyca/cryptography does not know SLH-DSA: say what is wrong rather than "unsupported".
                raise InvalidKey(
                    f"the {kind.name} SubjectPublicKeyInfo is malformed: RFC 9909 wants the raw "
                    f"{sig_params(kind.name).public_key_size}-byte key in the BIT STRING"
                )
    try:
        loaded = serialization.load_der_public_key(spki)
    except _CryptoUnsupportedAlgorithm:
        raise UnsupportedAlgorithm("the public key's algorithm is not one this engine supports") from None
    except (ValueError, TypeError):
        raise InvalidKey("the SubjectPublicKeyInfo is malformed or of an unknown algorithm") from None
    kind = _classical_key_type(loaded)
    if not isinstance(loaded, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise UnsupportedAlgorithm(f"expected a public key, got {type(loaded).__name__}")
    return _ClassicalPublicKey(kind, loaded)


def _classical_key_type(key: object) -> KeyType:
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return KEY_TYPES["Ed25519"]
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        if key.curve.name in _CURVES:
            return KEY_TYPES[_CURVES[key.curve.name]]
        raise UnsupportedAlgorithm(
            f"ECDSA keys must be on P-224, P-256, P-384 or P-521, not {key.curve.name}"
        )
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        if key.key_size in _RSA_SIZES:
            return KEY_TYPES[f"RSA-{key.key_size}"]
        raise UnsupportedAlgorithm(f"RSA keys must be 2048, 3072 or 4096 bits, not {key.key_size}")
    raise UnsupportedAlgorithm(
        f"unsupported public key type {type(key).__name__}; expected one of {', '.join(KEY_TYPES)}"
    )


# -- signing keys ---------------------------------------------------------------------------------------


class SigningKey(abc.ABC):
    """A private key that signs X.509 structures. Its ``repr`` never shows key material."""

    key_type: KeyType
    public_key: PublicKey

    @abc.abstractmethod
    def sign(self, data: bytes) -> bytes:
        """The X.509 signature of this key type over ``data`` (a DER TBS structure)."""

    @abc.abstractmethod
    def _private_fields(self) -> dict[str, Any]: ...

    @abc.abstractmethod
    def pkcs8_der(self) -> bytes:
        """The private key as unencrypted PKCS#8 (RFC 5958). Handle the result as a secret."""

    @abc.abstractmethod
    def pyca_private_key(self) -> PycaPrivateKey | None:
        """The key as a pyca/cryptography object that can sign, or None where pyca cannot hold it
        (an ML-DSA key known only in expanded form). Handle the result as a secret."""

    def pkcs8_pem(self) -> str:
        body = _json.b64encode(self.pkcs8_der())
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"

    def to_record(self) -> bytes:
        """The tagged JSON form for the keystore. Handle the result as a secret."""
        return _json.dumps(
            _KEY_FORMAT, _KEY_VERSION, {"key_type": self.key_type.name, **self._private_fields()}
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key_type.name}, <private>)"


class _MlDsaSigningKey(SigningKey):
    def __init__(self, kind: KeyType, secret: pqc.SigSecretKey, public: pqc.SigPublicKey) -> None:
        self.key_type = kind
        self._secret = secret
        self.public_key = _MlDsaPublicKey(kind, public)

    @property
    def backend(self) -> str:
        return self._secret.backend

    def sign(self, data: bytes) -> bytes:
        return self._secret.sign(data, b"")  # RFC 9881: pure ML-DSA, empty context string

    def _seed(self) -> bytes | None:
        """The 32-byte FIPS 204 seed, or None for a key known only in expanded form."""
        try:
            return self._secret.seed_bytes()
        except UnsupportedAlgorithm:  # loaded from expanded bytes, or a core that keeps no seeds
            return None

    def _private_fields(self) -> dict[str, Any]:
        seed = self._seed()
        if seed is not None:
            encoding, secret = "fips204-seed", seed
        else:
            encoding, secret = "fips204-expanded", self._secret.to_bytes()
        return {
            "backend": self._secret.backend,
            "encoding": encoding,
            "private": _json.b64encode(secret),
            "public": _json.b64encode(self.public_key.subject_public_key),
        }

    def pkcs8_der(self) -> bytes:
        # RFC 9881 section 6: ML-DSA-PrivateKey is the seed ([0] IMPLICIT OCTET STRING) or expandedKey.
        seed = self._seed()
        if seed is not None:
            inner = _der.context_implicit_primitive(0, seed)
        else:
            inner = _der.octet_string(self._secret.to_bytes())
        algorithm = _der.sequence(_der.oid(self.key_type.signature_oid))
        return _der.sequence(_der.integer(0), algorithm, _der.octet_string(inner))

    def pyca_private_key(self) -> PycaPrivateKey | None:
        seed = self._seed()
        return None if seed is None else _PYCA_ML_DSA[self.key_type.name].from_seed_bytes(seed)


class _SlhDsaSigningKey(SigningKey):
    """SLH-DSA (RFC 9909): stored as the FIPS 205 seed, handed out as the raw secret key in PKCS#8."""

    def __init__(self, kind: KeyType, pair: pqc.SigKeyPair) -> None:
        self.key_type = kind
        self._secret = pair.secret_key
        self.public_key = _SlhDsaPublicKey(kind, pair.public_key)

    def sign(self, data: bytes) -> bytes:
        return self._secret.sign(data, b"")  # RFC 9909: pure SLH-DSA, empty context string

    def _private_fields(self) -> dict[str, Any]:
        return {
            "backend": self._secret.backend,
            "encoding": "fips205-seed",
            "private": _json.b64encode(self._secret.seed_bytes()),
            "public": _json.b64encode(self.public_key.subject_public_key),
        }

    def pkcs8_der(self) -> bytes:
        # RFC 9909 section 6: the privateKey OCTET STRING holds SK.seed || SK.prf || PK.seed || PK.root.
        algorithm = _der.sequence(_der.oid(self.key_type.signature_oid))
        return _der.sequence(_der.integer(0), algorithm, _der.octet_string(self._secret.to_bytes()))

    def pyca_private_key(self) -> PycaPrivateKey | None:
        return None  # pyca/cryptography has no SLH-DSA


def slh_dsa_signing_key(name: str, seed: bytes, public: bytes | None = None) -> SigningKey:
    """An SLH-DSA key from its FIPS 205 seed (SK.seed || SK.prf || PK.seed, 3n bytes), on the native
    core; InvalidKey if the seed is the wrong size or does not give ``public``."""
    kind = key_type(name)
    if not kind.is_slh_dsa:
        raise UnsupportedAlgorithm(f"{kind.name} is not an SLH-DSA key type")
    pair = pqc.Signature(kind.name, backend=_SLH_DSA_BACKEND).keypair_from_seed(seed)
    if public is not None and pair.public_key.to_bytes() != public:
        raise InvalidKey(f"the {kind.name} seed does not give the expected public key")
    return _SlhDsaSigningKey(kind, pair)


class _CompositeSigningKey(SigningKey):
    """Composite ML-DSA: stored, and handed out in PKCS#8, as the draft's ``mldsaSeed || tradSK``."""

    def __init__(self, kind: KeyType, pair: pqc.SigKeyPair) -> None:
        self.key_type = kind
        self._secret = pair.secret_key
        self.public_key = _CompositePublicKey(kind, pair.public_key)

    def sign(self, data: bytes) -> bytes:
        return self._secret.sign(data, b"")

    def _private_fields(self) -> dict[str, Any]:
        return {
            "backend": self._secret.backend,
            "encoding": "composite-ml-dsa",
            "private": _json.b64encode(self._secret.to_bytes()),
            "public": _json.b64encode(self.public_key.subject_public_key),
        }

    def pkcs8_der(self) -> bytes:
        # Draft section 6: OneAsymmetricKey with the composite OID (no parameters), privateKey the raw key.
        algorithm = _der.sequence(_der.oid(self.key_type.signature_oid))
        return _der.sequence(_der.integer(0), algorithm, _der.octet_string(self._secret.to_bytes()))

    def pyca_private_key(self) -> PycaPrivateKey | None:
        return None  # pyca/cryptography has no composite keys


class _ClassicalSigningKey(SigningKey):
    def __init__(self, key: _ClassicalPrivate) -> None:
        self.key_type = _classical_key_type(key)
        self._key = key
        self.public_key = _ClassicalPublicKey(self.key_type, key.public_key())

    def sign(self, data: bytes) -> bytes:
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(data)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(_hash(self.key_type)))  # DER Ecdsa-Sig-Value, as X.509 wants
        return self._key.sign(data, padding.PKCS1v15(), _hash(self.key_type))

    def pyca_private_key(self) -> PycaPrivateKey | None:
        return self._key

    def pkcs8_der(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def _private_fields(self) -> dict[str, Any]:
        return {"backend": "openssl", "encoding": "pkcs8-der", "private": _json.b64encode(self.pkcs8_der())}


def generate_key(name: str, backend: str | None = None) -> SigningKey:
    """A fresh key of type ``name``; ML-DSA keys are made by pqc on ``backend`` (None: pqc's default)."""
    kind = key_type(name)
    if kind.is_ml_dsa:
        pair = pqc.Signature(kind.name, backend=backend).generate_keypair()
        return _MlDsaSigningKey(kind, pair.secret_key, pair.public_key)
    if kind.is_composite:
        return _CompositeSigningKey(kind, _composite(kind, backend).generate_keypair())
    if kind.is_slh_dsa:
        return _SlhDsaSigningKey(kind, pqc.Signature(kind.name, backend=_SLH_DSA_BACKEND).generate_keypair())
    if kind.name == "Ed25519":
        return _ClassicalSigningKey(ed25519.Ed25519PrivateKey.generate())
    if kind.name in _CURVE_OBJECTS:
        return _ClassicalSigningKey(ec.generate_private_key(_CURVE_OBJECTS[kind.name]))
    bits = int(kind.name.removeprefix("RSA-"))
    return _ClassicalSigningKey(rsa.generate_private_key(public_exponent=65537, key_size=bits))


def signing_key_from_pyca(key: object) -> SigningKey:
    """A classical pyca/cryptography private key of a supported type; UnsupportedAlgorithm otherwise."""
    if not isinstance(key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise UnsupportedAlgorithm(f"unsupported private key type {type(key).__name__}")
    return _ClassicalSigningKey(key)


def ml_dsa_signing_key(
    name: str,
    backend: str | None,
    *,
    seed: bytes | None = None,
    expanded: bytes | None = None,
    public: bytes | None = None,
) -> SigningKey:
    """An ML-DSA key from its FIPS 204 seed or, failing that, its expanded form and public key.

    A seed is used on ``backend`` where that backend makes keys from seeds,
    else on "openssl"; an expanded key needs a backend that loads one ("oqs").
    Given with a seed, ``public`` must match it (InvalidKey otherwise).
    """
    kind = key_type(name)
    if seed is not None:
        pair = _keypair_from_seed(kind, seed, backend)
        if public is not None and pair.public_key.to_bytes() != public:
            raise InvalidKey(f"the {kind.name} seed does not give the expected public key")
        return _MlDsaSigningKey(kind, pair.secret_key, pair.public_key)
    if expanded is None or public is None:
        raise InvalidKey(f"a {kind.name} key needs its seed, or its expanded form and public key")
    algorithm = pqc.Signature(kind.name, backend=backend)
    return _MlDsaSigningKey(
        kind, algorithm.secret_key_from_bytes(expanded), algorithm.public_key_from_bytes(public)
    )


def _keypair_from_seed(kind: KeyType, seed: bytes, backend: str | None) -> pqc.SigKeyPair:
    try:
        return pqc.Signature(kind.name, backend=backend).keypair_from_seed(seed)
    except (UnsupportedAlgorithm, BackendUnavailable):
        if backend == "openssl":
            raise
        # This core cannot make keys from seeds (older native builds): the same key on "openssl".
        return pqc.Signature(kind.name, backend="openssl").keypair_from_seed(seed)


def key_from_record(record: bytes, where: str) -> SigningKey:
    """Load a key written by :meth:`SigningKey.to_record`. CorruptRecord if it is not one.

    An ML-DSA key is loaded on the backend that made it: an expanded "oqs" key
    needs liboqs (BackendUnavailable otherwise); a seed loads on "openssl"
    where its own backend cannot make keys from seeds.
    """
    obj = _json.loads(record, _KEY_FORMAT, _KEY_VERSION, where)
    kind = key_type(_json.require(obj, "key_type", str, where))
    encoding = _json.require(obj, "encoding", str, where)
    backend = _json.require(obj, "backend", str, where)
    secret = _json.b64decode(_json.require(obj, "private", str, where), where)
    if kind.is_composite:
        public = _json.b64decode(_json.require(obj, "public", str, where), where)
        if encoding != "composite-ml-dsa":
            raise CorruptRecord(f"{where}: unknown {kind.name} key encoding {encoding!r}")
        try:
            pair = _composite(kind, backend).keypair_from_bytes(secret)
        except InvalidKey:
            raise CorruptRecord(f"{where}: the {kind.name} key does not parse") from None
        if pair.public_key.to_bytes() != public:
            raise CorruptRecord(f"{where}: the stored public key does not match the private key")
        return _CompositeSigningKey(kind, pair)
    if kind.is_slh_dsa:
        public = _json.b64decode(_json.require(obj, "public", str, where), where)
        if encoding != "fips205-seed":
            raise CorruptRecord(f"{where}: unknown {kind.name} key encoding {encoding!r}")
        try:
            return slh_dsa_signing_key(kind.name, secret, public)
        except InvalidKey:
            raise CorruptRecord(f"{where}: the {kind.name} seed does not give its public key") from None
    if kind.is_ml_dsa:
        public = _json.b64decode(_json.require(obj, "public", str, where), where)
        if encoding == "fips204-seed":
            try:
                return ml_dsa_signing_key(kind.name, backend, seed=secret, public=public)
            except InvalidKey:
                raise CorruptRecord(f"{where}: the stored public key does not match the seed") from None
        if encoding == "fips204-expanded":
            return ml_dsa_signing_key(kind.name, backend, expanded=secret, public=public)
        raise CorruptRecord(f"{where}: unknown ML-DSA key encoding {encoding!r}")
    if encoding != "pkcs8-der":
        raise CorruptRecord(f"{where}: unknown {kind.name} key encoding {encoding!r}")
    try:
        loaded = serialization.load_der_private_key(secret, password=None)
    except (ValueError, TypeError, _CryptoInternalError, _CryptoUnsupportedAlgorithm):
        raise CorruptRecord(f"{where}: the {kind.name} key does not parse") from None
    if not isinstance(loaded, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise CorruptRecord(f"{where}: expected a {kind.name} key")
    signing = _ClassicalSigningKey(loaded)
    if signing.key_type is not kind:
        raise CorruptRecord(f"{where}: record says {kind.name}, key is {signing.key_type.name}")
    return signing
