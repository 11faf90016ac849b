"""A CA's revocations and its signed CRLs, kept in one record, as Vault keeps them.

The record ``<mount>/crl/<ca>`` holds every revocation of certificates the
CA issued, the current complete CRL and (with delta CRLs on) the current
delta CRL, so revoking is one compare-and-set write: the revocation and the
CRL that lists it are stored together, or neither is.

* A CRL is re-signed when something changes: on revoke, when it expires,
  and on ``crl_rotate``. Reading it returns the stored one.
* Complete and delta CRLs share one CRL number sequence (RFC 5280 5.2.3).
  With deltas on, a revocation re-signs only the delta CRL, which lists what
  was revoked since its base (the complete CRL it names in its critical
  Delta CRL Indicator); the next complete CRL takes those entries over.
* A revoked certificate stays in the record until tidy removes it, so a
  second revoke finds the first time; once expired it is left off new CRLs
  (RFC 5280 3.3: an expired certificate needs no CRL entry).

Records written by earlier releases held only the last CRL number (version
1), with revocation times in the certificate records; :func:`decode_state`
says so, and the engine gathers those revocations into the new record.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from cryptography import x509

from secretumvault.errors import CorruptRecord
from secretumvault.pki import _json, builders
from secretumvault.pki.keys import SigningKey
from secretumvault.pki.records import to_epoch

__all__ = ["CrlState", "Revocation", "SignedCrl", "decode_state"]

_FORMAT = "secretumvault-pki-crl-state"
_VERSION = 2
_LEGACY_VERSION = 1
#: Above the largest stored CRL number whose successor still fits RFC 5280's 20 octets.
_MAX_CRL_NUMBER = 2**159 - 1


@dataclass(frozen=True)
class Revocation:
    serial: int
    revoked_at: datetime.datetime
    not_after: datetime.datetime
    #: Already listed on the stored complete CRL (else only on the delta CRL).
    in_complete: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "serial": f"{self.serial:x}",
            "revoked_at": to_epoch(self.revoked_at),
            "not_after": to_epoch(self.not_after),
            "in_complete": self.in_complete,
        }

    @classmethod
    def from_json(cls, obj: object, where: str) -> Revocation:
        if not isinstance(obj, dict):
            raise CorruptRecord(f"{where}: a revocation is not an object")
        try:
            serial = int(_json.require(obj, "serial", str, where)[:40], 16)
        except ValueError:
            raise CorruptRecord(f"{where}: a revoked serial is not hex") from None
        return cls(
            serial=serial,
            revoked_at=_json.epoch(obj, "revoked_at", where),
            not_after=_json.epoch(obj, "not_after", where),
            in_complete=_json.require(obj, "in_complete", bool, where),
        )


@dataclass(frozen=True)
class SignedCrl:
    der: bytes
    number: int
    next_update: datetime.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "der": _json.b64encode(self.der),
            "number": self.number,
            "next_update": to_epoch(self.next_update),
        }

    @classmethod
    def from_json(cls, obj: object, where: str) -> SignedCrl | None:
        if obj is None:
            return None
        if not isinstance(obj, dict):
            raise CorruptRecord(f"{where}: a stored CRL is not an object")
        return cls(
            der=_json.b64decode(_json.require(obj, "der", str, where), where),
            number=_crl_number(obj, where),
            next_update=_json.epoch(obj, "next_update", where),
        )


@dataclass(frozen=True)
class CrlState:
    """Everything one CA has revoked, and the CRLs it last signed."""

    #: The last CRL number used, complete or delta.
    number: int
    revocations: tuple[Revocation, ...] = ()
    complete: SignedCrl | None = None
    delta: SignedCrl | None = None

    def find(self, serial: int) -> Revocation | None:
        return next((r for r in self.revocations if r.serial == serial), None)

    def revoke(self, revocation: Revocation) -> CrlState:
        return replace(self, revocations=(*self.revocations, revocation))

    def without(self, serials: Iterable[int]) -> CrlState:
        gone = set(serials)
        return replace(self, revocations=tuple(r for r in self.revocations if r.serial not in gone))

    def sign_complete(
        self,
        issuer: x509.Name,
        key: SigningKey,
        extensions: list[x509.Extension[x509.ExtensionType]],
        this_update: datetime.datetime,
        next_update: datetime.datetime,
    ) -> CrlState:
        """A new complete CRL (the next number) listing every unexpired revocation."""
        number = self.number + 1
        listed = tuple(replace(r, in_complete=True) for r in self.revocations)
        der = _sign(issuer, key, listed, [_number(number), *extensions], this_update, next_update)
        return replace(
            self, number=number, revocations=listed, complete=SignedCrl(der, number, next_update), delta=None
        )

    def sign_delta(
        self,
        issuer: x509.Name,
        key: SigningKey,
        extensions: list[x509.Extension[x509.ExtensionType]],
        this_update: datetime.datetime,
        next_update: datetime.datetime,
    ) -> CrlState:
        """A new delta CRL (the next number) of what was revoked since the stored complete CRL."""
        if self.complete is None:
            raise ValueError("a delta CRL needs a complete CRL first")  # programming error
        number = self.number + 1
        indicator = x509.DeltaCRLIndicator(self.complete.number)
        since = tuple(r for r in self.revocations if not r.in_complete)
        der = _sign(
            issuer,
            key,
            since,
            [_number(number), x509.Extension(indicator.oid, True, indicator), *extensions],
            this_update,
            next_update,
        )
        return replace(self, number=number, delta=SignedCrl(der, number, next_update))

    def encode(self) -> bytes:
        return _json.dumps(
            _FORMAT,
            _VERSION,
            {
                "number": self.number,
                "revocations": [r.to_json() for r in self.revocations],
                "complete": None if self.complete is None else self.complete.to_json(),
                "delta": None if self.delta is None else self.delta.to_json(),
            },
        )


def _crl_number(obj: dict[str, Any], where: str) -> int:
    number: int = _json.require(obj, "number", int, where)
    # RFC 5280 5.2.3: at most 20 octets; a stored number outside that was not written by this engine.
    if not 0 <= number < _MAX_CRL_NUMBER:
        raise CorruptRecord(f"{where}: the CRL number is out of range")
    return number


def decode_state(data: bytes, where: str) -> tuple[CrlState, bool]:
    """The stored state, and whether it is a version 1 record (revocations still in certificate records)."""
    try:
        obj = _json.loads(data, _FORMAT, _VERSION, where)
    except CorruptRecord as current_error:
        try:
            legacy = _json.loads(data, _FORMAT, _LEGACY_VERSION, where)
        except CorruptRecord:
            raise current_error from None
        return CrlState(_crl_number(legacy, where)), True
    state = CrlState(
        number=_crl_number(obj, where),
        revocations=tuple(
            Revocation.from_json(r, where) for r in _json.require(obj, "revocations", list, where)
        ),
        complete=SignedCrl.from_json(obj.get("complete"), where),
        delta=SignedCrl.from_json(obj.get("delta"), where),
    )
    return state, False


def _number(number: int) -> x509.Extension[x509.ExtensionType]:
    return x509.Extension(x509.CRLNumber.oid, False, x509.CRLNumber(number))


def _sign(
    issuer: x509.Name,
    key: SigningKey,
    revocations: Iterable[Revocation],
    extensions: list[x509.Extension[x509.ExtensionType]],
    this_update: datetime.datetime,
    next_update: datetime.datetime,
) -> bytes:
    entries = [
        builders.RevokedEntry(r.serial, r.revoked_at) for r in revocations if r.not_after >= this_update
    ]
    return builders.build_crl(
        issuer, key, this_update=this_update, next_update=next_update, revoked=entries, extensions=extensions
    )
