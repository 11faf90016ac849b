"""OCSP (RFC 6960): reading a request, and a response signed by the issuing CA itself.

The CA signs its own responses (RFC 6960 4.2.2.2 allows the issuer as the
responder), identified by key hash, and echoes the request's nonce. A
response is built by pyca/cryptography's ``OCSPResponseBuilder`` wherever
pyca can hold the CA's key (classical keys, ML-DSA keys with a seed), and
otherwise -- an ML-DSA key known only in expanded form -- assembled here in
DER and signed by the key itself, as certificates are.

Requests carry one certificate ID (pyca/cryptography reads no more); a
request that does not parse, or asks about a serial number no certificate
can have, gets a ``malformedRequest`` response, and one for a CA this engine
does not hold gets ``unauthorized``.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from secretumvault.pki import _der, builders
from secretumvault.pki._parsing import PARSE_ERRORS
from secretumvault.pki.keys import SigningKey

__all__ = ["CertificateStatus", "OcspQuery", "build_response", "read_request", "unsuccessful"]

_BASIC_RESPONSE = "1.3.6.1.5.5.7.48.1.1"  # id-pkix-ocsp-basic
_HASH_OIDS = {"sha1": "1.3.14.3.2.26", "sha256": "2.16.840.1.101.3.4.2.1", "sha384": "2.16.840.1.101.3.4.2.2"}
_HASH_OIDS["sha512"] = "2.16.840.1.101.3.4.2.3"
_REQUEST_ERRORS: tuple[type[Exception], ...] = (*PARSE_ERRORS, _CryptoUnsupportedAlgorithm)
_SIGNING_HASHES: dict[str, hashes.HashAlgorithm] = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}


@dataclass(frozen=True)
class OcspQuery:
    """The one certificate ID of a request, and its nonce."""

    hash_algorithm: hashes.HashAlgorithm
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial_number: int
    nonce: bytes | None

    def names(self, issuer: x509.Certificate, issuer_key_bits: bytes) -> bool:
        """Whether the ID's issuer hashes are those of this CA (its subject DER and its key bits)."""
        if self.hash_algorithm.name not in _HASH_OIDS:
            return False
        name_hash = hashlib.new(self.hash_algorithm.name, issuer.subject.public_bytes()).digest()
        key_hash = hashlib.new(self.hash_algorithm.name, issuer_key_bits).digest()
        return name_hash == self.issuer_name_hash and key_hash == self.issuer_key_hash


@dataclass(frozen=True)
class CertificateStatus:
    status: ocsp.OCSPCertStatus
    revoked_at: datetime.datetime | None = None


def read_request(data: bytes) -> OcspQuery | None:
    """The request's certificate ID, or None if it is not a request this responder can read."""
    try:
        request = ocsp.load_der_ocsp_request(data)
        try:
            nonce: bytes | None = request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            nonce = None
        if not 0 < request.serial_number < 2**160:  # RFC 5280 4.1.2.2: positive, at most 20 octets
            return None
        return OcspQuery(
            request.hash_algorithm,
            request.issuer_name_hash,
            request.issuer_key_hash,
            request.serial_number,
            nonce,
        )
    except _REQUEST_ERRORS:
        return None


def unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    """A response with no body: malformedRequest, unauthorized, internalError ..."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(Encoding.DER)


def build_response(
    query: OcspQuery,
    status: CertificateStatus,
    issuer: x509.Certificate,
    key: SigningKey,
    this_update: datetime.datetime,
    next_update: datetime.datetime,
) -> bytes:
    """A successful response about ``query``, signed by the issuing CA's ``key``."""
    pyca_key = key.pyca_private_key()
    if pyca_key is None:
        return _own_der(query, status, key, this_update, next_update)
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            query.issuer_name_hash,
            query.issuer_key_hash,
            query.serial_number,
            query.hash_algorithm,
            status.status,
            this_update,
            next_update,
            status.revoked_at,
            None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
    )
    if query.nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(query.nonce), critical=False)
    signing_hash = None if key.key_type.hash_name is None else _SIGNING_HASHES[key.key_type.hash_name]
    return builder.sign(pyca_key, signing_hash).public_bytes(Encoding.DER)


# -- the engine's own DER, for keys pyca/cryptography cannot hold -----------------------------------


def _cert_status(status: CertificateStatus) -> bytes:
    if status.status is ocsp.OCSPCertStatus.GOOD:
        return _der.context_implicit_primitive(0, b"")  # good [0] IMPLICIT NULL
    if status.status is ocsp.OCSPCertStatus.UNKNOWN:
        return _der.context_implicit_primitive(2, b"")  # unknown [2] IMPLICIT NULL
    if status.revoked_at is None:
        raise ValueError("a revoked status needs its time")  # programming error
    return _der.context_implicit_constructed(1, _der.generalized_time(status.revoked_at))  # RevokedInfo


def _own_der(
    query: OcspQuery,
    status: CertificateStatus,
    key: SigningKey,
    this_update: datetime.datetime,
    next_update: datetime.datetime,
) -> bytes:
    cert_id = _der.sequence(
        _der.sequence(_der.oid(_HASH_OIDS[query.hash_algorithm.name]), _der.null()),
        _der.octet_string(query.issuer_name_hash),
        _der.octet_string(query.issuer_key_hash),
        _der.integer(query.serial_number),
    )
    single = _der.sequence(
        cert_id,
        _cert_status(status),
        _der.generalized_time(this_update),
        _der.context_explicit(0, _der.generalized_time(next_update)),
    )
    # RFC 6960 fixes the responder's KeyHash as SHA-1 of the key bits: an identifier, not a security hash.
    responder_key_hash = hashlib.sha1(key.public_key.subject_public_key).digest()  # noqa: S324
    extensions = b""
    if query.nonce is not None:
        nonce = x509.Extension(x509.OCSPNonce.oid, False, x509.OCSPNonce(query.nonce))
        extensions = _der.context_explicit(1, _der.sequence(builders.extension_der(nonce)))
    response_data = _der.sequence(
        _der.context_explicit(2, _der.octet_string(responder_key_hash)),  # responderID byKey
        _der.generalized_time(this_update),  # producedAt
        _der.sequence(single),
        extensions,
    )
    basic = builders.signed(response_data, key)
    body = _der.sequence(_der.oid(_BASIC_RESPONSE), _der.octet_string(basic))
    return _der.sequence(_der.enumerated(0), _der.context_explicit(0, body))  # successful
