"""Composite ML-DSA (draft-ietf-lamps-pq-composite-sigs-19): ML-DSA and a classical signature, one key.

The second hybrid signature format beside :mod:`secretumvault.hybrid.sig`
(the library's own envelope, which keeps working unchanged). This one is the
IETF LAMPS draft's, so keys and signatures interoperate with other
implementations and go into X.509 under the draft's OIDs (``pki``).

Per the draft (section numbers of -19):

* message representative (3.2)::

      M' = Prefix || Label || len(ctx) || ctx || PH(M)

  ``Prefix`` is ``"CompositeAlgorithmSignatures2025"``, ``Label`` the
  algorithm's ``COMPSIG-...`` string (7), ``len(ctx)`` one byte (ctx at most
  255 bytes), ``PH`` the algorithm's pre-hash (SHA-512, SHA-256 or SHAKE256/64).
* ML-DSA signs ``M'`` with the *label* as its FIPS 204 context; the classical
  half signs ``M'`` (4.2). Verification needs both halves (4.3).
* encodings (5): public key ``mldsaPK || tradPK``; private key
  ``mldsaSeed (32) || tradSK``; signature ``mldsaSig || tradSig``. Ed25519/Ed448
  are raw (RFC 8032); ECDSA public keys are uncompressed points, private keys
  the RFC 5915 ``ECPrivateKey`` DER with the curve OID and no public key, and
  signatures DER ``Ecdsa-Sig-Value``.

Implemented: every combination without RSA (ten of the draft's eighteen).

ECDSA: signatures made here are RFC 6979 deterministic with low ``s``. A
high-``s`` signature from another implementation is accepted (the draft and
X.509 accept it; composite ML-DSA claims EUF-CMA, not SUF-CMA), but only in
its exact DER spelling.

``deterministic=True`` asks for FIPS 204's deterministic ML-DSA signing; the
classical halves are deterministic anyway (EdDSA; ECDSA by RFC 6979), so the
whole signature is then a function of key, message and context.
"""

from __future__ import annotations

import abc
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from secretumvault import pqc
from secretumvault._words import with_article
from secretumvault.errors import InvalidArgument, InvalidKey, InvalidSignature, UnsupportedAlgorithm
from secretumvault.hybrid._scheme import HybridScheme, lookup_spec
from secretumvault.pqc._buffers import as_bytes
from secretumvault.pqc._buffers import refuse_pickle as _refuse_pickle
from secretumvault.pqc.keys import Buffer, SigKeyPair, SigPublicKey, SigSecretKey
from secretumvault.pqc.params import sig_params

__all__ = [
    "COMPOSITE_ALGORITHMS",
    "DRAFT",
    "PREFIX",
    "CompositeSigPublicKey",
    "CompositeSigSecretKey",
    "CompositeSignature",
    "composite_oid",
]

#: The draft this module implements (labels, OIDs and encodings are that version's).
DRAFT = "draft-ietf-lamps-pq-composite-sigs-19"
#: The fixed first bytes of every message representative M' (draft section 3.2).
PREFIX = b"CompositeAlgorithmSignatures2025"
MAX_CONTEXT_SIZE = 255
MLDSA_SEED_SIZE = 32


# -- the classical halves ---------------------------------------------------------------------------


class _Trad(abc.ABC):
    """One classical component in the draft's encodings. Malformed key bytes raise ValueError."""

    name: str

    @abc.abstractmethod
    def generate(self) -> Any: ...
    @abc.abstractmethod
    def private_bytes(self, key: Any) -> bytes: ...
    @abc.abstractmethod
    def private_from_bytes(self, data: bytes) -> Any: ...
    @abc.abstractmethod
    def public_bytes(self, key: Any) -> bytes: ...
    @abc.abstractmethod
    def public_from_bytes(self, data: bytes) -> Any: ...
    @abc.abstractmethod
    def sign(self, key: Any, message: bytes) -> bytes: ...
    @abc.abstractmethod
    def is_valid(self, key: Any, signature: bytes, message: bytes) -> bool: ...


class _EdDsa(_Trad):
    """Ed25519 or Ed448: raw keys and signatures (RFC 8032)."""

    def __init__(self, name: str, private_cls: Any, public_cls: Any, key_size: int, sig_size: int) -> None:
        self.name = name
        self._private_cls = private_cls
        self._public_cls = public_cls
        self.key_size = key_size
        self.signature_size = sig_size

    def generate(self) -> Any:
        return self._private_cls.generate()

    def private_bytes(self, key: Any) -> bytes:
        return bytes(key.private_bytes_raw())

    def private_from_bytes(self, data: bytes) -> Any:
        if len(data) != self.key_size:
            raise ValueError(f"an {self.name} private key is {self.key_size} bytes")
        return self._private_cls.from_private_bytes(data)

    def public_bytes(self, key: Any) -> bytes:
        return bytes(key.public_bytes_raw())

    def public_from_bytes(self, data: bytes) -> Any:
        if len(data) != self.key_size:
            raise ValueError(f"an {self.name} public key is {self.key_size} bytes")
        return self._public_cls.from_public_bytes(data)

    def sign(self, key: Any, message: bytes) -> bytes:
        return bytes(key.sign(message))

    def is_valid(self, key: Any, signature: bytes, message: bytes) -> bool:
        if len(signature) != self.signature_size:
            return False
        try:
            key.verify(signature, message)
        except _CryptoInvalidSignature:
            return False
        return True


def _der_length(n: int) -> bytes:
    return bytes((n,)) if n < 0x80 else bytes((0x81, n))  # every structure here is < 256 bytes


class _Ecdsa(_Trad):
    """ECDSA on one curve with one hash: uncompressed points, RFC 5915 private keys, DER signatures."""

    def __init__(
        self, name: str, curve: ec.EllipticCurve, curve_oid_der: bytes, hash_alg: hashes.HashAlgorithm
    ) -> None:
        self.name = name
        self._curve = curve
        self._size = (curve.key_size + 7) // 8
        self._order = _ORDERS[curve.name]
        self._sign_alg = ec.ECDSA(hash_alg, deterministic_signing=True)  # RFC 6979
        self._verify_alg = ec.ECDSA(hash_alg)
        # ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] namedCurve } (no publicKey):
        # with a fixed-size scalar it is a constant prefix, the scalar and a constant suffix.
        params = b"\xa0" + _der_length(len(curve_oid_der)) + curve_oid_der
        body_len = 3 + 2 + self._size + len(params)
        self._sk_prefix = b"\x30" + _der_length(body_len) + b"\x02\x01\x01\x04" + _der_length(self._size)
        self._sk_suffix = params

    @property
    def max_signature_size(self) -> int:
        """The longest DER ``SEQUENCE { r, s }``: each INTEGER below the order, with a sign byte."""
        integers = 2 * (2 + self._order.bit_length() // 8 + 1)
        return integers + (2 if integers < 0x80 else 3)

    def generate(self) -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(self._curve)

    def private_bytes(self, key: ec.EllipticCurvePrivateKey) -> bytes:
        scalar = key.private_numbers().private_value.to_bytes(self._size, "big")
        return self._sk_prefix + scalar + self._sk_suffix

    def private_from_bytes(self, data: bytes) -> ec.EllipticCurvePrivateKey:
        size = len(self._sk_prefix) + self._size + len(self._sk_suffix)
        if len(data) != size or not (data.startswith(self._sk_prefix) and data.endswith(self._sk_suffix)):
            raise ValueError(
                f"expected the {size}-byte RFC 5915 ECPrivateKey of {with_article(self.name)} key"
            )
        scalar = int.from_bytes(data[len(self._sk_prefix) : len(self._sk_prefix) + self._size], "big")
        if not 0 < scalar < self._order:
            raise ValueError("private scalar out of range")
        return ec.derive_private_key(scalar, self._curve)

    def public_bytes(self, key: ec.EllipticCurvePublicKey) -> bytes:
        return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def public_from_bytes(self, data: bytes) -> ec.EllipticCurvePublicKey:
        if len(data) != 1 + 2 * self._size or data[:1] != b"\x04":
            raise ValueError("expected an uncompressed point")  # one encoding per key
        return ec.EllipticCurvePublicKey.from_encoded_point(self._curve, data)

    def sign(self, key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(message, self._sign_alg))
        return encode_dss_signature(r, min(s, self._order - s))  # low s

    def is_valid(self, key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
        try:
            r, s = decode_dss_signature(signature)
        except ValueError:
            return False
        if encode_dss_signature(r, s) != signature:  # trailing bytes, or another spelling of (r, s)
            return False
        if not (0 < r < self._order and 0 < s < self._order):
            return False
        try:
            key.verify(signature, message, self._verify_alg)
        except _CryptoInvalidSignature:
            return False
        return True


_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
    ),
    "secp521r1": int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D0"
        "3BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
    "brainpoolP256r1": 0xA9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7,
    "brainpoolP384r1": int(
        "8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7CF3AB6AF6B7FC3103B883202E9046565", 16
    ),
}

_ED25519 = _EdDsa("Ed25519", ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey, 32, 64)
_ED448 = _EdDsa("Ed448", ed448.Ed448PrivateKey, ed448.Ed448PublicKey, 57, 114)
# Curve OIDs, DER-encoded: secp256r1 1.2.840.10045.3.1.7, secp384r1 1.3.132.0.34, secp521r1 1.3.132.0.35,
# brainpoolP256r1 1.3.36.3.3.2.8.1.1.7, brainpoolP384r1 1.3.36.3.3.2.8.1.1.11.
_P256_SHA256 = _Ecdsa("ECDSA-P256", ec.SECP256R1(), bytes.fromhex("06082a8648ce3d030107"), hashes.SHA256())
_P384_SHA384 = _Ecdsa("ECDSA-P384", ec.SECP384R1(), bytes.fromhex("06052b81040022"), hashes.SHA384())
_P521_SHA512 = _Ecdsa("ECDSA-P521", ec.SECP521R1(), bytes.fromhex("06052b81040023"), hashes.SHA512())
_BP256_SHA256 = _Ecdsa(
    "ECDSA-brainpoolP256r1", ec.BrainpoolP256R1(), bytes.fromhex("06092b2403030208010107"), hashes.SHA256()
)
_BP384_SHA384 = _Ecdsa(
    "ECDSA-brainpoolP384r1", ec.BrainpoolP384R1(), bytes.fromhex("06092b240303020801010b"), hashes.SHA384()
)


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _sha512(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()


def _shake256_64(data: bytes) -> bytes:
    return hashlib.shake_256(data).digest(64)


# -- algorithms --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    name: str  # the draft's identifier without "id-", e.g. "MLDSA65-ECDSA-P256-SHA512"
    oid: str
    label: bytes
    pqc_name: str
    trad: _Trad
    prehash: Any  # bytes -> bytes


_SPECS = {
    s.name: s
    for s in (
        _Spec(
            "MLDSA44-Ed25519-SHA512",
            "1.3.6.1.5.5.7.6.39",
            b"COMPSIG-MLDSA44-Ed25519-SHA512",
            "ML-DSA-44",
            _ED25519,
            _sha512,
        ),
        _Spec(
            "MLDSA44-ECDSA-P256-SHA256",
            "1.3.6.1.5.5.7.6.40",
            b"COMPSIG-MLDSA44-ECDSA-P256-SHA256",
            "ML-DSA-44",
            _P256_SHA256,
            _sha256,
        ),
        _Spec(
            "MLDSA65-ECDSA-P256-SHA512",
            "1.3.6.1.5.5.7.6.45",
            b"COMPSIG-MLDSA65-ECDSA-P256-SHA512",
            "ML-DSA-65",
            _P256_SHA256,
            _sha512,
        ),
        _Spec(
            "MLDSA65-ECDSA-P384-SHA512",
            "1.3.6.1.5.5.7.6.46",
            b"COMPSIG-MLDSA65-ECDSA-P384-SHA512",
            "ML-DSA-65",
            _P384_SHA384,
            _sha512,
        ),
        _Spec(
            "MLDSA65-ECDSA-brainpoolP256r1-SHA512",
            "1.3.6.1.5.5.7.6.47",
            b"COMPSIG-MLDSA65-ECDSA-BP256-SHA512",
            "ML-DSA-65",
            _BP256_SHA256,
            _sha512,
        ),
        _Spec(
            "MLDSA65-Ed25519-SHA512",
            "1.3.6.1.5.5.7.6.48",
            b"COMPSIG-MLDSA65-Ed25519-SHA512",
            "ML-DSA-65",
            _ED25519,
            _sha512,
        ),
        _Spec(
            "MLDSA87-ECDSA-P384-SHA512",
            "1.3.6.1.5.5.7.6.49",
            b"COMPSIG-MLDSA87-ECDSA-P384-SHA512",
            "ML-DSA-87",
            _P384_SHA384,
            _sha512,
        ),
        _Spec(
            "MLDSA87-ECDSA-brainpoolP384r1-SHA512",
            "1.3.6.1.5.5.7.6.50",
            b"COMPSIG-MLDSA87-ECDSA-BP384-SHA512",
            "ML-DSA-87",
            _BP384_SHA384,
            _sha512,
        ),
        _Spec(
            "MLDSA87-Ed448-SHAKE256",
            "1.3.6.1.5.5.7.6.51",
            b"COMPSIG-MLDSA87-Ed448-SHAKE256",
            "ML-DSA-87",
            _ED448,
            _shake256_64,
        ),
        _Spec(
            "MLDSA87-ECDSA-P521-SHA512",
            "1.3.6.1.5.5.7.6.54",
            b"COMPSIG-MLDSA87-ECDSA-P521-SHA512",
            "ML-DSA-87",
            _P521_SHA512,
            _sha512,
        ),
    )
}

#: The composite algorithms offered, by the draft's names (without "id-").
COMPOSITE_ALGORITHMS: tuple[str, ...] = tuple(_SPECS)


def composite_oid(name: str) -> str:
    """The draft's OID (dotted) of composite algorithm ``name``; it names the key and the signature."""
    return lookup_spec(_SPECS, name, "composite ML-DSA algorithm").oid


def _message_representative(spec: _Spec, message: bytes, context: bytes) -> bytes:
    if len(context) > MAX_CONTEXT_SIZE:
        raise InvalidArgument(
            f"composite ML-DSA context strings are at most {MAX_CONTEXT_SIZE} bytes, got {len(context)}"
        )
    return b"".join((PREFIX, spec.label, bytes((len(context),)), context, spec.prehash(message)))


class CompositeSigPublicKey(SigPublicKey):
    """Verification key: the draft's ``mldsaPK || tradPK``."""

    __slots__ = ("_pqc_key", "_raw", "_spec", "_trad_key", "algorithm", "backend")

    def __init__(self, spec: _Spec, pqc_key: SigPublicKey, trad_key: Any) -> None:
        self._spec = spec
        self._pqc_key = pqc_key
        self._trad_key = trad_key
        self._raw = pqc_key.to_bytes() + spec.trad.public_bytes(trad_key)
        self.algorithm = spec.name
        self.backend = pqc_key.backend

    @property
    def oid(self) -> str:
        return self._spec.oid

    def verify(self, signature: Buffer, message: Buffer, context: Buffer = b"") -> None:
        """``None`` if both halves verify on ``M'`` (draft 4.3), else InvalidSignature."""
        sig = as_bytes(signature, "signature")
        mprime = _message_representative(
            self._spec, as_bytes(message, "message"), as_bytes(context, "context")
        )
        pqc_size = sig_params(self._spec.pqc_name).signature_size
        if len(sig) <= pqc_size:
            raise InvalidSignature(f"{self.algorithm} signature is truncated")
        # Both halves are checked (no early exit), so the time taken does not say which one failed.
        try:
            self._pqc_key.verify(sig[:pqc_size], mprime, self._spec.label)
        except InvalidSignature:
            pqc_ok = False
        else:
            pqc_ok = True
        trad_ok = self._spec.trad.is_valid(self._trad_key, sig[pqc_size:], mprime)
        if not (pqc_ok and trad_ok):
            raise InvalidSignature(f"{self.algorithm} signature does not verify")

    def to_bytes(self) -> bytes:
        """The draft's public key encoding, ``mldsaPK || tradPK`` (the X.509 subjectPublicKey bits)."""
        return self._raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompositeSigPublicKey):
            return NotImplemented
        return self.algorithm == other.algorithm and self._raw == other._raw

    def __hash__(self) -> int:
        return hash((self.algorithm, self._raw))

    def __repr__(self) -> str:
        return f"<CompositeSigPublicKey {self.algorithm} backend={self.backend}>"

    def __reduce__(self) -> NoReturn:
        _refuse_pickle(self)


class CompositeSigSecretKey(SigSecretKey):
    """Signing key: the ML-DSA seed (and the key it expands to) and the classical private key."""

    __slots__ = ("_pqc_key", "_public", "_seed", "_spec", "_trad_key", "algorithm", "backend")

    def __init__(
        self, spec: _Spec, seed: bytes, pqc_key: SigSecretKey, trad_key: Any, public: CompositeSigPublicKey
    ) -> None:
        self._spec = spec
        self._seed = seed
        self._pqc_key = pqc_key
        self._trad_key = trad_key
        self._public = public
        self.algorithm = spec.name
        self.backend = pqc_key.backend

    @property
    def public_key(self) -> CompositeSigPublicKey:
        return self._public

    def sign(self, message: Buffer, context: Buffer = b"", deterministic: bool = False) -> bytes:
        """``mldsaSig || tradSig`` over ``M'`` (draft 4.2); ``context`` is the application context."""
        mprime = _message_representative(
            self._spec, as_bytes(message, "message"), as_bytes(context, "context")
        )
        pqc_sig = self._pqc_key.sign(mprime, self._spec.label, deterministic=deterministic)
        return pqc_sig + self._spec.trad.sign(self._trad_key, mprime)

    def to_bytes(self) -> bytes:
        """The draft's private key encoding, ``mldsaSeed || tradSK``. Handle the result as a secret."""
        return self._seed + self._spec.trad.private_bytes(self._trad_key)

    def seed_bytes(self) -> bytes:
        raise UnsupportedAlgorithm(
            f"{with_article(self.algorithm)} signing key has no single seed (it holds two private keys); "
            "serialise it with to_bytes()"
        )

    def __repr__(self) -> str:
        return f"<CompositeSigSecretKey {self.algorithm} backend={self.backend}>"

    def __reduce__(self) -> NoReturn:
        _refuse_pickle(self)


class CompositeSignature(HybridScheme):
    """One composite ML-DSA algorithm on one backend, shaped like :class:`pqc.Signature`.

    ``backend`` runs the ML-DSA half; it must make keys from seeds (the draft's
    private key is the FIPS 204 seed).
    """

    __slots__ = ()
    _spec: _Spec
    _pqc: pqc.Signature

    def __init__(self, name: str, backend: str | None = None) -> None:
        self._spec = lookup_spec(_SPECS, name, "composite ML-DSA algorithm")
        self._pqc = pqc.Signature(self._spec.pqc_name, backend)

    @property
    def oid(self) -> str:
        return self._spec.oid

    @property
    def label(self) -> bytes:
        return self._spec.label

    @property
    def classical_algorithm(self) -> str:
        return self._spec.trad.name

    @property
    def signature_size(self) -> int:
        """The largest signature (ECDSA's DER is variable; the others are fixed)."""
        trad = self._spec.trad
        if isinstance(trad, _EdDsa):
            return int(self._pqc.signature_size) + trad.signature_size
        assert isinstance(trad, _Ecdsa)
        return int(self._pqc.signature_size) + trad.max_signature_size

    def message_representative(self, message: Buffer, context: Buffer = b"") -> bytes:
        """``M'``, the bytes both halves sign (draft section 3.2)."""
        return _message_representative(self._spec, as_bytes(message, "message"), as_bytes(context, "context"))

    def generate_keypair(self) -> SigKeyPair:
        """Fresh, independent component keys (draft 4.1): a random ML-DSA seed and a classical key."""
        return self._keypair(secrets.token_bytes(MLDSA_SEED_SIZE), self._spec.trad.generate())

    def _keypair(self, seed: bytes, trad_private: Any) -> SigKeyPair:
        pair = self._pqc.keypair_from_seed(seed)
        public = CompositeSigPublicKey(self._spec, pair.public_key, trad_private.public_key())
        return SigKeyPair(
            public, CompositeSigSecretKey(self._spec, seed, pair.secret_key, trad_private, public)
        )

    def public_key_from_bytes(self, data: Buffer) -> CompositeSigPublicKey:
        """Load ``mldsaPK || tradPK``; both halves are validated, InvalidKey otherwise."""
        raw = as_bytes(data, "public key")
        size = int(self._pqc.public_key_size)
        if len(raw) <= size:
            raise InvalidKey(f"{self.name} public key is {len(raw)} bytes, too short")
        try:
            trad_key = self._spec.trad.public_from_bytes(raw[size:])
        except ValueError:
            raise InvalidKey(f"{self.name} public key: invalid {self._spec.trad.name} part") from None
        return CompositeSigPublicKey(self._spec, self._pqc.public_key_from_bytes(raw[:size]), trad_key)

    def keypair_from_bytes(self, data: Buffer) -> SigKeyPair:
        """Both keys from the draft's private key ``mldsaSeed || tradSK``. Handle ``data`` as a secret."""
        raw = as_bytes(data, "signing key")
        if len(raw) <= MLDSA_SEED_SIZE:
            raise InvalidKey(f"{self.name} signing key is {len(raw)} bytes, too short")
        try:
            trad_private = self._spec.trad.private_from_bytes(raw[MLDSA_SEED_SIZE:])
        except ValueError:
            raise InvalidKey(f"{self.name} signing key: invalid {self._spec.trad.name} part") from None
        return self._keypair(raw[:MLDSA_SEED_SIZE], trad_private)

    def secret_key_from_bytes(self, data: Buffer) -> CompositeSigSecretKey:
        """Load :meth:`CompositeSigSecretKey.to_bytes` output (the draft's private key)."""
        secret = self.keypair_from_bytes(data).secret_key
        assert isinstance(secret, CompositeSigSecretKey)
        return secret

    def __repr__(self) -> str:
        return f"CompositeSignature({self.name!r}, backend={self.backend!r})"
