"""Path validation for chains with composite ML-DSA or SLH-DSA keys or signatures, which
pyca/cryptography cannot verify.

pyca/cryptography parses these certificates but knows neither the key nor the
signature algorithm (composite ML-DSA, draft-ietf-lamps-pq-composite-sigs-19;
SLH-DSA, RFC 9909), so :func:`~secretumvault.pki.verify.verify_chain` hands such
chains here. The
checks are RFC 5280's basic ones, on the chain in the order given (leaf
first; no path building):

* each certificate's signature verifies under its issuer's key (composite,
  SLH-DSA, ML-DSA or classical, through :mod:`secretumvault.pki.keys`), the signature
  AlgorithmIdentifier matches the issuer's key type inside and outside the TBS,
  and its issuer name is the issuer's subject;
* every certificate is within its validity period;
* each issuer is a CA (basicConstraints cA), may sign certificates
  (keyUsage keyCertSign, where present) and respects pathLenConstraint;
* no certificate carries a critical extension outside basicConstraints,
  keyUsage, extendedKeyUsage and subjectAltName (so nameConstraints, which
  this validator does not evaluate, makes a chain fail rather than pass);
* the leaf: for ``server_name``, the name in its subjectAltName and the
  serverAuth usage; for ``ext_key_usage``, that usage.

The trust anchor's own signature is not checked (RFC 5280 6.1: the anchor is
trusted as given), as pyca/cryptography does not check it either.
"""

from __future__ import annotations

import datetime
import ipaddress
import itertools
from collections.abc import Sequence

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from secretumvault.errors import InvalidArgument, InvalidKey, InvalidSignature, UnsupportedAlgorithm
from secretumvault.pki._der_split import sequence_members
from secretumvault.pki.keys import PublicKey, public_key_from_spki
from secretumvault.pki.sig_algorithms import KEY_TYPES

__all__ = ["COMPOSITE_OIDS", "OWN_OIDS", "involves_composite", "issuer_key", "verify_path"]

COMPOSITE_OIDS = frozenset(k.signature_oid for k in KEY_TYPES.values() if k.is_composite)
#: The algorithms pyca/cryptography cannot verify, so this module validates their chains.
OWN_OIDS = COMPOSITE_OIDS | {k.signature_oid for k in KEY_TYPES.values() if k.is_slh_dsa}
_UNDERSTOOD_CRITICAL = {
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
}


def involves_composite(certs: Sequence[x509.Certificate]) -> bool:
    """Whether any certificate has a composite ML-DSA or SLH-DSA key or signature (see OWN_OIDS)."""
    return any(
        {c.public_key_algorithm_oid.dotted_string, c.signature_algorithm_oid.dotted_string} & OWN_OIDS
        for c in certs
    )


def issuer_key(cert: x509.Certificate) -> PublicKey:
    """The certificate's own public key, loaded by the library (InvalidSignature if it cannot be)."""
    spki = _spki(cert)
    try:
        return public_key_from_spki(spki, None)
    except (InvalidKey, UnsupportedAlgorithm) as exc:
        raise InvalidSignature(f"{_name(cert)}: its public key cannot be used: {exc}") from None


def _tbs_fields(cert: x509.Certificate) -> list[bytes]:
    # TBSCertificate members; a v1 certificate has no [0] version, so index from the end of it.
    members = sequence_members(cert.tbs_certificate_bytes, "TBSCertificate")
    return members[1:] if members and members[0][:1] == b"\xa0" else members


def _spki(cert: x509.Certificate) -> bytes:
    # Taken from the TBS: pyca/cryptography cannot build a key object for a composite or SLH-DSA key.
    try:
        return _tbs_fields(cert)[5]  # serial, signature, issuer, validity, subject, SPKI
    except (IndexError, InvalidArgument):
        raise InvalidSignature(f"{_name(cert)}: malformed TBSCertificate") from None


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _extension(cert: x509.Certificate, cls: type[x509.ExtensionType]) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _check_signature(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    key = issuer_key(issuer)
    if cert.issuer != issuer.subject:
        raise InvalidSignature(f"{_name(cert)} was not issued by {_name(issuer)} (names differ)")
    inner = _tbs_fields(cert)[1]  # the TBS's own signature AlgorithmIdentifier
    if cert.signature_algorithm_oid.dotted_string != key.key_type.signature_oid or (
        inner != key.key_type.signature_algorithm_der()
    ):
        raise InvalidSignature(f"{_name(cert)}: signature algorithm does not match the issuer's key")
    key.verify(cert.signature, cert.tbs_certificate_bytes)


def _check_ca(issuer: x509.Certificate, below: int) -> None:
    constraints = _extension(issuer, x509.BasicConstraints)
    if not isinstance(constraints, x509.BasicConstraints) or not constraints.ca:
        raise InvalidSignature(f"{_name(issuer)} is not a CA")
    if constraints.path_length is not None and constraints.path_length < below:
        raise InvalidSignature(f"{_name(issuer)}: pathLenConstraint {constraints.path_length} exceeded")
    usage = _extension(issuer, x509.KeyUsage)
    if isinstance(usage, x509.KeyUsage) and not usage.key_cert_sign:
        raise InvalidSignature(f"{_name(issuer)} may not sign certificates (keyUsage)")


def _check_leaf(
    leaf: x509.Certificate, server_name: str | None, wanted: x509.ObjectIdentifier | None
) -> None:
    usages = _extension(leaf, x509.ExtendedKeyUsage)
    if server_name is not None:
        wanted = wanted or ExtendedKeyUsageOID.SERVER_AUTH
        sans = _extension(leaf, x509.SubjectAlternativeName)
        names: list[object] = []
        if isinstance(sans, x509.SubjectAlternativeName):
            names = [*sans.get_values_for_type(x509.DNSName), *sans.get_values_for_type(x509.IPAddress)]
        try:
            target: object = ipaddress.ip_address(server_name)
        except ValueError:
            target = server_name.lower()
        if target not in [n.lower() if isinstance(n, str) else n for n in names]:
            raise InvalidSignature(f"the leaf is not for {server_name[:64]!r}")
    if wanted is not None and not (isinstance(usages, x509.ExtendedKeyUsage) and wanted in usages):
        raise InvalidSignature(f"the leaf's extended key usages do not include {wanted.dotted_string}")


def verify_path(
    certs: Sequence[x509.Certificate],
    root: x509.Certificate,
    when: datetime.datetime,
    server_name: str | None,
    wanted: x509.ObjectIdentifier | None,
) -> list[x509.Certificate]:
    """Validate ``certs`` (leaf first, root excluded) up to ``root``; the path, leaf to root."""
    if not certs:
        raise InvalidArgument("the chain is empty")
    path = [*certs, root]
    for cert in path:
        if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
            raise InvalidSignature(f"{_name(cert)} is not valid at {when.isoformat()}")
        for ext in cert.extensions:
            if ext.critical and ext.oid not in _UNDERSTOOD_CRITICAL:
                raise InvalidSignature(f"{_name(cert)} has a critical extension this validator does not know")
    for below, (cert, issuer) in enumerate(itertools.pairwise(path)):
        _check_signature(cert, issuer)
        _check_ca(issuer, below)
    _check_leaf(certs[0], server_name, wanted)
    return path
