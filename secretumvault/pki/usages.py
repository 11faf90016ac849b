"""Key usages and extended key usages, by the names Vault uses and as X.509 sees them.

Key usages (RFC 5280 4.2.1.3) are spelled as pyca/cryptography's
``x509.KeyUsage`` arguments (``digital_signature``); Vault's spellings
(``DigitalSignature``, ``CertSign``, ``CRLSign``) are accepted and mapped.

Extended key usages (RFC 5280 4.2.1.12) are spelled as Vault spells them
(``ServerAuth``, ``ClientAuth``, ``CodeSigning`` ...), case-insensitively,
or given as dotted object identifiers (Vault's ``ext_key_usage_oids``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from secretumvault.errors import InvalidArgument, InvalidType

__all__ = [
    "EXT_KEY_USAGES",
    "KEY_USAGES",
    "LEAF_KEY_USAGES",
    "check_eku_oids",
    "eku_oid",
    "ext_key_usage_names",
    "key_usage_extension",
    "key_usage_names",
]

#: Every key usage bit, as pyca/cryptography names the ``x509.KeyUsage`` arguments.
KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)
#: What a leaf may assert: keyCertSign needs basicConstraints cA=TRUE (RFC 5280 4.2.1.3).
LEAF_KEY_USAGES = frozenset(KEY_USAGES) - {"key_cert_sign"}
_VAULT_KEY_USAGE = {
    "certsign": "key_cert_sign",
    "crlsign": "crl_sign",
    **{name.replace("_", ""): name for name in KEY_USAGES},
}

#: Extended key usages by Vault's names.
EXT_KEY_USAGES: dict[str, x509.ObjectIdentifier] = {
    "ServerAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "ClientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "CodeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "EmailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "IPSECEndSystem": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "IPSECTunnel": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "IPSECUser": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "TimeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
    "Any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
}
_EKU_BY_FOLDED = {name.lower(): name for name in EXT_KEY_USAGES}
_DOTTED_OID = re.compile(r"[0-2](?:\.(?:0|[1-9][0-9]{0,17})){1,63}")


def _names(values: object, what: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, (tuple, list)):
        raise InvalidType(f"{what} must be a tuple or list of str")
    for value in values:
        if not isinstance(value, str):
            raise InvalidType(f"{what} must hold str, not {type(value).__name__}")
    return tuple(values)


def key_usage_names(values: object, what: str = "key_usage") -> tuple[str, ...]:
    """Key usage names in pyca/cryptography's spelling, in a fixed order, without repeats."""
    chosen = set()
    for value in _names(values, what):
        name = _VAULT_KEY_USAGE.get(value.replace("_", "").lower())
        if name is None:
            raise InvalidArgument(
                f"{what}: unknown key usage {value[:40]!r}; choose from {', '.join(KEY_USAGES)}"
            )
        chosen.add(name)
    if ({"encipher_only", "decipher_only"} & chosen) and "key_agreement" not in chosen:
        raise InvalidArgument(
            f"{what}: encipher_only and decipher_only need key_agreement (RFC 5280 4.2.1.3)"
        )
    return tuple(name for name in KEY_USAGES if name in chosen)


def key_usage_extension(names: Iterable[str]) -> x509.KeyUsage:
    chosen = set(names)
    return x509.KeyUsage(**{name: name in chosen for name in KEY_USAGES})


def ext_key_usage_names(values: object, what: str = "ext_key_usage") -> tuple[str, ...]:
    """Extended key usage names in Vault's spelling (case and underscores ignored), without repeats."""
    found = []
    for value in _names(values, what):
        name = _EKU_BY_FOLDED.get(value.replace("_", "").lower())
        if name is None:
            raise InvalidArgument(
                f"{what}: unknown extended key usage {value[:40]!r}; choose from {', '.join(EXT_KEY_USAGES)} "
                "or give an OID in ext_key_usage_oids"
            )
        found.append(name)
    return tuple(dict.fromkeys(found))


def check_eku_oids(values: object, what: str = "ext_key_usage_oids") -> tuple[str, ...]:
    """Dotted object identifiers, checked for syntax, without repeats."""
    found = []
    for value in _names(values, what):
        found.append(_parse_oid(value, what).dotted_string)
    return tuple(dict.fromkeys(found))


def _parse_oid(value: str, what: str) -> x509.ObjectIdentifier:
    try:
        if _DOTTED_OID.fullmatch(value):
            return x509.ObjectIdentifier(value)
    except ValueError:  # e.g. a second arc of 40 or more under 0 or 1
        pass
    raise InvalidArgument(f"{what}: {value[:64]!r} is not a dotted object identifier")


def eku_oid(value: str) -> x509.ObjectIdentifier:
    """One extended key usage given by name or as a dotted OID."""
    if value[:1].isdigit():
        return _parse_oid(value, "ext_key_usage")
    return EXT_KEY_USAGES[ext_key_usage_names([value], "ext_key_usage")[0]]
