"""sign / verify and hmac / verify_hmac, on one loaded key.

Signatures and HMACs travel as ``vault:v<version>:<base64>``, so a verifier
knows which key version to check against.

Options, as Vault: ``signature_algorithm`` and ``salt_length`` matter only to
RSA keys and are ignored for the others; ``hash_algorithm`` picks the hash of
RSA signatures and is ignored by Ed25519, ML-DSA and the hybrid (which sign the
input itself). ECDSA P-256 signs with SHA-256 only here: another hash is refused.
"""

from __future__ import annotations

from secretumvault.errors import InvalidArgument, InvalidSignature
from secretumvault.transit._mac import check_hmac_algorithm
from secretumvault.transit._policy import require_support, usable_for_reading, usable_for_writing
from secretumvault.transit._store import LoadedKey
from secretumvault.transit._vault_string import format_vault_string, parse_vault_string
from secretumvault.transit.key_types import Purpose

__all__ = ["SignOptions", "compute_hmac", "sign", "verify", "verify_hmac"]

_HASH_NAMES = frozenset(
    {"sha2-224", "sha2-256", "sha2-384", "sha2-512", "sha3-224", "sha3-256", "sha3-384", "sha3-512"}
)


class SignOptions:
    """Vault's sign/verify options: ``hash_algorithm``, ``signature_algorithm`` and ``salt_length``."""

    __slots__ = ("hash_algorithm", "salt_length", "signature_algorithm")

    def __init__(
        self,
        hash_algorithm: str | None = None,
        signature_algorithm: str | None = None,
        salt_length: str | int | None = None,
    ) -> None:
        if hash_algorithm is not None and hash_algorithm not in _HASH_NAMES:
            raise InvalidArgument(
                f"unknown hash_algorithm {hash_algorithm!r}; use one of {', '.join(sorted(_HASH_NAMES))}"
            )
        self.hash_algorithm = hash_algorithm or "sha2-256"
        self.signature_algorithm = signature_algorithm or "pss"
        self.salt_length = salt_length

    def check_for(self, loaded: LoadedKey) -> None:
        name = loaded.record.spec.name
        if name == "ecdsa-p256" and self.hash_algorithm != "sha2-256":
            raise InvalidArgument(
                f"hash_algorithm {self.hash_algorithm} is not supported for ecdsa-p256 keys; use sha2-256"
            )


DEFAULT_OPTIONS = SignOptions()


def sign(
    loaded: LoadedKey, data: bytes, context: bytes, key_version: int | None, options: SignOptions
) -> str:
    record = loaded.record
    require_support(record, record.spec.supports_signing, "signing")
    options.check_for(loaded)
    version = usable_for_writing(record, key_version)
    if record.spec.purpose is Purpose.RSA:
        _refuse_context(context)
        raw = loaded.rsa(version).sign(
            data, options.hash_algorithm, options.signature_algorithm, options.salt_length
        )
    else:
        raw = loaded.signer(version).sign(data, context)
    return format_vault_string(version, raw)


def verify(loaded: LoadedKey, data: bytes, signature: object, context: bytes, options: SignOptions) -> None:
    record = loaded.record
    require_support(record, record.spec.supports_signing, "signing")
    options.check_for(loaded)
    version, raw = parse_vault_string(signature, what="signature", error=InvalidSignature)
    usable_for_reading(record, version, "signature", InvalidSignature)
    if record.spec.purpose is Purpose.RSA:
        _refuse_context(context)
        loaded.rsa(version).verify(
            raw, data, options.hash_algorithm, options.signature_algorithm, options.salt_length
        )
    else:
        loaded.signer(version).verify(raw, data, context)


def _refuse_context(context: bytes) -> None:
    if context:
        raise InvalidArgument("RSA keys take no context string; pass context=b''")


def compute_hmac(loaded: LoadedKey, data: bytes, key_version: int | None, algorithm: str) -> str:
    record = loaded.record
    check_hmac_algorithm(algorithm)
    version = usable_for_writing(record, key_version)
    return format_vault_string(version, loaded.hmac_key(version).compute(data, algorithm))


def verify_hmac(loaded: LoadedKey, data: bytes, tag: object, algorithm: str) -> None:
    record = loaded.record
    check_hmac_algorithm(algorithm)
    version, raw = parse_vault_string(tag, what="HMAC", error=InvalidSignature)
    usable_for_reading(record, version, "HMAC", InvalidSignature)
    if record.versions[version].hmac_key is None and record.missing_hmac_keys():
        # A version from before versions had HMAC keys: nothing was ever HMAC'd with it.
        raise InvalidSignature(f"HMAC does not verify under transit key {record.name!r} version {version}")
    loaded.hmac_key(version).verify(raw, data, algorithm)
