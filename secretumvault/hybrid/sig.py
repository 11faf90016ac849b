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

The classical halves follow :mod:`secretumvault.hybrid.classical` (shared with
transit): ECDSA P-256 signatures are carried as fixed-size ``r || s`` (64 bytes)
with low ``s``, verification refuses high ``s``, and only uncompressed points load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from secretumvault import pqc
from secretumvault._words import with_article
from secretumvault.encoding import envelope
from secretumvault.encoding.keyheader import KeyKind, decode_key, encode_key, header_size
from secretumvault.errors import (
    InvalidArgument,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
)
from secretumvault.hybrid._scheme import HybridScheme, lookup_spec
from secretumvault.hybrid.classical import ECDSA_P256, ED25519, ClassicalSignature
from secretumvault.pqc._buffers import as_bytes
from secretumvault.pqc._buffers import refuse_pickle as _refuse_pickle
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


# -- algorithms -----------------------------------------------------------------


@dataclass(frozen=True)
class _SigSpec:
    name: str
    classical: ClassicalSignature
    pqc_name: str

    @property
    def label(self) -> bytes:
        return self.name.encode("ascii")


_SPECS = {
    spec.name: spec
    for spec in (
        _SigSpec("Ed25519-ML-DSA-44", ED25519, "ML-DSA-44"),
        _SigSpec("Ed25519-ML-DSA-65", ED25519, "ML-DSA-65"),
        _SigSpec("ECDSA-P256-ML-DSA-65", ECDSA_P256, "ML-DSA-65"),
    )
}

#: Hybrid signature names, in the order they are documented.
SIGNATURE_ALGORITHMS: tuple[str, ...] = tuple(_SPECS)

# How the ML-DSA half of a secret key is stored: its 32-byte FIPS 204 seed
# (portable across backends) when the backend kept it, else the expanded key.
_PQC_SEED_FORM = 0x01
_PQC_EXPANDED_FORM = 0x02
_MLDSA_SEED_SIZE = 32  # FIPS 204 xi


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

    def sign(self, message: Buffer, context: Buffer = b"", deterministic: bool = False) -> bytes:
        """Sign ``message`` under FIPS 204 context ``context`` (at most 255 bytes) with both halves."""
        if deterministic:  # pqc.SigSecretKey.sign's option; the classical half decides alone here
            raise UnsupportedAlgorithm(
                f"{self.algorithm} signatures are hedged; deterministic=True is not offered"
            )
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
            f"{with_article(self.algorithm)} signing key has no single seed (it holds two private keys); "
            "serialise it with to_bytes()"
        )

    def __repr__(self) -> str:
        return f"<HybridSigSecretKey {self.algorithm} backend={self.backend}>"

    def __reduce__(self) -> NoReturn:
        _refuse_pickle(self)


class HybridSignature(HybridScheme):
    """A hybrid signature scheme on one backend: a factory for keys, shaped like :class:`pqc.Signature`.

    ``backend`` is passed to :class:`pqc.Signature` for the ML-DSA half.
    """

    __slots__ = ()
    _spec: _SigSpec
    _pqc: pqc.Signature

    def __init__(self, name: str, backend: str | None = None) -> None:
        self._spec = lookup_spec(_SPECS, name, "hybrid signature algorithm")
        self._pqc = pqc.Signature(self._spec.pqc_name, backend)

    @property
    def classical_algorithm(self) -> str:
        return self._spec.classical.name

    @property
    def public_key_size(self) -> int:
        """Length of :meth:`HybridSigPublicKey.to_bytes`."""
        header = header_size(self.name)
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
