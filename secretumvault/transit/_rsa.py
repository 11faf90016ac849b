"""Vault's ``rsa-2048|3072|4096`` transit keys, on pyca/cryptography.

- Encryption: RSA-OAEP with SHA-256 (MGF1-SHA-256), as Vault, so a ciphertext made
  with the exported public key by any OAEP-SHA-256 implementation decrypts here.
  The caller's ``associated_data``, if any, is the OAEP label (binding it, as the
  AEAD types do); none means no label, as Vault.
- Signatures: PSS (Vault's default, salt length "auto" when signing, i.e. the
  largest) or PKCS#1 v1.5, over ``hash_algorithm`` (SHA-2 or SHA-3).

Private keys are stored as PKCS#8 DER, public keys as SubjectPublicKeyInfo DER.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from secretumvault.errors import (
    DecryptionError,
    InvalidArgument,
    InvalidKey,
    InvalidSignature,
    SecretumVaultError,
)
from secretumvault.transit._batch import open_each

__all__ = ["HASHES", "SIGNATURE_ALGORITHMS", "RsaKey", "generate"]

#: Vault's hash_algorithm names and pyca's hashes.
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha2-224": hashes.SHA224,
    "sha2-256": hashes.SHA256,
    "sha2-384": hashes.SHA384,
    "sha2-512": hashes.SHA512,
    "sha3-224": hashes.SHA3_224,
    "sha3-256": hashes.SHA3_256,
    "sha3-384": hashes.SHA3_384,
    "sha3-512": hashes.SHA3_512,
}
SIGNATURE_ALGORITHMS = ("pss", "pkcs1v15")
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
_OAEP_OVERHEAD = 2 * 32 + 2  # two SHA-256 digests and two bytes (RFC 8017 7.1.1)


def generate(bits: int) -> tuple[bytes, bytes]:
    """A fresh key: (PKCS#8 DER private key, SubjectPublicKeyInfo DER public key)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _private_der(private), _public_der(private.public_key())


def _private_der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_der(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _oaep(label: bytes) -> padding.OAEP:
    if not label:
        return _OAEP
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label)


def _hash(name: str) -> hashes.HashAlgorithm:
    found = HASHES.get(name)
    if found is None:
        raise InvalidArgument(f"unknown hash_algorithm {name!r}; use one of {', '.join(HASHES)}")
    return found()


def salt_length(value: str | int | None, *, signing: bool) -> int | padding._MaxLength | padding._Auto:
    """Vault's ``salt_length``: "auto" (largest when signing, any when verifying), "hash", or bytes."""
    if value is None or value == "auto":
        return padding.PSS.MAX_LENGTH if signing else padding.PSS.AUTO
    if value == "hash":
        return padding.PSS.DIGEST_LENGTH  # type: ignore[return-value]
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.lstrip("-").isdigit()):
            raise InvalidArgument(f"salt_length must be 'auto', 'hash' or a number of bytes, not {value!r}")
        value = int(text)
    if value == -1:  # Go's rsa.PSSSaltLengthEqualsHash
        return padding.PSS.DIGEST_LENGTH  # type: ignore[return-value]
    if value < 0:
        raise InvalidArgument("salt_length must be 'auto', 'hash', -1 (the hash's length) or >= 0")
    return value


class RsaKey:
    """One version of an RSA transit key: encryption and signing."""

    __slots__ = ("_label", "_max_plaintext", "_private", "_public")

    def __init__(self, private_der: bytes, public_der: bytes, label: str) -> None:
        self._label = label
        try:
            private = serialization.load_der_private_key(private_der, password=None)
            public = serialization.load_der_public_key(public_der)
        except (ValueError, TypeError):
            raise InvalidKey(f"{label}: stored RSA key is malformed") from None
        if not isinstance(private, rsa.RSAPrivateKey) or not isinstance(public, rsa.RSAPublicKey):
            raise InvalidKey(f"{label}: stored key is not an RSA key")
        if _public_der(private.public_key()) != public_der:
            raise InvalidKey(f"{label}: stored RSA public key does not match its private key")
        self._private = private
        self._public = public
        self._max_plaintext = public.key_size // 8 - _OAEP_OVERHEAD

    # -- encryption (the cipher interface of the other encryption types) -------------------

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        if len(plaintext) > self._max_plaintext:
            raise InvalidArgument(
                f"{self._label}: RSA-OAEP encrypts at most {self._max_plaintext} bytes, not "
                f"{len(plaintext)}; encrypt a data key (datakey) instead"
            )
        return self._public.encrypt(plaintext, _oaep(associated_data))

    def seal_many(self, plaintexts: Sequence[bytes], associated_data: Sequence[bytes]) -> list[bytes]:
        return [self.seal(p, ad) for p, ad in zip(plaintexts, associated_data, strict=True)]

    def open(self, body: bytes, associated_data: bytes) -> bytes:
        try:
            return self._private.decrypt(body, _oaep(associated_data))
        except ValueError:
            raise DecryptionError(
                f"ciphertext does not decrypt under {self._label}: it was altered, made with another "
                "key, or the associated data differs"
            ) from None

    def open_many(
        self, bodies: Sequence[bytes], associated_data: Sequence[bytes]
    ) -> list[bytes | SecretumVaultError]:
        """One outcome per body, in order: the plaintext, or the error that body raised."""
        return open_each(self.open, bodies, associated_data)

    # -- signatures --------------------------------------------------------------------------

    def _padding(
        self, algorithm: str, hash_algorithm: hashes.HashAlgorithm, salt: str | int | None, *, signing: bool
    ) -> padding.AsymmetricPadding:
        if algorithm == "pkcs1v15":
            return padding.PKCS1v15()
        if algorithm != "pss":
            raise InvalidArgument(
                f"unknown signature_algorithm {algorithm!r}; use one of {', '.join(SIGNATURE_ALGORITHMS)}"
            )
        return padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=salt_length(salt, signing=signing))

    def sign(self, data: bytes, hash_algorithm: str, algorithm: str, salt: str | int | None) -> bytes:
        chosen = _hash(hash_algorithm)
        return self._private.sign(data, self._padding(algorithm, chosen, salt, signing=True), chosen)

    def verify(
        self, signature: bytes, data: bytes, hash_algorithm: str, algorithm: str, salt: str | int | None
    ) -> None:
        chosen = _hash(hash_algorithm)
        pad = self._padding(algorithm, chosen, salt, signing=False)
        try:
            self._public.verify(signature, data, pad, chosen)
        except _CryptoInvalidSignature:
            raise InvalidSignature(f"signature does not verify under {self._label}") from None

    def public_pem(self) -> str:
        return self._public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def __repr__(self) -> str:
        return f"<RsaKey {self._label}>"


def public_pem(public_der: bytes) -> str:
    """The PEM form of a stored RSA public key (what Vault shows and exports)."""
    key = serialization.load_der_public_key(public_der)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def private_pem(private_der: bytes) -> str:
    """The PEM form (PKCS#1, as Vault exports RSA keys) of a stored RSA private key."""
    key = serialization.load_der_private_key(private_der, password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
