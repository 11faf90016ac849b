"""The extensions a CA certificate and a leaf certificate carry (RFC 5280 4.2).

CA: basicConstraints cA=TRUE (critical), keyUsage keyCertSign|cRLSign
(critical), subject and authority key identifiers. Leaf: basicConstraints
cA=FALSE (critical), the role's keyUsage (critical), extendedKeyUsage
serverAuth/clientAuth as the role says, subjectAltName with every DNS name,
key identifiers. RFC 9881 section 5 allows these usages for ML-DSA keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from secretumvault.pki.keys import PublicKey, key_identifier
from secretumvault.pki.roles import Role

__all__ = ["ca_extensions", "leaf_extensions"]

Extensions = list[x509.Extension[x509.ExtensionType]]


def _key_usage(names: Sequence[str], *, ca: bool) -> x509.KeyUsage:
    chosen = set(names)
    return x509.KeyUsage(
        digital_signature="digital_signature" in chosen,
        content_commitment="content_commitment" in chosen,
        key_encipherment="key_encipherment" in chosen,
        data_encipherment="data_encipherment" in chosen,
        key_agreement="key_agreement" in chosen,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _identifiers(subject_key: PublicKey, issuer_key: PublicKey) -> Extensions:
    return [
        x509.Extension(
            x509.SubjectKeyIdentifier.oid,
            False,
            x509.SubjectKeyIdentifier(key_identifier(subject_key.subject_public_key)),
        ),
        x509.Extension(
            x509.AuthorityKeyIdentifier.oid,
            False,
            x509.AuthorityKeyIdentifier(key_identifier(issuer_key.subject_public_key), None, None),
        ),
    ]


def ca_extensions(subject_key: PublicKey, issuer_key: PublicKey) -> Extensions:
    return [
        x509.Extension(x509.BasicConstraints.oid, True, x509.BasicConstraints(ca=True, path_length=None)),
        x509.Extension(x509.KeyUsage.oid, True, _key_usage(["digital_signature"], ca=True)),
        *_identifiers(subject_key, issuer_key),
    ]


def leaf_extensions(
    role: Role, dns_names: Sequence[str], subject_key: PublicKey, issuer_key: PublicKey
) -> Extensions:
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] * role.server_flag + [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ] * role.client_flag
    extensions: Extensions = [
        x509.Extension(x509.BasicConstraints.oid, True, x509.BasicConstraints(ca=False, path_length=None)),
        x509.Extension(x509.KeyUsage.oid, True, _key_usage(role.key_usage, ca=False)),
    ]
    if usages:
        extensions.append(x509.Extension(x509.ExtendedKeyUsage.oid, False, x509.ExtendedKeyUsage(usages)))
    extensions.append(
        x509.Extension(
            x509.SubjectAlternativeName.oid,
            False,
            x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]),
        )
    )
    return [*extensions, *_identifiers(subject_key, issuer_key)]
