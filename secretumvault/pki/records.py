"""What the engine stores in the keystore, one tagged JSON record per object.

Layout under the engine's mount (default ``pki``)::

    <mount>/ca/<name>       a CA: its key, its certificate and chain (or a pending CSR)
    <mount>/roles/<name>    a role
    <mount>/certs/<serial>  every certificate a CA issued (and, in records of
                            earlier releases, its revocation time)
    <mount>/crl/<name>      a CA's revocations and its signed CRLs (see ``crls``)
    <mount>/config/urls     distribution URLs written into certificates (see ``settings``)
    <mount>/config/crl      CRL and OCSP lifetimes, delta CRLs on or off

A CA's key and certificate share one record, so a CA is created, or not,
in a single compare-and-set write.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

from secretumvault.pki import _json
from secretumvault.pki.keys import SigningKey, key_from_record

__all__ = ["CaRecord", "CertRecord", "from_epoch", "to_epoch"]

_CA_FORMAT = "secretumvault-pki-ca"
_CERT_FORMAT = "secretumvault-pki-cert"
_VERSION = 1


def to_epoch(moment: datetime.datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


@dataclass(frozen=True)
class CaRecord:
    """A CA. ``certificate`` is None while it waits for its signed certificate (``csr`` set)."""

    key: SigningKey
    certificate: bytes | None
    #: DER certificates from this CA's issuer up to the root; empty for a root.
    chain: tuple[bytes, ...]
    csr: bytes | None

    def signed(self, certificate: bytes, chain: tuple[bytes, ...]) -> CaRecord:
        return replace(self, certificate=certificate, chain=chain, csr=None)

    def encode(self) -> bytes:
        return _json.dumps(
            _CA_FORMAT,
            _VERSION,
            {
                "key": _json.b64encode(self.key.to_record()),
                "certificate": None if self.certificate is None else _json.b64encode(self.certificate),
                "chain": [_json.b64encode(c) for c in self.chain],
                "csr": None if self.csr is None else _json.b64encode(self.csr),
            },
        )

    @classmethod
    def decode(cls, data: bytes, where: str) -> CaRecord:
        obj = _json.loads(data, _CA_FORMAT, _VERSION, where)
        key = key_from_record(_json.b64decode(_json.require(obj, "key", str, where), where), where)
        cert, csr = obj.get("certificate"), obj.get("csr")
        return cls(
            key=key,
            certificate=None
            if cert is None
            else _json.b64decode(_json.require(obj, "certificate", str, where), where),
            chain=tuple(_json.b64decode(c, where) for c in _json.require(obj, "chain", list, where)),
            csr=None if csr is None else _json.b64decode(_json.require(obj, "csr", str, where), where),
        )


@dataclass(frozen=True)
class CertRecord:
    """An issued certificate, the CA that issued it, and when it was revoked (if it was)."""

    issuer: str
    certificate: bytes
    not_after: datetime.datetime
    revoked_at: datetime.datetime | None = None

    def encode(self) -> bytes:
        return _json.dumps(
            _CERT_FORMAT,
            _VERSION,
            {
                "issuer": self.issuer,
                "certificate": _json.b64encode(self.certificate),
                "not_after": to_epoch(self.not_after),
                "revoked_at": None if self.revoked_at is None else to_epoch(self.revoked_at),
            },
        )

    @classmethod
    def decode(cls, data: bytes, where: str) -> CertRecord:
        obj = _json.loads(data, _CERT_FORMAT, _VERSION, where)
        revoked = obj.get("revoked_at")
        return cls(
            issuer=_json.require(obj, "issuer", str, where),
            certificate=_json.b64decode(_json.require(obj, "certificate", str, where), where),
            not_after=_json.epoch(obj, "not_after", where),
            revoked_at=None if revoked is None else _json.epoch(obj, "revoked_at", where),
        )
