"""The key types a CA or a leaf may have, and how each appears in X.509.

Object identifiers:

* ML-DSA: RFC 9881 (id-ml-dsa-44/65/87 under NIST's sigAlgs arc). The same
  OID names the key (SubjectPublicKeyInfo) and the signature; parameters are
  ABSENT in both, and the signature is pure ML-DSA over the DER TBS with an
  empty context string.
* SLH-DSA (FIPS 205): RFC 9909, id-slh-dsa-sha2-128s 2.16.840.1.101.3.4.3.20 through
  id-slh-dsa-shake-256f ...31 (SHA2 then SHAKE; 128s, 128f, 192s, 192f, 256s, 256f; the order
  OpenSSL 3.5 lists too). As for ML-DSA: one OID for key and signature, parameters ABSENT, the
  raw FIPS 205 public key in the BIT STRING, pure SLH-DSA over the DER TBS with an empty context.
* Ed25519: RFC 8410 (id-Ed25519, parameters absent).
* ECDSA P-224, P-256, P-384 and P-521 (Vault's ``ec`` key_bits 224, 256,
  384, 521): RFC 5758 ecdsa-with-SHA256, -SHA384 and -SHA512 (parameters
  absent); each curve signs with the hash Vault and Go choose for it (SHA-256
  for P-224 and P-256).
* Composite ML-DSA (draft-ietf-lamps-pq-composite-sigs-19, :mod:`secretumvault.hybrid.composite`):
  the draft's OIDs (id-MLDSA65-ECDSA-P256-SHA512 1.3.6.1.5.5.7.6.45 ...) name both key and
  signature, parameters ABSENT; the subjectPublicKey bits are ``mldsaPK || tradPK`` and the
  signature ``mldsaSig || tradSig`` over the DER TBS with an empty application context.
* RSA (2048, 3072, 4096 bits): RFC 4055 sha256WithRSAEncryption (parameters
  NULL), PKCS#1 v1.5, the signature every X.509 verifier accepts. RSA-2048
  is Vault's default key type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from secretumvault.errors import UnsupportedAlgorithm
from secretumvault.pki import _der
from secretumvault.pqc.params import SLH_DSA_NAMES

__all__ = ["KEY_TYPES", "KeyType", "key_type"]

#: Key usages RFC 9881 section 5, RFC 9909 section 5 and RFC 8410 section 5 allow for signature-only keys.
_SIGNATURE_ONLY_USAGES = frozenset({"digital_signature", "content_commitment", "key_cert_sign", "crl_sign"})
_RSA_USAGES = _SIGNATURE_ONLY_USAGES | {"key_encipherment", "data_encipherment"}
_ECDSA_USAGES = _SIGNATURE_ONLY_USAGES | {"key_agreement", "encipher_only", "decipher_only"}


@dataclass(frozen=True)
class KeyType:
    """One key type: its name, the signature AlgorithmIdentifier it signs with, its allowed usages."""

    name: str
    signature_oid: str
    #: Whether the AlgorithmIdentifier carries an explicit NULL (RSA) or nothing.
    null_parameters: bool
    allowed_key_usages: frozenset[str]
    #: The hash of ECDSA and RSA signatures (hashlib's name); None for ML-DSA and Ed25519.
    hash_name: str | None = None

    @property
    def is_ml_dsa(self) -> bool:
        return self.name.startswith("ML-DSA-")

    @property
    def is_slh_dsa(self) -> bool:
        return self.name.startswith("SLH-DSA-")

    @property
    def is_composite(self) -> bool:
        return self.name.startswith("MLDSA")

    def signature_algorithm_der(self) -> bytes:
        """The DER AlgorithmIdentifier of signatures made by keys of this type."""
        if self.null_parameters:
            return _der.sequence(_der.oid(self.signature_oid), _der.null())
        return _der.sequence(_der.oid(self.signature_oid))


KEY_TYPES: dict[str, KeyType] = {
    k.name: k
    for k in (
        KeyType("ML-DSA-44", "2.16.840.1.101.3.4.3.17", False, _SIGNATURE_ONLY_USAGES),
        KeyType("ML-DSA-65", "2.16.840.1.101.3.4.3.18", False, _SIGNATURE_ONLY_USAGES),
        KeyType("ML-DSA-87", "2.16.840.1.101.3.4.3.19", False, _SIGNATURE_ONLY_USAGES),
        *(
            # RFC 9909: sigAlgs arc 20 + the position in FIPS 205's (and SLH_DSA_NAMES') order
            KeyType(name, f"2.16.840.1.101.3.4.3.{20 + i}", False, _SIGNATURE_ONLY_USAGES)
            for i, name in enumerate(SLH_DSA_NAMES)
        ),
        KeyType("MLDSA44-Ed25519-SHA512", "1.3.6.1.5.5.7.6.39", False, _SIGNATURE_ONLY_USAGES),
        KeyType("MLDSA65-Ed25519-SHA512", "1.3.6.1.5.5.7.6.48", False, _SIGNATURE_ONLY_USAGES),
        KeyType("MLDSA65-ECDSA-P256-SHA512", "1.3.6.1.5.5.7.6.45", False, _SIGNATURE_ONLY_USAGES),
        KeyType("MLDSA87-ECDSA-P384-SHA512", "1.3.6.1.5.5.7.6.49", False, _SIGNATURE_ONLY_USAGES),
        KeyType("Ed25519", "1.3.101.112", False, _SIGNATURE_ONLY_USAGES),
        KeyType("ECDSA-P224", "1.2.840.10045.4.3.2", False, _ECDSA_USAGES, "sha256"),
        KeyType("ECDSA-P256", "1.2.840.10045.4.3.2", False, _ECDSA_USAGES, "sha256"),
        KeyType("ECDSA-P384", "1.2.840.10045.4.3.3", False, _ECDSA_USAGES, "sha384"),
        KeyType("ECDSA-P521", "1.2.840.10045.4.3.4", False, _ECDSA_USAGES, "sha512"),
        KeyType("RSA-2048", "1.2.840.113549.1.1.11", True, _RSA_USAGES, "sha256"),
        KeyType("RSA-3072", "1.2.840.113549.1.1.11", True, _RSA_USAGES, "sha256"),
        KeyType("RSA-4096", "1.2.840.113549.1.1.11", True, _RSA_USAGES, "sha256"),
    )
}


def key_type(name: object) -> KeyType:
    """The key type called ``name``; UnsupportedAlgorithm naming the choices otherwise."""
    try:
        return KEY_TYPES[cast(str, name)]  # any other type misses, or raises TypeError if unhashable
    except (KeyError, TypeError):
        raise UnsupportedAlgorithm(
            f"unknown PKI key type {name!r}; expected one of {', '.join(KEY_TYPES)}"
        ) from None
