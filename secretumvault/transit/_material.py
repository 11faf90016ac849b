"""Key material of one key version, as generated and as stored.

At rest a version's material is a small JSON object inside the key's record
(which the keystore encrypts)::

    {"encoding": "ml-kem-seed", "secret": "<base64>", "public_key": "<base64>" | null}

``encoding`` says how ``secret`` is to be read, so formats can be added
without guessing. Seeds are preferred wherever a backend offers them: they
are the portable form (they load on every backend). Public keys are stored
beside the secret so that reading a key's metadata never loads private
material, and because an expanded ML-DSA key does not yield its public key.
"""

from __future__ import annotations

from typing import Any

from secretumvault import pqc
from secretumvault._frozen import Frozen, set_field
from secretumvault._words import with_article
from secretumvault.encoding import tagged_json as _json
from secretumvault.errors import UnsupportedAlgorithm
from secretumvault.pqc.params import SLH_DSA_NAMES
from secretumvault.transit.key_types import KeyTypeSpec, Purpose

__all__ = [
    "ENCODINGS",
    "SYMMETRIC_KEY_SIZE",
    "Material",
    "generate_hmac_key",
    "generate_material",
    "signature_backend",
]

SYMMETRIC_KEY_SIZE = 32

RAW_256 = "raw-256"  # 32 random bytes: AES-256, ChaCha20 or HMAC-SHA256 key
ML_KEM_SEED = "ml-kem-seed"  # FIPS 203 d || z, 64 bytes
ML_DSA_SEED = "ml-dsa-seed"  # FIPS 204 xi, 32 bytes
ML_DSA_EXPANDED = "ml-dsa-expanded"  # FIPS 204 expanded signing key (backends without seeds)
SLH_DSA_SEED = "slh-dsa-seed"  # FIPS 205 SK.seed || SK.prf || PK.seed, 3n bytes
ED25519_RAW = "ed25519-raw"  # RFC 8032 private key, 32 bytes
P256_SCALAR = "p256-scalar"  # private scalar, 32 bytes big-endian
TAGGED_HYBRID = "secretumvault-hybrid-key"  # hybrid.*.to_bytes(): algorithm-tagged
COMPOSITE_ML_DSA = (
    "composite-ml-dsa"  # the composite draft's private key mldsaSeed || tradSK (public: its pk)
)
RSA_PKCS8 = "rsa-pkcs8-der"  # PKCS#8 DER private key (public key: SubjectPublicKeyInfo DER)

#: Which encodings each key type may be stored in.
ENCODINGS: dict[str, frozenset[str]] = {
    "aes256-gcm96": frozenset({RAW_256}),
    "chacha20-poly1305": frozenset({RAW_256}),
    "hmac": frozenset({RAW_256}),
    "ml-kem-768": frozenset({ML_KEM_SEED}),
    "ml-kem-1024": frozenset({ML_KEM_SEED}),
    "hybrid-x25519-ml-kem-768": frozenset({TAGGED_HYBRID}),
    "ed25519": frozenset({ED25519_RAW}),
    "ecdsa-p256": frozenset({P256_SCALAR}),
    "ml-dsa-44": frozenset({ML_DSA_SEED, ML_DSA_EXPANDED}),
    "ml-dsa-65": frozenset({ML_DSA_SEED, ML_DSA_EXPANDED}),
    "ml-dsa-87": frozenset({ML_DSA_SEED, ML_DSA_EXPANDED}),
    "hybrid-ed25519-ml-dsa-65": frozenset({TAGGED_HYBRID}),
    "composite-ml-dsa-44-ed25519-sha512": frozenset({COMPOSITE_ML_DSA}),
    "composite-ml-dsa-65-ed25519-sha512": frozenset({COMPOSITE_ML_DSA}),
    "composite-ml-dsa-65-ecdsa-p256-sha512": frozenset({COMPOSITE_ML_DSA}),
    "composite-ml-dsa-87-ecdsa-p384-sha512": frozenset({COMPOSITE_ML_DSA}),
    **{name.lower(): frozenset({SLH_DSA_SEED}) for name in SLH_DSA_NAMES},
    "rsa-2048": frozenset({RSA_PKCS8}),
    "rsa-3072": frozenset({RSA_PKCS8}),
    "rsa-4096": frozenset({RSA_PKCS8}),
}

#: The classical signing types and their encodings (the schemes live in ``hybrid.classical``).
_CLASSICAL: dict[str, str] = {"ed25519": ED25519_RAW, "ecdsa-p256": P256_SCALAR}


class Material(Frozen):
    """One version's key: ``secret`` in ``encoding``, and the public key of asymmetric types."""

    __slots__ = _fields = ("encoding", "secret", "public_key")
    _secret_fields = ("secret",)
    encoding: str
    secret: bytes
    public_key: bytes | None

    def __init__(self, encoding: str, secret: bytes, public_key: bytes | None) -> None:
        set_field(self, "encoding", encoding)
        set_field(self, "secret", secret)
        set_field(self, "public_key", public_key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "secret": _json.b64encode(self.secret),
            "public_key": None if self.public_key is None else _json.b64encode(self.public_key),
        }

    @classmethod
    def from_dict(cls, obj: object, spec: KeyTypeSpec) -> Material:
        """Parse and check the shape; raises ``_json.FormatError`` (callers map it)."""
        if not isinstance(obj, dict):
            raise _json.FormatError("key material is not an object")
        encoding = _json.require(obj, "encoding", str)
        if encoding not in ENCODINGS[spec.name]:
            raise _json.FormatError(f"encoding {encoding!r} is not one of {with_article(spec.name)} key's")
        secret = _json.b64decode(_json.require(obj, "secret", str))
        public_text = obj.get("public_key")
        if spec.asymmetric:
            if not isinstance(public_text, str):
                raise _json.FormatError(f"{with_article(spec.name)} key needs its public key")
            return cls(encoding, secret, _json.b64decode(public_text))
        if public_text is not None:
            raise _json.FormatError(f"{with_article(spec.name)} key has no public key")
        if len(secret) != SYMMETRIC_KEY_SIZE:
            raise _json.FormatError(f"a {spec.name} key is {SYMMETRIC_KEY_SIZE} bytes")
        return cls(encoding, secret, None)


def signature_backend(spec: KeyTypeSpec, backend: str | None) -> str | None:
    """The backend that runs ``spec``'s signatures: the configured one, except SLH-DSA, which only
    the native core has (pyca/cryptography has none), so "auto" finds it whatever is configured."""
    return "auto" if spec.algorithm in SLH_DSA_NAMES else backend


def generate_material(spec: KeyTypeSpec, backend: str | None) -> Material:
    """Fresh key material for one version of a ``spec`` key, from the OS CSPRNG."""
    if spec.purpose in (Purpose.SYMMETRIC_ENCRYPTION, Purpose.HMAC):
        import secrets  # here: it loads random (~0.7 ms), which encrypt and decrypt never need

        return Material(RAW_256, secrets.token_bytes(SYMMETRIC_KEY_SIZE), None)
    # hybrid (X25519, Ed25519, ECDSA through pyca) is imported only for the key types that use it:
    # it costs milliseconds, and every command line call pays for what it imports.
    if spec.name in _CLASSICAL:
        from secretumvault.hybrid.classical import ECDSA_P256, ED25519, ClassicalSignature

        encoding = _CLASSICAL[spec.name]
        scheme: ClassicalSignature = ED25519 if spec.name == "ed25519" else ECDSA_P256
        private = scheme.generate()
        public = scheme.public_from_private(private)
        return Material(encoding, scheme.private_bytes(private), scheme.public_bytes(public))
    if spec.purpose is Purpose.RSA:
        from secretumvault.transit import _rsa

        private_der, public_der = _rsa.generate(int(spec.name.removeprefix("rsa-")))
        return Material(RSA_PKCS8, private_der, public_der)
    if spec.name.startswith("ml-kem-"):
        kem_pair = pqc.Kem(spec.algorithm, backend).generate_keypair()
        return Material(ML_KEM_SEED, kem_pair.secret_key.seed_bytes(), kem_pair.public_key.to_bytes())
    if spec.name.startswith("ml-dsa-"):
        sig_pair = pqc.Signature(spec.algorithm, backend).generate_keypair()
        try:
            return Material(ML_DSA_SEED, sig_pair.secret_key.seed_bytes(), sig_pair.public_key.to_bytes())
        except UnsupportedAlgorithm:  # liboqs keeps ML-DSA keys expanded only
            return Material(ML_DSA_EXPANDED, sig_pair.secret_key.to_bytes(), sig_pair.public_key.to_bytes())
    if spec.name.startswith("slh-dsa-"):  # the seed (3n bytes) is the whole key
        slh_pair = pqc.Signature(spec.algorithm, signature_backend(spec, backend)).generate_keypair()
        return Material(SLH_DSA_SEED, slh_pair.secret_key.seed_bytes(), slh_pair.public_key.to_bytes())
    from secretumvault import hybrid

    if spec.name.startswith("composite-"):
        composite_pair = hybrid.CompositeSignature(spec.algorithm, backend).generate_keypair()
        return Material(
            COMPOSITE_ML_DSA, composite_pair.secret_key.to_bytes(), composite_pair.public_key.to_bytes()
        )
    if spec.purpose is Purpose.KEM_ENCRYPTION:
        hybrid_kem_pair = hybrid.HybridKem(spec.algorithm, backend).generate_keypair()
        return Material(
            TAGGED_HYBRID, hybrid_kem_pair.secret_key.to_bytes(), hybrid_kem_pair.public_key.to_bytes()
        )
    hybrid_sig_pair = hybrid.HybridSignature(spec.algorithm, backend).generate_keypair()
    return Material(
        TAGGED_HYBRID, hybrid_sig_pair.secret_key.to_bytes(), hybrid_sig_pair.public_key.to_bytes()
    )


def generate_hmac_key(spec: KeyTypeSpec) -> bytes | None:
    """A version's own HMAC key (as Vault gives every key version one); None for ``hmac`` keys,
    whose material is the HMAC key."""
    if spec.purpose is Purpose.HMAC:
        return None
    import secrets

    return secrets.token_bytes(SYMMETRIC_KEY_SIZE)
