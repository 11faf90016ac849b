"""Key files: one self-describing encoding for every key the library makes.

Layout (the "keys at rest" format of docs/design.md, shared with the hybrid keys)::

    0x01 | kind | u8(len(algorithm)) | algorithm | body

For ML-KEM and ML-DSA the body of a public key is its standard encoding; a
secret key's body starts with a form byte, then either the seed (portable
between backends) or the expanded standard encoding (when the backend keeps
no seed, as liboqs does for ML-DSA). Hybrid keys bring their own bodies. The
algorithm travels with the key, so ``load`` needs no flags and a key can
never be read as another algorithm or role.
"""

from __future__ import annotations

from typing import Union

from secretumvault import hybrid, pqc
from secretumvault.encoding.keyheader import KEY_FORMAT_VERSION, KeyKind, decode_key, encode_key
from secretumvault.errors import InvalidKey, UnsupportedAlgorithm
from secretumvault.pqc.keys import KemPublicKey, KemSecretKey, SigPublicKey, SigSecretKey
from secretumvault.pqc.params import KEM_PARAMS, SIG_PARAMS

__all__ = [
    "ALGORITHMS",
    "KEM_ALGORITHMS",
    "SIGNATURE_ALGORITHMS",
    "Key",
    "canonical_name",
    "dump",
    "load",
    "peek",
]

Key = Union[KemPublicKey, KemSecretKey, SigPublicKey, SigSecretKey]

#: Every algorithm a key file can hold, pure post-quantum first, then hybrid.
KEM_ALGORITHMS: tuple[str, ...] = (*KEM_PARAMS, *hybrid.KEM_ALGORITHMS)
SIGNATURE_ALGORITHMS: tuple[str, ...] = (*SIG_PARAMS, *hybrid.SIGNATURE_ALGORITHMS)
ALGORITHMS: tuple[str, ...] = (*KEM_ALGORITHMS, *SIGNATURE_ALGORITHMS)
_BY_FOLDED_NAME = {name.casefold(): name for name in ALGORITHMS}

_FORM_SEED = 0x01
_FORM_EXPANDED = 0x02


def canonical_name(name: str) -> str | None:
    """The algorithm's name as the library spells it (``"ml-kem-768"`` -> ``"ML-KEM-768"``), or None."""
    return _BY_FOLDED_NAME.get(name.casefold())


def peek(data: bytes) -> tuple[KeyKind, str]:
    """The kind and algorithm named in a key file's header (validated by ``load``)."""
    if not data:
        raise InvalidKey("not a SecretumVault key file: it is empty")
    # A few versions ahead, with a known key kind after it: most likely a key file from a newer release.
    if KEY_FORMAT_VERSION < data[0] <= KEY_FORMAT_VERSION + 3 and data[1:2] and data[1] in set(KeyKind):
        raise InvalidKey(
            f"key file format version {data[0]} is newer than this SecretumVault reads "
            f"(version {KEY_FORMAT_VERSION}); upgrade SecretumVault to read it"
        )
    if data[0] != KEY_FORMAT_VERSION:
        raise InvalidKey(
            f"not a SecretumVault key file: it starts with byte 0x{data[0]:02x}, "
            f"and key files start with their format version 0x{KEY_FORMAT_VERSION:02x}"
        )
    if len(data) < 3 or len(data) < 3 + data[2]:
        raise InvalidKey("not a SecretumVault key file: too short for a key header")
    try:
        kind = KeyKind(data[1])
        algorithm = data[3 : 3 + data[2]].decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise InvalidKey("not a SecretumVault key file: malformed header") from None
    return kind, algorithm


def dump(key: Key) -> bytes:
    """Encode any public or secret key made by :mod:`pqc` or :mod:`hybrid`."""
    algorithm = str(key.algorithm)
    if algorithm not in KEM_PARAMS and algorithm not in SIG_PARAMS:
        return key.to_bytes()  # hybrid keys are already in this format
    if isinstance(key, KemPublicKey):
        return encode_key(KeyKind.KEM_PUBLIC, algorithm, key.to_bytes())
    if isinstance(key, SigPublicKey):
        return encode_key(KeyKind.SIGNATURE_PUBLIC, algorithm, key.to_bytes())
    kind = KeyKind.KEM_SECRET if isinstance(key, KemSecretKey) else KeyKind.SIGNATURE_SECRET
    try:
        body = bytes((_FORM_SEED,)) + key.seed_bytes()
    except UnsupportedAlgorithm:  # this backend keeps only the expanded key
        body = bytes((_FORM_EXPANDED,)) + key.to_bytes()
    return encode_key(kind, algorithm, body)


def load(data: bytes, backend: str | None = None) -> Key:
    """Decode a key written by :func:`dump` on ``backend`` (default: the configured one).

    Under "auto", a secret key goes to the first backend that can read its form.
    """
    kind, algorithm = peek(data)
    if backend is None:
        backend = pqc.get_default_backend()
    if kind in (KeyKind.KEM_SECRET, KeyKind.SIGNATURE_SECRET) and backend == "auto":
        # Not every backend reads every form (liboqs has no ML-DSA seed import,
        # pyca/cryptography no expanded keys): take the first one that can.
        failure: UnsupportedAlgorithm | None = None
        for candidate in pqc.available_backends():
            try:
                return _load(data, kind, algorithm, candidate)
            except UnsupportedAlgorithm as exc:
                failure = exc
        raise failure or UnsupportedAlgorithm(f"no available backend provides {algorithm}")
    return _load(data, kind, algorithm, backend)


def _load(data: bytes, kind: KeyKind, algorithm: str, backend: str | None) -> Key:
    if algorithm in hybrid.KEM_ALGORITHMS:
        kem = hybrid.HybridKem(algorithm, backend)
        if kind is KeyKind.KEM_PUBLIC:
            return kem.public_key_from_bytes(data)
        return kem.secret_key_from_bytes(data)
    if algorithm in hybrid.SIGNATURE_ALGORITHMS:
        scheme = hybrid.HybridSignature(algorithm, backend)
        if kind is KeyKind.SIGNATURE_PUBLIC:
            return scheme.public_key_from_bytes(data)
        return scheme.secret_key_from_bytes(data)
    body = decode_key(data, kind=kind, algorithm=algorithm)
    if kind is KeyKind.KEM_PUBLIC:
        return pqc.Kem(algorithm, backend).public_key_from_bytes(body)
    if kind is KeyKind.SIGNATURE_PUBLIC:
        return pqc.Signature(algorithm, backend).public_key_from_bytes(body)
    if not body or body[0] not in (_FORM_SEED, _FORM_EXPANDED):
        raise InvalidKey(f"{algorithm} secret key file has an unknown key form")
    return _load_secret(kind, algorithm, body, backend)


def _load_secret(kind: KeyKind, algorithm: str, body: bytes, backend: str | None) -> Key:
    factory = pqc.Kem(algorithm, backend) if kind is KeyKind.KEM_SECRET else pqc.Signature(algorithm, backend)
    if body[0] == _FORM_SEED:
        return factory.keypair_from_seed(body[1:]).secret_key
    return factory.secret_key_from_bytes(body[1:])
