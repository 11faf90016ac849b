"""export_key, backup_key and restore_key: key material leaving and entering the engine.

Exports and backups contain private key material in the clear: only keys
created or configured ``exportable`` (and, for backups,
``allow_plaintext_backup``) give them, as in Vault. A backup is
``base64(JSON)``, format and version tagged::

    {"format": "secretumvault.transit.backup", "version": 1, "key": <the stored record>}
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from secretumvault.encoding import tagged_json as _json
from secretumvault.errors import (
    CorruptRecord,
    InvalidArgument,
    InvalidType,
    KeyNotFound,
    PolicyViolation,
    SecretumVaultError,
    UnsupportedAlgorithm,
)
from secretumvault.transit._binding import associated_data
from secretumvault.transit._kem_cipher import KemCipher
from secretumvault.transit._operators import build_operator
from secretumvault.transit._record import KeyRecord
from secretumvault.transit._rsa import RsaKey
from secretumvault.transit._signers import EcdsaP256Signer, Ed25519Signer, PqcSigner
from secretumvault.transit._symmetric import SymmetricCipher
from secretumvault.transit.key_types import Purpose
from secretumvault.transit.results import ExportedKey

__all__ = ["EXPORT_KINDS", "backup", "export", "restore"]

_BACKUP_FORMAT = "secretumvault.transit.backup"
_BACKUP_VERSION = 1

#: What export_key can export, and which purpose of key has it (None: public keys of any asymmetric key).
EXPORT_KINDS: dict[str, tuple[Purpose, ...]] = {
    "encryption-key": (Purpose.SYMMETRIC_ENCRYPTION, Purpose.KEM_ENCRYPTION, Purpose.RSA),
    "signing-key": (Purpose.SIGNING, Purpose.RSA),
    "hmac-key": tuple(Purpose),  # every version of every key has one, as in Vault
    "public-key": (Purpose.KEM_ENCRYPTION, Purpose.SIGNING, Purpose.RSA),
}
#: RSA keys export as PEM, as Vault exports them: the private key PKCS#1, the public key SPKI.
PEM_PRIVATE = "pem-pkcs1"
PEM_PUBLIC = "pem-spki"


def export(record: KeyRecord, kind: object, version: int | None) -> dict[int, ExportedKey]:
    if not isinstance(kind, str):
        raise InvalidType(f"kind must be str, not {type(kind).__name__}")
    purposes = EXPORT_KINDS.get(kind)
    if purposes is None:
        raise InvalidArgument(f"unknown export kind {kind!r}; expected one of {', '.join(EXPORT_KINDS)}")
    if record.spec.purpose not in purposes:
        raise UnsupportedAlgorithm(f"transit key {record.name!r} of type {record.spec.name} has no {kind}")
    if kind != "public-key" and not record.exportable:
        raise PolicyViolation(
            f"transit key {record.name!r} is not exportable; create it with exportable=True "
            "or set it with update_key_config()"
        )
    exported = {}
    rsa = record.spec.purpose is Purpose.RSA
    for number in _versions(record, version):
        key_version = record.versions[number]
        material = key_version.material
        if kind == "hmac-key" and record.spec.purpose is not Purpose.HMAC:
            if key_version.hmac_key is None:  # Transit.export_key adds them first; this is damage
                raise CorruptRecord(f"transit key {record.name!r} version {number} has no HMAC key")
            exported[number] = ExportedKey(number, "raw-256", key_version.hmac_key)
        elif kind == "public-key":
            assert material.public_key is not None  # asymmetric by the purpose check above
            if rsa:
                exported[number] = ExportedKey(
                    number, PEM_PUBLIC, _rsa_pem(material.public_key, private=False)
                )
            else:
                exported[number] = ExportedKey(number, f"{record.spec.name}-public", material.public_key)
        elif rsa:
            exported[number] = ExportedKey(number, PEM_PRIVATE, _rsa_pem(material.secret, private=True))
        else:
            exported[number] = ExportedKey(number, material.encoding, material.secret)
    return exported


def _rsa_pem(der: bytes, *, private: bool) -> bytes:
    from secretumvault.transit import _rsa

    return (_rsa.private_pem(der) if private else _rsa.public_pem(der)).encode("ascii")


def _versions(record: KeyRecord, version: int | None) -> Iterable[int]:
    if version is None:
        return sorted(record.versions)
    if version not in record.versions:
        raise KeyNotFound(f"transit key {record.name!r} has no available version {version}")
    return (version,)


def backup(record: KeyRecord) -> str:
    if not (record.exportable and record.allow_plaintext_backup):
        raise PolicyViolation(
            f"transit key {record.name!r} cannot be backed up: that needs exportable=True and "
            "allow_plaintext_backup=True (update_key_config)"
        )
    document = {"format": _BACKUP_FORMAT, "version": _BACKUP_VERSION, "key": record.to_dict()}
    return base64.b64encode(_json.dumps(document)).decode("ascii")


def restore(text: object, backend: str | None) -> KeyRecord:
    """Parse and check a backup; every version must work before anything is written."""
    if not isinstance(text, str):
        raise InvalidType(f"a backup must be the str backup_key() returned, not {type(text).__name__}")
    try:
        document = _json.loads(
            base64.b64decode(text.encode("ascii"), validate=True), _BACKUP_FORMAT, _BACKUP_VERSION
        )
        key = _json.require(document, "key", dict)
        record = KeyRecord.from_dict(key)
    except (binascii.Error, UnicodeEncodeError, _json.FormatError, InvalidArgument) as exc:
        raise InvalidArgument(f"not a transit key backup: {exc}") from None
    except ValueError:  # e.g. an integer of more digits than Python converts (CVE-2020-10735 limit)
        raise InvalidArgument("not a transit key backup: a number in it is out of range") from None
    for number in record.versions:
        _check_version_works(record, number, backend)
    return record


_PROBE = b"secretumvault transit restore probe"


def _check_version_works(record: KeyRecord, version: int, backend: str | None) -> None:
    """A round trip with the version's key, so a damaged or mismatched key pair is refused now."""
    label = f"backup of transit key {record.name!r} version {version}"
    try:
        operator = build_operator(
            record.spec, record.bound_name, version, record.versions[version].material, backend
        )
        if isinstance(operator, (SymmetricCipher, KemCipher, RsaKey)):
            ad = associated_data(record.bound_name, version, record.spec.name, b"")
            if operator.open(operator.seal(_PROBE, ad), ad) != _PROBE:
                raise CorruptRecord("round trip changed the data")
        if isinstance(operator, RsaKey):
            operator.verify(operator.sign(_PROBE, "sha2-256", "pss", None), _PROBE, "sha2-256", "pss", None)
        elif isinstance(operator, (Ed25519Signer, EcdsaP256Signer, PqcSigner)):
            operator.verify(operator.sign(_PROBE, b""), _PROBE, b"")
    except SecretumVaultError as exc:
        raise InvalidArgument(f"{label} does not work: {exc}") from None
