"""Reading an external CA to import: a PEM bundle with its private key, its certificate and chain.

This is the migration path from another CA, such as Vault's
``pki/config/ca`` bundle: one private key block (``PRIVATE KEY`` as PKCS#8,
or the ``EC PRIVATE KEY`` / ``RSA PRIVATE KEY`` forms Vault writes), the
CA's certificate, and optionally the certificates above it, in any order.

Keys may be ML-DSA (RFC 9881 PKCS#8 in the seed, expandedKey or both form),
Ed25519, ECDSA P-224/P-256/P-384/P-521 or RSA 2048/3072/4096. The key must belong to
one of the certificates (it signs a challenge that the certificate's key
verifies), that certificate must be a CA certificate, and the others must
form its chain, each signed by the next (checked by pyca/cryptography).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InternalError as _CryptoInternalError
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from secretumvault.errors import InvalidArgument, InvalidKey, InvalidSignature, InvalidType
from secretumvault.pki._der_split import element_content, sequence_members
from secretumvault.pki.keys import SigningKey, ml_dsa_signing_key, public_key_from_spki, signing_key_from_pyca
from secretumvault.pki.sig_algorithms import KEY_TYPES, KeyType
from secretumvault.pki.verify import load_certificate

__all__ = ["CaBundle", "chain_above", "read_ca_bundle"]

_MAX_BUNDLE = 1 << 20
_MAX_BLOCKS = 16
_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n(.*?)-----END \1-----", re.DOTALL)
_KEY_LABELS = {b"PRIVATE KEY", b"EC PRIVATE KEY", b"RSA PRIVATE KEY"}
_SPKI_FIELD = 6
_PROOF = b"secretumvault: an imported key must sign for its certificate"
_SEED_TAG, _SEQUENCE_TAG, _OCTET_STRING_TAG = 0x80, 0x30, 0x04


@dataclass(frozen=True)
class CaBundle:
    key: SigningKey
    certificate: x509.Certificate
    #: The certificates above the CA, its issuer first.
    chain: tuple[x509.Certificate, ...]


def _blocks(bundle: object) -> list[tuple[bytes, bytes]]:
    if isinstance(bundle, str):
        bundle = bundle.encode("ascii", "replace")
    if not isinstance(bundle, (bytes, bytearray)):
        raise InvalidType(f"a CA bundle must be PEM text, not {type(bundle).__name__}")
    if len(bundle) > _MAX_BUNDLE:
        raise InvalidArgument(f"a CA bundle is at most {_MAX_BUNDLE} bytes")
    found = [(m.group(1), m.group(0)) for m in _BLOCK.finditer(bytes(bundle))]
    if not 2 <= len(found) <= _MAX_BLOCKS:
        raise InvalidArgument(
            f"a CA bundle holds 2 to {_MAX_BLOCKS} PEM blocks: a private key and certificates"
        )
    return found


def _spki(cert: x509.Certificate) -> bytes:
    return sequence_members(cert.tbs_certificate_bytes, "certificate")[_SPKI_FIELD]


def _signs_for(key: SigningKey, spki: bytes, backend: str | None) -> bool:
    try:
        public_key_from_spki(spki, backend).verify(key.sign(_PROOF), _PROOF)
    except InvalidSignature:
        return False
    return True


def _pkcs8_members(pem: bytes) -> list[bytes]:
    body = b"".join(pem.splitlines()[1:-1])
    try:
        return sequence_members(base64.b64decode(body, validate=True), "private key")
    except (binascii.Error, InvalidArgument):
        raise InvalidKey("the private key block is not well-formed PKCS#8") from None


def _ml_dsa_kind(algorithm: bytes) -> KeyType | None:
    return next(
        (k for k in KEY_TYPES.values() if k.is_ml_dsa and algorithm == k.signature_algorithm_der()), None
    )


def _ml_dsa_key(
    kind: KeyType, private_key: bytes, backend: str | None, certificates: list[x509.Certificate]
) -> SigningKey:
    """An RFC 9881 ML-DSA-PrivateKey: seed, expandedKey, or both (the seed is used)."""
    inner = element_content(private_key, "private key")[1]
    tag, value = element_content(inner, f"{kind.name} private key")
    if tag == _SEED_TAG:
        return ml_dsa_signing_key(kind.name, backend, seed=value)
    if tag == _SEQUENCE_TAG:
        seed = element_content(sequence_members(inner, f"{kind.name} private key")[0], "seed")[1]
        return ml_dsa_signing_key(kind.name, backend, seed=seed)
    if tag == _OCTET_STRING_TAG:  # expanded: the public key comes from the certificate it signs for
        for cert in certificates:
            public = public_key_from_spki(_spki(cert), backend)
            if public.key_type is kind:
                key = ml_dsa_signing_key(kind.name, backend, expanded=value, public=public.subject_public_key)
                if _signs_for(key, _spki(cert), backend):
                    return key
        raise InvalidKey(f"the expanded {kind.name} key signs for no certificate of the bundle")
    raise InvalidKey(f"the {kind.name} private key is in none of RFC 9881's forms")


def _private_key(pem: bytes, backend: str | None, certificates: list[x509.Certificate]) -> SigningKey:
    if pem.startswith(b"-----BEGIN PRIVATE KEY-----"):
        members = _pkcs8_members(pem)
        kind = _ml_dsa_kind(members[1]) if len(members) >= 3 else None
        if kind is not None:
            return _ml_dsa_key(kind, members[2], backend, certificates)
    try:
        loaded = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise InvalidArgument("the private key is encrypted; import it decrypted") from None
    except _CryptoUnsupportedAlgorithm:
        raise InvalidArgument("the private key's algorithm is not one this engine supports") from None
    except (ValueError, _CryptoInternalError):  # InternalError: e.g. an Ed448 OID over 32 bytes
        raise InvalidKey("the private key block does not parse") from None
    return signing_key_from_pyca(loaded)


def _check_ca(cert: x509.Certificate, what: str) -> None:
    try:
        if not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            raise InvalidArgument(f"{what} is not a CA certificate (basicConstraints cA is false)")
    except x509.ExtensionNotFound:
        raise InvalidArgument(f"{what} is not a CA certificate (no basicConstraints)") from None
    try:
        if not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign:
            raise InvalidArgument(f"{what} may not sign certificates (keyUsage without keyCertSign)")
    except x509.ExtensionNotFound:
        pass


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, _CryptoInvalidSignature, _CryptoUnsupportedAlgorithm):
        return False
    return True


def chain_above(ca: x509.Certificate, others: list[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """``others`` ordered from ``ca``'s issuer up, each link's signature checked; InvalidArgument for
    a certificate that is not on that chain."""
    chain: list[x509.Certificate] = []
    current, remaining = ca, list(others)
    while remaining and current.issuer != current.subject:
        issuer = next((c for c in remaining if c.subject == current.issuer and _issued_by(current, c)), None)
        if issuer is None:
            break
        _check_ca(issuer, f"the issuer {issuer.subject.rfc4514_string()}")
        chain.append(issuer)
        remaining.remove(issuer)
        current = issuer
    if remaining:
        raise InvalidArgument(
            f"{remaining[0].subject.rfc4514_string()} is not on the chain above the CA certificate; "
            "give the CA's certificate and its issuers only"
        )
    return tuple(chain)


def read_ca_bundle(bundle: object, backend: str | None) -> CaBundle:
    """The key, CA certificate and chain of a PEM bundle; InvalidArgument/InvalidKey naming what is wrong."""
    blocks = _blocks(bundle)
    certificates = [load_certificate(pem) for label, pem in blocks if label == b"CERTIFICATE"]
    keys = [pem for label, pem in blocks if label in _KEY_LABELS]
    unexpected = sorted(
        {label.decode() for label, _ in blocks} - {"CERTIFICATE", *(k.decode() for k in _KEY_LABELS)}
    )
    if "ENCRYPTED PRIVATE KEY" in unexpected:
        raise InvalidArgument("the private key is encrypted; import it decrypted")
    if unexpected:
        raise InvalidArgument(
            f"a CA bundle holds a private key and certificates, not {', '.join(unexpected)}"
        )
    if len(keys) != 1 or not certificates:
        raise InvalidArgument("a CA bundle holds exactly one private key and at least one certificate")
    key = _private_key(keys[0], backend, certificates)
    ca = next((c for c in certificates if _spki(c) == key.public_key.spki), None)
    if ca is None or not _signs_for(key, _spki(ca), backend):
        raise InvalidKey("the private key belongs to none of the bundle's certificates")
    _check_ca(ca, "the certificate of the imported key")
    if ca.issuer == ca.subject and not _issued_by(ca, ca):
        raise InvalidSignature("the self-issued CA certificate's signature does not verify")
    return CaBundle(key, ca, chain_above(ca, [c for c in certificates if c is not ca]))
