"""Hybrid signatures: a classical signature and an ML-DSA signature, both required.

Signature wire format (docs/design.md)::

    0x01 | u32be(len(classical)) | classical | ml_dsa

Domain separation. Both halves sign the same *bound message*::

    M' = "SecretumVault-hybrid-signature-v1" || 0x00
         || u8(len(label)) || label || u8(len(ctx)) || ctx || message

where ``label`` is the hybrid algorithm name (e.g. ``Ed25519-ML-DSA-65``) and
``ctx`` the FIPS 204 context string, which ML-DSA additionally receives as its
own context. Consequences:

* Stripping: a half cut out of a hybrid signature is a signature on ``M'``,
  never on ``message`` itself (``M'`` is strictly longer and starts with the
  fixed prefix), so it does not verify as a plain signature on the message.
* Each hybrid algorithm signs under its own label, so a signature cannot be
  moved between hybrid algorithms that share a component.
* The classical half is bound to ``ctx`` too (Ed25519 and ECDSA have no
  context of their own); every field is length-prefixed, so no two
  ``(label, ctx, message)`` triples give the same ``M'``.

ECDSA P-256 signatures are carried as fixed-size ``r || s`` (64 bytes) with
``s`` normalised to the lower half of the group order, and verification
refuses high ``s``: without that, ``(r, n - s)`` would be a second valid
signature anyone can make from a given one.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, NoReturn

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from secretumvault import pqc
from secretumvault.encoding import envelope
from secretumvault.encoding.keyheader import KeyKind, decode_key, encode_key
from secretumvault.errors import (
    InvalidArgument,
    InvalidKey,
    InvalidSignature,
    InvalidType,
    UnsupportedAlgorithm,
)
from secretumvault.pqc._buffers import as_bytes
from secretumvault.pqc.keys import Buffer, SigKeyPair, SigPublicKey, SigSecretKey

__all__ = [
    "SIGNATURE_ALGORITHMS",
    "SIGNATURE_DOMAIN",
    "HybridSigPublicKey",
    "HybridSigSecretKey",
    "HybridSignature",
    "bound_message",
]

#: Fixed prefix of every bound message; the NUL ends it unambiguously.
SIGNATURE_DOMAIN = b"SecretumVault-hybrid-signature-v1\x00"

MAX_CONTEXT_SIZE = 255  # FIPS 204; also what the u8 length prefix can carry


def bound_message(label: bytes, context: bytes, message: bytes) -> bytes:
    """``M'``, the bytes each half of a hybrid signature actually signs (see module doc)."""
    if len(context) > MAX_CONTEXT_SIZE:
        raise InvalidArgument(
            f"FIPS 204 context strings are at most {MAX_CONTEXT_SIZE} bytes, got {len(context)}"
        )
    return b"".join((SIGNATURE_DOMAIN, bytes((len(label),)), label, bytes((len(context),)), context, message))


# -- classical halves -----------------------------------------------------------


class _Classical(abc.ABC):
    """One classical signature scheme, reduced to fixed-size raw encodings."""

    name: str
    public_key_size: int
    private_key_size: int
    signature_size: int

    @abc.abstractmethod
    def generate(self) -> Any: ...

    @abc.abstractmethod
    def private_from_bytes(self, data: bytes) -> Any: ...

    @abc.abstractmethod
    def private_bytes(self, key: Any) -> bytes: ...

    @abc.abstractmethod
    def public_from_private(self, key: Any) -> Any: ...

    @abc.abstractmethod
    def public_from_bytes(self, data: bytes) -> Any: ...

    @abc.abstractmethod
    def public_bytes(self, key: Any) -> bytes: ...

    @abc.abstractmethod
    def sign(self, key: Any, message: bytes) -> bytes: ...

    @abc.abstractmethod
    def is_valid(self, key: Any, signature: bytes, message: bytes) -> bool: ...


class _Ed25519(_Classical):
    name = "Ed25519"
    public_key_size = 32
    private_key_size = 32
    signature_size = 64

    def generate(self) -> ed25519.Ed25519PrivateKey:
        return ed25519.Ed25519PrivateKey.generate()

    def private_from_bytes(self, data: bytes) -> ed25519.Ed25519PrivateKey:
        return ed25519.Ed25519PrivateKey.from_private_bytes(data)

    def private_bytes(self, key: ed25519.Ed25519PrivateKey) -> bytes:
        return key.private_bytes_raw()

    def public_from_private(self, key: ed25519.Ed25519PrivateKey) -> ed25519.Ed25519PublicKey:
        return key.public_key()

    def public_from_bytes(self, data: bytes) -> ed25519.Ed25519PublicKey:
        return ed25519.Ed25519PublicKey.from_public_bytes(data)

    def public_bytes(self, key: ed25519.Ed25519PublicKey) -> bytes:
        return key.public_bytes_raw()

    def sign(self, key: ed25519.Ed25519PrivateKey, message: bytes) -> bytes:
        return key.sign(message)

    def is_valid(self, key: ed25519.Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
        try:
            key.verify(signature, message)
        except _CryptoInvalidSignature:
            return False
        return True


class _EcdsaP256(_Classical):
    name = "ECDSA-P256"
    public_key_size = 65  # SEC 1 uncompressed point
    private_key_size = 32
    signature_size = 64  # r || s, 32 bytes each
    _CURVE = ec.SECP256R1()
    _ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    _SIGN = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)  # RFC 6979: no RNG at sign time
    _VERIFY = ec.ECDSA(hashes.SHA256())

    def generate(self) -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(self._CURVE)

    def private_from_bytes(self, data: bytes) -> ec.EllipticCurvePrivateKey:
        scalar = int.from_bytes(data, "big")
        if not 0 < scalar < self._ORDER:
            raise ValueError("P-256 private scalar out of range")
        return ec.derive_private_key(scalar, self._CURVE)

    def private_bytes(self, key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_numbers().private_value.to_bytes(self.private_key_size, "big")

    def public_from_private(self, key: ec.EllipticCurvePrivateKey) -> ec.EllipticCurvePublicKey:
        return key.public_key()

    def public_from_bytes(self, data: bytes) -> ec.EllipticCurvePublicKey:
        if data[:1] != b"\x04":  # only the uncompressed form, so each key has one encoding
            raise ValueError("expected an uncompressed SEC 1 point")
        return ec.EllipticCurvePublicKey.from_encoded_point(self._CURVE, data)

    def public_bytes(self, key: ec.EllipticCurvePublicKey) -> bytes:
        return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def sign(self, key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(message, self._SIGN))
        if s > self._ORDER // 2:
            s = self._ORDER - s
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def is_valid(self, key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (0 < r < self._ORDER and 0 < s <= self._ORDER // 2):
            return False
        try:
            key.verify(encode_dss_signature(r, s), message, self._VERIFY)
        except _CryptoInvalidSignature:
            return False
        return True


# -- algorithms -----------------------------------------------------------------


@dataclass(frozen=True)
class _SigSpec:
    name: str
    classical: _Classical
    pqc_name: str

    @property
    def label(self) -> bytes:
        return self.name.encode("ascii")


_SPECS = {
    spec.name: spec
    for spec in (
        _SigSpec("Ed25519-ML-DSA-44", _Ed25519(), "ML-DSA-44"),
        _SigSpec("Ed25519-ML-DSA-65", _Ed25519(), "ML-DSA-65"),
        _SigSpec("ECDSA-P256-ML-DSA-65", _EcdsaP256(), "ML-DSA-65"),
    )
}

#: Hybrid signature names, in the order they are documented.
SIGNATURE_ALGORITHMS: tuple[str, ...] = tuple(_SPECS)

# How the ML-DSA half of a secret key is stored: its 32-byte FIPS 204 seed
# (portable across backends) when the backend kept it, else the expanded key.
_PQC_SEED_FORM = 0x01
_PQC_EXPANDED_FORM = 0x02
_MLDSA_SEED_SIZE = 32  # FIPS 204 xi


def _refuse_pickle(obj: object) -> NoReturn:
    raise InvalidType(f"{type(obj).__name__} is not picklable; serialise it with to_bytes()")


class HybridSigPublicKey(SigPublicKey):
    """Verification key: a classical public key and an ML-DSA public key."""

    __slots__ = (
        "_classical_key",
        "_classical_raw",
        "_pqc_key",
        "_signature_size",
        "_spec",
        "algorithm",
        "backend",
    )

    def __init__(
        self, spec: _SigSpec, classical_key: Any, pqc_key: SigPublicKey, signature_size: int
    ) -> None:
        self._spec = spec
        self._classical_key = classical_key
        self._classical_raw = spec.classical.public_bytes(classical_key)
        self._pqc_key = pqc_key
        self._signature_size = signature_size
        self.algorithm = spec.name
        self.backend = pqc_key.backend

    @property
    def pqc_key(self) -> SigPublicKey:
        """The ML-DSA half."""
        return self._pqc_key

    @property
    def classical_bytes(self) -> bytes:
        """The classical half: raw Ed25519 key or uncompressed P-256 point."""
        return self._classical_raw

    def verify(self, signature: Buffer, message: Buffer, context: Buffer = b"") -> None:
        """Return ``None`` if both halves verify on the bound message, else raise InvalidSignature."""
        sig = as_bytes(signature, "signature")
        ctx = as_bytes(context, "context")
        bound = bound_message(self._spec.label, ctx, as_bytes(message, "message"))
        classical_sig, pqc_sig = envelope.unpack(
            sig,
            classical_size=self._spec.classical.signature_size,
            pqc_size=self._signature_size,
            what=f"{self.algorithm} signature",
            error=InvalidSignature,
        )
        classical_ok = self._spec.classical.is_valid(self._classical_key, classical_sig, bound)
        try:
            self._pqc_key.verify(pqc_sig, bound, ctx)
        except InvalidSignature:
            pqc_ok = False
        else:
            pqc_ok = True
        if not (classical_ok and pqc_ok):
            raise InvalidSignature(f"{self.algorithm} signature does not verify")

    def to_bytes(self) -> bytes:
        """Tagged encoding: header, then ``u32be(len) | classical | ml_dsa``."""
        body = envelope.pack_body(self._classical_raw, self._pqc_key.to_bytes())
        return encode_key(KeyKind.SIGNATURE_PUBLIC, self.algorithm, body)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HybridSigPublicKey):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return f"<HybridSigPublicKey {self.algorithm} backend={self.backend}>"

    def __reduce__(self) -> NoReturn:
        _refuse_pickle(self)


class HybridSigSecretKey(SigSecretKey):
    """Signing key: a classical private key and an ML-DSA signing key."""

    __slots__ = ("_classical_key", "_pqc_key", "_spec", "algorithm", "backend")

    def __init__(self, spec: _SigSpec, classical_key: Any, pqc_key: SigSecretKey) -> None:
        self._spec = spec
        self._classical_key = classical_key
        self._pqc_key = pqc_key
        self.algorithm = spec.name
        self.backend = pqc_key.backend

    def sign(self, message: Buffer, context: Buffer = b"") -> bytes:
        """Sign ``message`` under FIPS 204 context ``context`` (at most 255 bytes) with both halves."""
        ctx = as_bytes(context, "context")
        bound = bound_message(self._spec.label, ctx, as_bytes(message, "message"))
        classical_sig = self._spec.classical.sign(self._classical_key, bound)
        pqc_sig = self._pqc_key.sign(bound, ctx)
        return envelope.pack(classical_sig, pqc_sig)

    def to_bytes(self) -> bytes:
        """Tagged encoding of both private halves. Handle the result as a secret."""
        try:
            pqc_part = bytes((_PQC_SEED_FORM,)) + self._pqc_key.seed_bytes()
        except UnsupportedAlgorithm:
            pqc_part = bytes((_PQC_EXPANDED_FORM,)) + self._pqc_key.to_bytes()
        body = envelope.pack_body(self._spec.classical.private_bytes(self._classical_key), pqc_part)
        return encode_key(KeyKind.SIGNATURE_SECRET, self.algorithm, body)

    def seed_bytes(self) -> bytes:
        raise UnsupportedAlgorithm(
            f"a {self.algorithm} signing key has no single seed (it holds two private keys); "
            "serialise it with to_bytes()"
        )

    def __repr__(self) -> str:
        return f"<HybridSigSecretKey {self.algorithm} backend={self.backend}>"

    def __reduce__(self) -> NoReturn:
        _refuse_pickle(self)


class HybridSignature:
    """A hybrid signature scheme on one backend: a factory for keys, shaped like :class:`pqc.Signature`.

    ``backend`` is passed to :class:`pqc.Signature` for the ML-DSA half.
    """

    __slots__ = ("_pqc", "_spec")

    def __init__(self, name: str, backend: str | None = None) -> None:
        spec = _SPECS.get(name) if isinstance(name, str) else None
        if spec is None:
            raise UnsupportedAlgorithm(
                f"unknown hybrid signature algorithm {name!r}; expected one of "
                f"{', '.join(SIGNATURE_ALGORITHMS)}"
            )
        self._spec = spec
        self._pqc = pqc.Signature(spec.pqc_name, backend)

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def backend(self) -> str:
        """The backend running the ML-DSA half."""
        return str(self._pqc.backend)

    @property
    def classical_algorithm(self) -> str:
        return self._spec.classical.name

    @property
    def pqc_algorithm(self) -> str:
        return self._spec.pqc_name

    @property
    def public_key_size(self) -> int:
        """Length of :meth:`HybridSigPublicKey.to_bytes`."""
        header = 3 + len(self.name)
        return (
            header
            + envelope.LENGTH_FIELD_SIZE
            + self._spec.classical.public_key_size
            + int(self._pqc.public_key_size)
        )

    @property
    def signature_size(self) -> int:
        """Length of a signature envelope."""
        return envelope.HEADER_SIZE + self._spec.classical.signature_size + int(self._pqc.signature_size)

    def generate_keypair(self) -> SigKeyPair:
        """Fresh, independent classical and ML-DSA key pairs."""
        classical = self._spec.classical
        classical_secret = classical.generate()
        pqc_pair = self._pqc.generate_keypair()
        return SigKeyPair(
            self._public_key(classical.public_from_private(classical_secret), pqc_pair.public_key),
            HybridSigSecretKey(self._spec, classical_secret, pqc_pair.secret_key),
        )

    def _public_key(self, classical_key: Any, pqc_key: SigPublicKey) -> HybridSigPublicKey:
        return HybridSigPublicKey(self._spec, classical_key, pqc_key, int(self._pqc.signature_size))

    def public_key_from_bytes(self, data: Buffer) -> HybridSigPublicKey:
        """Load :meth:`HybridSigPublicKey.to_bytes` output; both halves are validated."""
        raw = as_bytes(data, "public key")
        body = decode_key(raw, kind=KeyKind.SIGNATURE_PUBLIC, algorithm=self.name)
        classical_raw, pqc_raw = envelope.unpack_body(
            body,
            classical_size=self._spec.classical.public_key_size,
            pqc_size=int(self._pqc.public_key_size),
            what=f"{self.name} public key",
            error=InvalidKey,
        )
        try:
            classical_key = self._spec.classical.public_from_bytes(classical_raw)
        except ValueError:
            raise InvalidKey(f"{self.name} public key: invalid {self._spec.classical.name} key") from None
        return self._public_key(classical_key, self._pqc.public_key_from_bytes(pqc_raw))

    def secret_key_from_bytes(self, data: Buffer) -> HybridSigSecretKey:
        """Load :meth:`HybridSigSecretKey.to_bytes` output."""
        raw = as_bytes(data, "signing key")
        body = decode_key(raw, kind=KeyKind.SIGNATURE_SECRET, algorithm=self.name)
        what = f"{self.name} signing key"
        if len(body) < envelope.LENGTH_FIELD_SIZE + self._spec.classical.private_key_size + 1:
            raise InvalidKey(f"{what} is truncated")
        # The ML-DSA part's size depends on its form byte, which sits right after the classical part.
        form = body[envelope.LENGTH_FIELD_SIZE + self._spec.classical.private_key_size]
        if form == _PQC_SEED_FORM:
            pqc_size = 1 + _MLDSA_SEED_SIZE
        elif form == _PQC_EXPANDED_FORM:
            pqc_size = 1 + int(self._pqc.secret_key_size)
        else:
            raise InvalidKey(f"{what}: unknown ML-DSA key form {form:#04x}")
        classical_raw, pqc_part = envelope.unpack_body(
            body,
            classical_size=self._spec.classical.private_key_size,
            pqc_size=pqc_size,
            what=what,
            error=InvalidKey,
        )
        try:
            classical_key = self._spec.classical.private_from_bytes(classical_raw)
        except ValueError:
            raise InvalidKey(f"{what}: invalid {self._spec.classical.name} private key") from None
        if form == _PQC_SEED_FORM:
            pqc_key = self._pqc.keypair_from_seed(pqc_part[1:]).secret_key
        else:
            pqc_key = self._pqc.secret_key_from_bytes(pqc_part[1:])
        return HybridSigSecretKey(self._spec, classical_key, pqc_key)

    def __repr__(self) -> str:
        return f"HybridSignature({self.name!r}, backend={self.backend!r})"
