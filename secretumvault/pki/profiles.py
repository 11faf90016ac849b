"""The extensions a CA certificate and a leaf certificate carry (RFC 5280 4.2).

CA: basicConstraints cA=TRUE (critical), keyUsage keyCertSign|cRLSign
(critical), name constraints if any (critical), subject and authority key
identifiers, and the issuer's distribution URLs. Leaf: basicConstraints
cA=FALSE (critical), the key usages asked for (critical; none: no
extension), the extended key usages, subjectAltName with every DNS, IP and
URI name (critical when the subject is empty, RFC 5280 4.2.1.6), key
identifiers and the distribution URLs. RFC 9881 section 5 allows these
usages for ML-DSA keys.

The authority key identifier is the issuing CA's own subject key identifier
as its certificate states it (an imported CA may use another method than
ours), and RFC 7093 method 1 where its certificate has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from secretumvault.pki.keys import PublicKey, key_identifier
from secretumvault.pki.sans import IPAddress
from secretumvault.pki.usages import key_usage_extension

__all__ = ["LeafContents", "ca_extensions", "issuer_key_id", "leaf_extensions"]

Extensions = list[x509.Extension[x509.ExtensionType]]


@dataclass(frozen=True)
class LeafContents:
    """What a leaf certificate says besides its subject and key, all already checked."""

    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[IPAddress, ...] = ()
    uris: tuple[str, ...] = ()
    key_usage: tuple[str, ...] = ("digital_signature",)
    ext_key_usage: tuple[x509.ObjectIdentifier, ...] = ()
    subject_is_empty: bool = False

    def general_names(self) -> list[x509.GeneralName]:
        return [
            *(x509.DNSName(n) for n in self.dns_names),
            *(x509.IPAddress(a) for a in self.ip_addresses),
            *(x509.UniformResourceIdentifier(u) for u in self.uris),
        ]


def issuer_key_id(certificate: x509.Certificate, key: PublicKey) -> bytes:
    """The key identifier a CA's certificates use for it: its SKI, else RFC 7093 method 1."""
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return key_identifier(key.subject_public_key)


def _identifiers(subject_key: PublicKey, authority_key_id: bytes) -> Extensions:
    ski = x509.SubjectKeyIdentifier(key_identifier(subject_key.subject_public_key))
    aki = x509.AuthorityKeyIdentifier(authority_key_id, None, None)
    return [x509.Extension(ski.oid, False, ski), x509.Extension(aki.oid, False, aki)]


def ca_extensions(
    subject_key: PublicKey,
    authority_key_id: bytes,
    *,
    name_constraints: x509.Extension[x509.ExtensionType] | None = None,
    urls: Sequence[x509.Extension[x509.ExtensionType]] = (),
) -> Extensions:
    found: Extensions = [
        x509.Extension(x509.BasicConstraints.oid, True, x509.BasicConstraints(ca=True, path_length=None)),
        x509.Extension(
            x509.KeyUsage.oid, True, key_usage_extension(["digital_signature", "key_cert_sign", "crl_sign"])
        ),
    ]
    if name_constraints is not None:
        found.append(name_constraints)
    return [*found, *_identifiers(subject_key, authority_key_id), *urls]


def leaf_extensions(
    contents: LeafContents,
    subject_key: PublicKey,
    authority_key_id: bytes,
    urls: Sequence[x509.Extension[x509.ExtensionType]] = (),
) -> Extensions:
    found: Extensions = [
        x509.Extension(x509.BasicConstraints.oid, True, x509.BasicConstraints(ca=False, path_length=None)),
    ]
    if contents.key_usage:
        found.append(x509.Extension(x509.KeyUsage.oid, True, key_usage_extension(contents.key_usage)))
    if contents.ext_key_usage:
        eku = x509.ExtendedKeyUsage(list(contents.ext_key_usage))
        found.append(x509.Extension(eku.oid, False, eku))
    names = contents.general_names()
    if names:
        san = x509.SubjectAlternativeName(names)
        found.append(x509.Extension(san.oid, contents.subject_is_empty, san))
    return [*found, *_identifiers(subject_key, authority_key_id), *urls]
