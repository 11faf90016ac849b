"""KEM key types: a fresh AEAD key per message, carried by a KEM ciphertext.

Bodies (docs/design.md, "KEM ciphertext bodies: format 2"); this module writes
format 2 and reads both::

    format 2:  0x02 | kem_ct | aead_ct
    format 1:  u32be(len(kem_ct)) | kem_ct | aead_ct     (its first byte is 0x00)

``kem_ct`` has the fixed size of the key's KEM. The KEM shared secret becomes
a 32-byte AES-256-GCM key: format 2 through SP 800-56C's one-step KDF with
SHA3-256, format 1 through HKDF-SHA256 (empty salt); both bind key name,
version and type (``_binding``). That key is fresh for every message and
encrypts exactly one, so a fixed all-zero nonce is safe (as in age and
single-shot sealed boxes) and the body carries none. ``aead_ct`` is the
AES-256-GCM ciphertext and tag; its associated data binds name, version,
type and the caller's associated data (``_binding``).

``kem_ct`` itself is not fed to the KDF: ML-KEM's implicit rejection already
turns any change to it into an unrelated shared secret (as X-Wing argues for
leaving ``ct_M`` out of its combiner), which the AEAD then rejects.
"""

from __future__ import annotations

import functools
import struct
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secretumvault import pqc
from secretumvault._words import with_article
from secretumvault.errors import DecryptionError, InvalidCiphertext, SecretumVaultError
from secretumvault.pqc.keys import KemPublicKey, KemSecretKey
from secretumvault.transit._kdf import OneStepSha3, hkdf_sha256

if TYPE_CHECKING:  # only a type here: an ML-KEM key must not load the hybrid package (start-up time)
    from secretumvault.hybrid import KemAlgorithm

__all__ = ["FORMAT", "KemCipher"]

#: The body format this module writes; the first byte of every format 2 body.
FORMAT = 2
_FORMAT_BYTE = bytes((FORMAT,))
_V1_LENGTH = struct.Struct(">I")  # format 1's first field: u32be(len(kem_ct)), so a 0x00 first byte
_KEY_SIZE = 32
_SINGLE_USE_NONCE = bytes(12)  # see the module docstring: one message per derived key
_TAG_SIZE = 16

_Derive = Callable[[bytes], bytes]


def _format1_key(shared_secret: bytes, *, info: bytes) -> bytes:
    return hkdf_sha256(shared_secret, info, _KEY_SIZE)


class KemCipher:
    """One version of a KEM transit key. The secret key is loaded on first decryption."""

    __slots__ = (
        "_encapsulate",
        "_kdf",
        "_kem",
        "_kem_size",
        "_label",
        "_load_secret",
        "_lock",
        "_public_key",
        "_secret_key",
        "_v1_kdf",
        "_v1_length_field",
    )

    def __init__(
        self,
        kem: KemAlgorithm,
        public_key: KemPublicKey,
        load_secret: Callable[[], KemSecretKey],
        *,
        fixed_info: bytes,
        v1_info: bytes,
        label: str,
    ) -> None:
        """``fixed_info`` binds format 2 keys (one-step KDF), ``v1_info`` format 1 keys (HKDF info)."""
        self._kem = kem
        self._public_key = public_key
        self._load_secret = load_secret
        self._secret_key: KemSecretKey | None = None
        self._lock = threading.Lock()
        self._kdf = OneStepSha3(fixed_info)
        self._v1_kdf: _Derive = functools.partial(_format1_key, info=v1_info)
        self._label = label
        self._encapsulate = public_key.encapsulate
        self._kem_size = kem.ciphertext_size
        self._v1_length_field = _V1_LENGTH.pack(kem.ciphertext_size)

    # -- encryption (format 2) ---------------------------------------------------------

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        kem_ct, shared_secret = self._encapsulate()
        aead = AESGCM(self._kdf.derive(shared_secret))
        return _FORMAT_BYTE + kem_ct + aead.encrypt(_SINGLE_USE_NONCE, plaintext, associated_data)

    def seal_many(self, plaintexts: Sequence[bytes], associated_data: Sequence[bytes]) -> list[bytes]:
        if isinstance(self._kem, pqc.Kem):  # one native call for all encapsulations on "oqs"
            encapsulations = self._kem.encapsulate_batch([self._public_key] * len(plaintexts))
        else:
            encapsulations = [self._public_key.encapsulate() for _ in plaintexts]
        derive = self._kdf.derive
        items = zip(encapsulations, plaintexts, associated_data, strict=True)
        return [
            _FORMAT_BYTE + kem_ct + AESGCM(derive(shared)).encrypt(_SINGLE_USE_NONCE, plaintext, ad)
            for (kem_ct, shared), plaintext, ad in items
        ]

    # -- decryption (formats 2 and 1) --------------------------------------------------

    def open(self, body: bytes, associated_data: bytes) -> bytes:
        derive, kem_ct, aead_ct = self._split(body)
        return self._open_with(derive(self._secret().decapsulate(kem_ct)), aead_ct, associated_data)

    def open_many(
        self, bodies: Sequence[bytes], associated_data: Sequence[bytes]
    ) -> list[bytes | SecretumVaultError]:
        """One outcome per body, in order: the plaintext, or the error that body raised."""
        outcomes: list[bytes | SecretumVaultError] = []
        well_formed: dict[int, tuple[_Derive, bytes, bytes]] = {}
        for index, body in enumerate(bodies):
            try:
                well_formed[index] = self._split(body)
            except InvalidCiphertext as exc:
                outcomes.append(exc)
            else:
                outcomes.append(b"")  # placeholder, filled below
        if not well_formed:
            return outcomes
        secret = self._secret()
        kem_cts = [kem_ct for _, kem_ct, _ in well_formed.values()]
        shared: list[bytes | SecretumVaultError]
        if isinstance(self._kem, pqc.Kem):  # one native call for all decapsulations on "oqs"
            shared = list(self._kem.decapsulate_batch(secret, kem_cts))
        else:
            shared = [_try(secret.decapsulate, kem_ct) for kem_ct in kem_cts]
        for (index, (derive, _, aead_ct)), secret_or_error in zip(well_formed.items(), shared, strict=True):
            if isinstance(secret_or_error, SecretumVaultError):
                outcomes[index] = secret_or_error
                continue
            try:
                outcomes[index] = self._open_with(derive(secret_or_error), aead_ct, associated_data[index])
            except DecryptionError as exc:
                outcomes[index] = exc
        return outcomes

    def _split(self, body: bytes) -> tuple[_Derive, bytes, bytes]:
        """``(the body format's KDF, kem_ct, aead_ct)``; a malformed body is InvalidCiphertext."""
        derive: _Derive
        if body[:1] == _FORMAT_BYTE:
            kem_start, derive = 1, self._kdf.derive
        elif body[: _V1_LENGTH.size] == self._v1_length_field:
            kem_start, derive = _V1_LENGTH.size, self._v1_kdf
        else:
            raise InvalidCiphertext(self._unknown_body(body))
        kem_end = kem_start + self._kem_size
        if len(body) < kem_end + _TAG_SIZE:
            raise InvalidCiphertext(f"ciphertext for {self._label} is truncated")
        return derive, body[kem_start:kem_end], body[kem_end:]

    def _unknown_body(self, body: bytes) -> str:
        if not body:
            return f"ciphertext for {self._label} is empty"
        if body[0] != 0:
            return (
                f"ciphertext for {self._label} has body format {body[0]}; this version reads "
                f"formats 1 and {FORMAT} (altered, or made by a newer secretumvault?)"
            )
        if len(body) < _V1_LENGTH.size:
            return f"ciphertext for {self._label} is truncated"
        (declared,) = _V1_LENGTH.unpack_from(body)
        return (
            f"ciphertext for {self._label} declares {with_article(declared)}-byte KEM ciphertext, "
            f"expected {self._kem_size} (altered, or made for another key type?)"
        )

    def _open_with(self, message_key: bytes, aead_ct: bytes, ad: bytes) -> bytes:
        try:
            return AESGCM(message_key).decrypt(_SINGLE_USE_NONCE, aead_ct, ad)
        except InvalidTag:
            raise DecryptionError(
                f"ciphertext does not authenticate under {self._label}: it was altered, made with "
                "another key, or the associated data differs"
            ) from None

    def _secret(self) -> KemSecretKey:
        secret = self._secret_key
        if secret is not None:
            return secret
        with self._lock:
            if self._secret_key is None:
                self._secret_key = self._load_secret()
            return self._secret_key

    def __repr__(self) -> str:
        return f"<KemCipher {self._label}>"


def _try(decapsulate: Callable[[bytes], bytes], kem_ct: bytes) -> bytes | SecretumVaultError:
    try:
        return decapsulate(kem_ct)
    except SecretumVaultError as exc:  # e.g. a hybrid ciphertext with a low-order X25519 part
        return exc
