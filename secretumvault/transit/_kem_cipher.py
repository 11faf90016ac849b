"""KEM key types: a fresh AEAD key per message, carried by a KEM ciphertext.

Body (docs/design.md, "Transit KEM ciphertext body")::

    u32be(len(kem_ct)) | kem_ct | aead_ct

The KEM shared secret goes through HKDF-SHA256 (empty salt; info binds key
name, version and type) to a 32-byte AES-256-GCM key. HKDF runs on hashlib
with the salt's HMAC states precomputed (``_kdf``), byte-identical to pyca's.
That key is fresh for every message and encrypts exactly one, so a fixed all-zero nonce is safe (as in age and
single-shot sealed boxes) and the body carries none. ``aead_ct`` is the
AES-256-GCM ciphertext and tag; its associated data binds name, version,
type and the caller's associated data (``_binding``).

``kem_ct`` itself is not fed to HKDF: ML-KEM's implicit rejection already
turns any change to it into an unrelated shared secret (as X-Wing argues for
leaving ``ct_M`` out of its combiner), which the AEAD then rejects.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secretumvault import pqc
from secretumvault.errors import DecryptionError, InvalidCiphertext, SecretumVaultError
from secretumvault.pqc.keys import KemPublicKey, KemSecretKey
from secretumvault.transit._kdf import Hkdf

TYPE_CHECKING = False
if TYPE_CHECKING:  # only a type here: an ML-KEM key must not load the hybrid package (start-up time)
    from secretumvault.hybrid import KemAlgorithm

__all__ = ["KemCipher"]

_LENGTH = struct.Struct(">I")
_KEY_SIZE = 32
_SINGLE_USE_NONCE = bytes(12)  # see the module docstring: one message per derived key
_TAG_SIZE = 16


class KemCipher:
    """One version of a KEM transit key. The secret key is loaded on first decryption."""

    __slots__ = (
        "_encapsulate",
        "_kdf",
        "_kem",
        "_label",
        "_length_field",
        "_load_secret",
        "_lock",
        "_public_key",
        "_secret_key",
    )

    def __init__(
        self,
        kem: KemAlgorithm,
        public_key: KemPublicKey,
        load_secret: Callable[[], KemSecretKey],
        kdf_info: bytes,
        label: str,
    ) -> None:
        self._kem = kem
        self._public_key = public_key
        self._load_secret = load_secret
        self._secret_key: KemSecretKey | None = None
        self._lock = threading.Lock()
        self._kdf = Hkdf(b"", kdf_info, _KEY_SIZE)
        self._label = label
        self._encapsulate = public_key.encapsulate
        self._length_field = _LENGTH.pack(kem.ciphertext_size)

    # -- encryption ------------------------------------------------------------------

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        kem_ct, shared_secret = self._encapsulate()
        aead = AESGCM(self._kdf.derive(shared_secret))
        return self._length_field + kem_ct + aead.encrypt(_SINGLE_USE_NONCE, plaintext, associated_data)

    def seal_many(self, plaintexts: Sequence[bytes], associated_data: Sequence[bytes]) -> list[bytes]:
        if isinstance(self._kem, pqc.Kem):  # one native call for all encapsulations on "oqs"
            encapsulations = self._kem.encapsulate_batch([self._public_key] * len(plaintexts))
        else:
            encapsulations = [self._public_key.encapsulate() for _ in plaintexts]
        return [
            self._seal_with(ct, ss, pt, ad)
            for (ct, ss), pt, ad in zip(encapsulations, plaintexts, associated_data, strict=True)
        ]

    def _seal_with(self, kem_ct: bytes, shared_secret: bytes, plaintext: bytes, ad: bytes) -> bytes:
        aead_ct = self._message_key(shared_secret).encrypt(_SINGLE_USE_NONCE, plaintext, ad)
        return self._length_field + kem_ct + aead_ct

    # -- decryption ------------------------------------------------------------------

    def open(self, body: bytes, associated_data: bytes) -> bytes:
        kem_ct, aead_ct = self._split(body)
        return self._open_with(self._secret().decapsulate(kem_ct), aead_ct, associated_data)

    def open_many(
        self, bodies: Sequence[bytes], associated_data: Sequence[bytes]
    ) -> list[bytes | SecretumVaultError]:
        """One outcome per body, in order: the plaintext, or the error that body raised."""
        outcomes: list[bytes | SecretumVaultError] = []
        well_formed: dict[int, tuple[bytes, bytes]] = {}
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
        kem_cts = [kem_ct for kem_ct, _ in well_formed.values()]
        shared: list[bytes | SecretumVaultError]
        if isinstance(self._kem, pqc.Kem):  # one native call for all decapsulations on "oqs"
            shared = list(self._kem.decapsulate_batch(secret, kem_cts))
        else:
            shared = [_try(secret.decapsulate, kem_ct) for kem_ct in kem_cts]
        for (index, (_, aead_ct)), secret_or_error in zip(well_formed.items(), shared, strict=True):
            if isinstance(secret_or_error, SecretumVaultError):
                outcomes[index] = secret_or_error
                continue
            try:
                outcomes[index] = self._open_with(secret_or_error, aead_ct, associated_data[index])
            except DecryptionError as exc:
                outcomes[index] = exc
        return outcomes

    def _split(self, body: bytes) -> tuple[bytes, bytes]:
        expected = self._kem.ciphertext_size
        if body[: _LENGTH.size] != self._length_field:
            if len(body) < _LENGTH.size:
                raise InvalidCiphertext(f"ciphertext for {self._label} is truncated")
            (declared,) = _LENGTH.unpack_from(body)
            raise InvalidCiphertext(
                f"ciphertext for {self._label} declares a {declared}-byte KEM ciphertext, "
                f"expected {expected} (altered, or made for another key type?)"
            )
        kem_end = _LENGTH.size + expected
        if len(body) < kem_end + _TAG_SIZE:
            raise InvalidCiphertext(f"ciphertext for {self._label} is truncated")
        return body[_LENGTH.size : kem_end], body[kem_end:]

    def _open_with(self, shared_secret: bytes, aead_ct: bytes, ad: bytes) -> bytes:
        try:
            return self._message_key(shared_secret).decrypt(_SINGLE_USE_NONCE, aead_ct, ad)
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

    def _message_key(self, shared_secret: bytes) -> AESGCM:
        return AESGCM(self._kdf.derive(shared_secret))

    def __repr__(self) -> str:
        return f"<KemCipher {self._label}>"


def _try(decapsulate: Callable[[bytes], bytes], kem_ct: bytes) -> bytes | SecretumVaultError:
    try:
        return decapsulate(kem_ct)
    except SecretumVaultError as exc:  # e.g. a hybrid ciphertext with a low-order X25519 part
        return exc
