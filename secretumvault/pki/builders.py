"""DER certificates, certificate requests and CRLs, signed by the key they name.

Each builder assembles the to-be-signed structure (RFC 5280 TBSCertificate
and TBSCertList, RFC 2986 CertificationRequestInfo), has the issuer's own
:class:`~secretumvault.pki.keys.SigningKey` sign exactly those DER bytes, and
wraps ``SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }``. The
signatureAlgorithm inside and outside the TBS come from the same key type,
so they always agree. Names and extension values are encoded by
pyca/cryptography (``Name.public_bytes``, ``ExtensionType.public_bytes``).

Every signature is checked with the issuer's public key before the structure
is returned: a faulty signer must not hand out a certificate nobody can verify.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from secretumvault.pki import _der
from secretumvault.pki.keys import PublicKey, SigningKey

__all__ = [
    "CertificateFields",
    "RevokedEntry",
    "build_certificate",
    "build_crl",
    "build_csr",
    "extension_der",
    "signed",
]


@dataclass(frozen=True)
class CertificateFields:
    """What goes into a TBSCertificate besides the issuer's key."""

    serial_number: int
    issuer: x509.Name
    subject: x509.Name
    not_before: datetime.datetime
    not_after: datetime.datetime
    subject_public_key: PublicKey
    extensions: Sequence[x509.Extension[x509.ExtensionType]]


@dataclass(frozen=True)
class RevokedEntry:
    serial_number: int
    revocation_date: datetime.datetime


def extension_der(ext: x509.Extension[x509.ExtensionType]) -> bytes:
    # Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    # DER omits a DEFAULT value, so "critical" appears only when true.
    flag = (_der.boolean(True),) if ext.critical else ()
    return _der.sequence(_der.oid(ext.oid.dotted_string), *flag, _der.octet_string(ext.value.public_bytes()))


def signed(tbs: bytes, signer: SigningKey) -> bytes:
    """``SEQUENCE { tbs, signatureAlgorithm, signature }``, the signature checked before it is returned."""
    signature = signer.sign(tbs)
    signer.public_key.verify(signature, tbs)
    return _der.sequence(tbs, signer.key_type.signature_algorithm_der(), _der.bit_string(signature))


def build_certificate(fields: CertificateFields, issuer_key: SigningKey) -> bytes:
    """A DER X.509 v3 certificate with ``fields``, signed by ``issuer_key``."""
    if not 0 < fields.serial_number < 2**159:  # RFC 5280 4.1.2.2: positive, at most 20 octets
        raise ValueError("serial numbers are positive and below 2**159")  # programming error
    tbs = _der.sequence(
        _der.context_explicit(0, _der.integer(2)),  # version v3
        _der.integer(fields.serial_number),
        issuer_key.key_type.signature_algorithm_der(),
        fields.issuer.public_bytes(),
        _der.sequence(_der.time(fields.not_before), _der.time(fields.not_after)),
        fields.subject.public_bytes(),
        fields.subject_public_key.spki,
        _der.context_explicit(3, _der.sequence(*(extension_der(e) for e in fields.extensions))),
    )
    return signed(tbs, issuer_key)


def build_csr(subject: x509.Name, key: SigningKey) -> bytes:
    """A DER PKCS#10 request for ``subject``, with no attributes, signed by ``key``."""
    info = _der.sequence(
        _der.integer(0),  # version v1
        subject.public_bytes(),
        key.public_key.spki,
        _der.context_implicit_constructed(0, b""),  # attributes: an empty SET
    )
    return signed(info, key)


def build_crl(
    issuer: x509.Name,
    issuer_key: SigningKey,
    *,
    this_update: datetime.datetime,
    next_update: datetime.datetime,
    revoked: Sequence[RevokedEntry],
    extensions: Sequence[x509.Extension[x509.ExtensionType]],
) -> bytes:
    """A DER v2 CRL (RFC 5280 5.1) listing ``revoked``, signed by ``issuer_key``."""
    entries = [
        _der.sequence(_der.integer(r.serial_number), _der.time(r.revocation_date))
        for r in sorted(revoked, key=lambda r: r.serial_number)
    ]
    # revokedCertificates is OPTIONAL and must be absent (not empty) when nothing is revoked.
    revoked_field = (_der.sequence(*entries),) if entries else ()
    tbs = _der.sequence(
        _der.integer(1),  # version v2
        issuer_key.key_type.signature_algorithm_der(),
        issuer.public_bytes(),
        _der.time(this_update),
        _der.time(next_update),
        *revoked_field,
        _der.context_explicit(0, _der.sequence(*(extension_der(e) for e in extensions))),
    )
    return signed(tbs, issuer_key)
