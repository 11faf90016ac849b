"""X25519 + ML-KEM hybrid KEMs with the X-Wing combiner.

``X25519-ML-KEM-768`` is X-Wing (draft-connolly-cfrg-xwing-kem-10): the same
key derivation from a 32-byte seed, the same encapsulation and the same
shared secret for the same inputs. Only the ciphertext and key *framing*
differ: ciphertexts use the versioned envelope of docs/design.md
(``0x01 | u32be(32) | ct_X | ct_M``) instead of X-Wing's bare ``ct_M || ct_X``,
and keys carry an algorithm/format tag (``_keyencoding``).

``X25519-ML-KEM-1024`` follows the same construction with ML-KEM-1024 and its
own combiner label. It is *not* X-Wing: the X-Wing draft only analyses
ML-KEM-768. Leaving ``ct_M`` out of the combiner rests on ML-KEM's
ciphertext-collision resistance (its Fujisaki-Okamoto transform), which
ML-KEM-1024 shares; the distinct label keeps its secrets from ever colliding
with X-Wing's, even if one seed were (wrongly) used for both.

All post-quantum work goes through :mod:`secretumvault.pqc`, so any backend
works; X25519 is pyca/cryptography's.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import NoReturn

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from secretumvault import pqc
from secretumvault.encoding import envelope
from secretumvault.encoding.keyheader import KeyKind, decode_key, encode_key, header_size
from secretumvault.errors import (
    InvalidArgument,
    InvalidCiphertext,
    InvalidKey,
)
from secretumvault.hybrid._scheme import HybridScheme, lookup_spec
from secretumvault.pqc._buffers import as_bytes
from secretumvault.pqc._buffers import refuse_pickle as _refuse_pickle
from secretumvault.pqc.keys import Buffer, Encapsulation, KemKeyPair, KemPublicKey, KemSecretKey

__all__ = [
    "KEM_ALGORITHMS",
    "XWING_LABEL",
    "HybridKem",
    "HybridKemPublicKey",
    "HybridKemSecretKey",
    "xwing_combiner",
]

#: The 6-byte X-Wing label ``\.//^\`` (hex 5c2e2f2f5e5c), hashed last.
XWING_LABEL = b"\\.//^\\"

SEED_SIZE = 32  # X-Wing decapsulation key: the seed everything is derived from
ENCAPSULATION_SEED_SIZE = 64  # X-Wing eseed: ML-KEM message m || X25519 ephemeral key
X25519_SIZE = 32
_EXPANDED_SEED_SIZE = 96  # ML-KEM d || z (64) then the X25519 secret key (32)


@dataclass(frozen=True)
class _KemSpec:
    name: str
    pqc_name: str
    label: bytes


_SPECS = {
    spec.name: spec
    for spec in (
        _KemSpec("X25519-ML-KEM-768", "ML-KEM-768", XWING_LABEL),
        _KemSpec("X25519-ML-KEM-1024", "ML-KEM-1024", b"SecretumVault X25519-ML-KEM-1024"),
    )
}

#: Hybrid KEM names, in the order they are documented.
KEM_ALGORITHMS: tuple[str, ...] = tuple(_SPECS)


def xwing_combiner(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes, label: bytes = XWING_LABEL) -> bytes:
    """``SHA3-256(ss_M || ss_X || ct_X || pk_X || label)`` (draft-connolly-cfrg-xwing-kem-10, 5.3).

    Every input but the label is 32 bytes, so plain concatenation is unambiguous.
    """
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + label).digest()


class HybridKemPublicKey(KemPublicKey):
    """Encapsulation key: an X25519 public key and an ML-KEM encapsulation key."""

    __slots__ = ("_pqc_key", "_spec", "_x_key", "_x_raw", "algorithm", "backend")

    def __init__(self, spec: _KemSpec, pqc_key: KemPublicKey, x_key: X25519PublicKey) -> None:
        self._spec = spec
        self._pqc_key = pqc_key
        self._x_key = x_key
        self._x_raw = x_key.public_bytes_raw()
        self.algorithm = spec.name
        self.backend = pqc_key.backend

    @property
    def pqc_key(self) -> KemPublicKey:
        """The ML-KEM half (``pk_M``)."""
        return self._pqc_key

    @property
    def classical_bytes(self) -> bytes:
        """The X25519 half (``pk_X``), 32 bytes. X-Wing's encoding is ``pk_M || pk_X``."""
        return self._x_raw

    def encapsulate(self) -> Encapsulation:
        """A fresh shared secret: ML-KEM encapsulation plus ephemeral-static X25519."""
        return self._encapsulate(self._pqc_key.encapsulate(), X25519PrivateKey.generate())

    def encapsulate_derand(self, message: Buffer) -> Encapsulation:
        """X-Wing ``EncapsulateDerand``: ``message`` is the 64-byte ``eseed``.

        ``eseed[0:32]`` is the ML-KEM message ``m``, ``eseed[32:64]`` the
        ephemeral X25519 secret key. For test vectors only: reusing an eseed
        reuses the shared secret. Backends without derandomized ML-KEM
        encapsulation raise :class:`~secretumvault.errors.UnsupportedAlgorithm`.
        """
        eseed = as_bytes(message, "eseed")
        if len(eseed) != ENCAPSULATION_SEED_SIZE:
            raise InvalidArgument(f"eseed must be {ENCAPSULATION_SEED_SIZE} bytes, got {len(eseed)}")
        pqc_encapsulation = self._pqc_key.encapsulate_derand(eseed[:32])
        return self._encapsulate(pqc_encapsulation, X25519PrivateKey.from_private_bytes(eseed[32:]))

    def _encapsulate(self, pqc_encapsulation: Encapsulation, ephemeral: X25519PrivateKey) -> Encapsulation:
        ct_x = ephemeral.public_key().public_bytes_raw()
        # Cannot fail: pk_X was checked for low order when this key was made.
        ss_x = ephemeral.exchange(self._x_key)
        shared_secret = xwing_combiner(
            pqc_encapsulation.shared_secret, ss_x, ct_x, self._x_raw, self._spec.label
        )
        return Encapsulation(envelope.pack(ct_x, pqc_encapsulation.ciphertext), shared_secret)

    def to_bytes(self) -> bytes:
        """Tagged encoding: header, then ``u32be(32) | pk_X | pk_M``."""
        body = envelope.pack_body(self._x_raw, self._pqc_key.to_bytes())
        return encode_key(KeyKind.KEM_PUBLIC, self.algorithm, body)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HybridKemPublicKey):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()  # the encoding includes the algorithm

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return f"<HybridKemPublicKey {self.algorithm} backend={self.backend}>"

    def __reduce__(self) -> NoReturn:
        _refuse_pickle(self)


class HybridKemSecretKey(KemSecretKey):
    """Decapsulation key, kept as its 32-byte seed plus the keys expanded from it.

    As in X-Wing, the seed is the only serialised form: the expanded ML-KEM
    key must not travel between implementations (draft section 5.5).
    Python cannot wipe ``bytes``; the seed lives as long as this object.
    """

    __slots__ = (
        "_pqc_ciphertext_size",
        "_pqc_key",
        "_public_key",
        "_seed",
        "_spec",
        "_x_key",
        "algorithm",
        "backend",
    )

    def __init__(
        self,
        spec: _KemSpec,
        seed: bytes,
        pqc_key: KemSecretKey,
        pqc_ciphertext_size: int,
        x_key: X25519PrivateKey,
        public_key: HybridKemPublicKey,
    ) -> None:
        self._spec = spec
        self._seed = seed
        self._pqc_key = pqc_key
        self._pqc_ciphertext_size = pqc_ciphertext_size
        self._x_key = x_key
        self._public_key = public_key
        self.algorithm = spec.name
        self.backend = pqc_key.backend

    def decapsulate(self, ciphertext: Buffer) -> bytes:
        """Recover the shared secret from an envelope made by :meth:`HybridKemPublicKey.encapsulate`.

        A malformed envelope, or an X25519 part that is a low-order point
        (a public, key-independent property), raises InvalidCiphertext. A
        well-formed but tampered ML-KEM part yields an unrelated secret
        (FIPS 203 implicit rejection), so the session simply fails later.
        """
        data = as_bytes(ciphertext, "ciphertext")
        ct_x, ct_m = envelope.unpack(
            data,
            classical_size=X25519_SIZE,
            pqc_size=self._pqc_ciphertext_size,
            what=f"{self.algorithm} ciphertext",
            error=InvalidCiphertext,
        )
        try:
            ss_x = self._x_key.exchange(X25519PublicKey.from_public_bytes(ct_x))
        except ValueError:
            raise InvalidCiphertext(
                f"{self.algorithm} ciphertext: the X25519 part is a low-order point"
            ) from None
        ss_m = self._pqc_key.decapsulate(ct_m)
        return xwing_combiner(ss_m, ss_x, ct_x, self._public_key.classical_bytes, self._spec.label)

    def public_key(self) -> HybridKemPublicKey:
        return self._public_key

    def seed_bytes(self) -> bytes:
        """The 32-byte seed: X-Wing's decapsulation key. Handle it as a secret."""
        return self._seed

    def to_bytes(self) -> bytes:
        """Tagged encoding of the seed. Handle the result as a secret."""
        return encode_key(KeyKind.KEM_SECRET, self.algorithm, self._seed)

    def __repr__(self) -> str:
        return f"<HybridKemSecretKey {self.algorithm} backend={self.backend}>"

    def __reduce__(self) -> NoReturn:
        _refuse_pickle(self)


class HybridKem(HybridScheme):
    """A hybrid KEM on one backend: a factory for keys, shaped like :class:`pqc.Kem`.

    >>> kem = HybridKem("X25519-ML-KEM-768")
    >>> kp = kem.generate_keypair()
    >>> enc = kp.public_key.encapsulate()
    >>> kp.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret
    True

    ``backend`` is passed to :class:`pqc.Kem` for the ML-KEM half.
    """

    __slots__ = ()
    _spec: _KemSpec
    _pqc: pqc.Kem

    def __init__(self, name: str, backend: str | None = None) -> None:
        self._spec = lookup_spec(_SPECS, name, "hybrid KEM")
        self._pqc = pqc.Kem(self._spec.pqc_name, backend)

    @property
    def public_key_size(self) -> int:
        """Length of :meth:`HybridKemPublicKey.to_bytes`."""
        return (
            self._key_header_size + envelope.LENGTH_FIELD_SIZE + X25519_SIZE + int(self._pqc.public_key_size)
        )

    @property
    def secret_key_size(self) -> int:
        """Length of :meth:`HybridKemSecretKey.to_bytes`."""
        return self._key_header_size + SEED_SIZE

    @property
    def ciphertext_size(self) -> int:
        """Length of the ciphertext envelope."""
        return envelope.HEADER_SIZE + X25519_SIZE + int(self._pqc.ciphertext_size)

    @property
    def shared_secret_size(self) -> int:
        return 32

    @property
    def _key_header_size(self) -> int:
        return header_size(self._spec.name)

    def generate_keypair(self) -> KemKeyPair:
        """A fresh key pair from a 32-byte seed drawn from the OS CSPRNG."""
        return self.keypair_from_seed(secrets.token_bytes(SEED_SIZE))

    def keypair_from_seed(self, seed: Buffer) -> KemKeyPair:
        """X-Wing ``GenerateKeyPairDerand``: both halves derived from one 32-byte seed.

        ``SHAKE-256(seed, 96 bytes)`` gives the ML-KEM seed ``d || z`` (bytes
        0-63) and the X25519 secret key (bytes 64-95).
        """
        raw_seed = as_bytes(seed, "seed")
        if len(raw_seed) != SEED_SIZE:
            raise InvalidArgument(f"{self.name} seed must be {SEED_SIZE} bytes, got {len(raw_seed)}")
        return KemKeyPair(*self._derive(raw_seed))

    def _derive(self, seed: bytes) -> tuple[HybridKemPublicKey, HybridKemSecretKey]:
        expanded = hashlib.shake_256(seed).digest(_EXPANDED_SEED_SIZE)
        pqc_pair = self._pqc.keypair_from_seed(expanded[:64])
        x_secret = X25519PrivateKey.from_private_bytes(expanded[64:])
        public_key = HybridKemPublicKey(self._spec, pqc_pair.public_key, x_secret.public_key())
        secret_key = HybridKemSecretKey(
            self._spec, seed, pqc_pair.secret_key, self._pqc.ciphertext_size, x_secret, public_key
        )
        return public_key, secret_key

    def public_key_from_bytes(self, data: Buffer) -> HybridKemPublicKey:
        """Load :meth:`HybridKemPublicKey.to_bytes` output; both halves are validated."""
        raw = as_bytes(data, "encapsulation key")
        body = decode_key(raw, kind=KeyKind.KEM_PUBLIC, algorithm=self.name)
        x_raw, pqc_raw = envelope.unpack_body(
            body,
            classical_size=X25519_SIZE,
            pqc_size=self._pqc.public_key_size,
            what=f"{self.name} encapsulation key",
            error=InvalidKey,
        )
        x_key = X25519PublicKey.from_public_bytes(x_raw)
        _require_not_low_order(x_key, self.name)
        return HybridKemPublicKey(self._spec, self._pqc.public_key_from_bytes(pqc_raw), x_key)

    def secret_key_from_bytes(self, data: Buffer) -> HybridKemSecretKey:
        """Load :meth:`HybridKemSecretKey.to_bytes` output (the tagged seed)."""
        raw = as_bytes(data, "decapsulation key")
        seed = decode_key(raw, kind=KeyKind.KEM_SECRET, algorithm=self.name)
        if len(seed) != SEED_SIZE:
            raise InvalidKey(f"{self.name} decapsulation key must hold a {SEED_SIZE}-byte seed")
        return self._derive(seed)[1]

    def __repr__(self) -> str:
        return f"HybridKem({self.name!r}, backend={self.backend!r})"


def _require_not_low_order(key: X25519PublicKey, algorithm: str) -> None:
    # A low-order point makes every X25519 output all-zero, which OpenSSL
    # refuses; rejecting it at load time keeps encapsulation infallible.
    # Clamped scalars are multiples of the cofactor, so any fixed one detects it.
    try:
        _LOW_ORDER_PROBE.exchange(key)
    except ValueError:
        raise InvalidKey(f"{algorithm} encapsulation key: the X25519 part is a low-order point") from None


_LOW_ORDER_PROBE = X25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
