"""Revocation: revoking by serial, the CAs' CRLs and delta CRLs, OCSP answers, and tidy.

Each CA's revocations and CRLs live in one record (see :mod:`.crls`), so
every change is one compare-and-set; a lost race is retried a few times
from a fresh read, then reported as ConflictError.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp as pyca_ocsp

from secretumvault.errors import ConflictError, InvalidArgument, InvalidType, KeyNotFound
from secretumvault.pki import ocsp as responses
from secretumvault.pki._store import ActiveCa, MountStore, later
from secretumvault.pki.crls import CrlState, Revocation, decode_state
from secretumvault.pki.records import CertRecord
from secretumvault.pki.serials import format_serial, parse_serial, record_name
from secretumvault.pki.settings import CrlSettings

__all__ = ["Revocations"]

_ATTEMPTS = 8


def _pem(der: bytes) -> str:
    return x509.load_der_x509_crl(der).public_bytes(Encoding.PEM).decode("ascii")


class Revocations:
    def __init__(self, store: MountStore) -> None:
        self._store = store

    # -- state ---------------------------------------------------------------------------------

    def _state(self, ca: str) -> tuple[int | None, CrlState]:
        """The CA's stored state and its version (None: not stored yet), earlier releases' carried over."""
        path = self._store.path("crl", ca)
        try:
            entry = self._store.keystore.get_entry(path)
        except KeyNotFound:
            return None, self._carried_over(ca, CrlState(0))
        state, legacy = decode_state(entry.value, path)
        return entry.version, self._carried_over(ca, state) if legacy else state

    def _carried_over(self, ca: str, state: CrlState) -> CrlState:
        # Earlier releases kept revocation times in the certificate records.
        for record, cert in self._store.issued_records():
            if (
                record.issuer == ca
                and record.revoked_at is not None
                and state.find(cert.serial_number) is None
            ):
                state = state.revoke(
                    Revocation(cert.serial_number, record.revoked_at, record.not_after, False)
                )
        return state

    def _write(self, ca: str, version: int | None, state: CrlState) -> bool:
        try:
            self._store.keystore.cas(self._store.path("crl", ca), version, state.encode())
        except ConflictError:
            return False
        return True

    def revoked_at(self, ca: str, serial: int, record: CertRecord) -> datetime.datetime | None:
        """When ``ca`` revoked its certificate ``serial`` (whose record is ``record``), or None."""
        path = self._store.path("crl", ca)
        try:
            state, legacy = decode_state(self._store.keystore.get(path), path)
        except KeyNotFound:
            return record.revoked_at
        if legacy:
            return record.revoked_at
        found = state.find(serial)
        return None if found is None else found.revoked_at

    # -- signing ---------------------------------------------------------------------------------

    def _resign(
        self,
        ca: ActiveCa,
        state: CrlState,
        settings: CrlSettings,
        now: datetime.datetime,
        *,
        delta_only: bool,
    ) -> CrlState:
        aki = x509.AuthorityKeyIdentifier(ca.key_id, None, None)
        extensions: list[x509.Extension[x509.ExtensionType]] = [x509.Extension(aki.oid, False, aki)]
        next_update = later(now, settings.expiry, "the CRL's lifetime")
        issuer = ca.certificate.subject
        if delta_only:
            return state.sign_delta(issuer, ca.key, extensions, now, next_update)
        # RFC 5280 6.3.3 (a)(2): a verifier looks for a delta CRL only where the certificate or the
        # complete CRL has a Freshest CRL extension (OpenSSL's get_delta_sk); 5.2.6: never on a delta.
        freshest = self._store.urls().freshest_crl(ca.name) if settings.enable_delta else []
        state = state.sign_complete(issuer, ca.key, [*extensions, *freshest], now, next_update)
        if settings.enable_delta:  # a fresh (empty) delta CRL on the new base
            state = state.sign_delta(issuer, ca.key, extensions, now, next_update)
        return state

    def revoke(self, serial: object) -> datetime.datetime:
        number = parse_serial(serial)
        _, record = self._store.cert_entry(number)
        for _ in range(_ATTEMPTS):
            version, state = self._state(record.issuer)
            found = state.find(number)
            if found is not None:  # revoking again is not an error: the first revocation stands
                return found.revoked_at
            ca = self._store.active_ca(record.issuer)
            settings = self._store.crl_settings()
            now = self._store.now()
            state = state.revoke(Revocation(number, now, record.not_after, in_complete=False))
            fresh = state.complete is not None and now < state.complete.next_update
            state = self._resign(ca, state, settings, now, delta_only=settings.enable_delta and fresh)
            if self._write(record.issuer, version, state):
                return now
        raise ConflictError(
            f"the CRL of CA {record.issuer!r} kept changing; revoke {format_serial(number)} again"
        )

    def crl(self, ca_name: str, *, rotate: bool = False) -> str:
        for _ in range(_ATTEMPTS):
            ca = self._store.active_ca(ca_name)
            version, state = self._state(ca_name)
            now = self._store.now()
            current = state.complete
            if not rotate and version is not None and current is not None and now < current.next_update:
                return _pem(current.der)
            state = self._resign(ca, state, self._store.crl_settings(), now, delta_only=False)
            if self._write(ca_name, version, state) and state.complete is not None:
                return _pem(state.complete.der)
        raise ConflictError(f"the CRL of CA {ca_name!r} kept changing; ask again")

    def delta_crl(self, ca_name: str) -> str:
        settings = self._store.crl_settings()
        if not settings.enable_delta:
            raise InvalidArgument("delta CRLs are off: turn them on with set_crl_config(enable_delta=True)")
        for _ in range(_ATTEMPTS):
            ca = self._store.active_ca(ca_name)
            version, state = self._state(ca_name)
            now = self._store.now()
            complete_fresh = (
                version is not None and state.complete is not None and now < state.complete.next_update
            )
            if complete_fresh and state.delta is not None and now < state.delta.next_update:
                return _pem(state.delta.der)
            state = self._resign(ca, state, settings, now, delta_only=complete_fresh)
            if self._write(ca_name, version, state) and state.delta is not None:
                return _pem(state.delta.der)
        raise ConflictError(f"the delta CRL of CA {ca_name!r} kept changing; ask again")

    # -- OCSP -------------------------------------------------------------------------------------

    def ocsp(self, request: object) -> bytes:
        if not isinstance(request, (bytes, bytearray)):
            raise InvalidType(f"an OCSP request is DER bytes, not {type(request).__name__}")
        query = responses.read_request(bytes(request))
        if query is None:
            return responses.unsuccessful(pyca_ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        ca = self._ca_named_by(query)
        if ca is None:
            return responses.unsuccessful(pyca_ocsp.OCSPResponseStatus.UNAUTHORIZED)
        now = self._store.now()
        next_update = later(now, self._store.crl_settings().ocsp_expiry, "the OCSP response's lifetime")
        return responses.build_response(
            query, self._status(ca.name, query.serial_number), ca.certificate, ca.key, now, next_update
        )

    def _ca_named_by(self, query: responses.OcspQuery) -> ActiveCa | None:
        for name in self._store.names("ca"):
            try:
                ca = self._store.active_ca(name)
            except (InvalidArgument, KeyNotFound):  # pending, or removed meanwhile
                continue
            if query.names(ca.certificate, ca.key.public_key.subject_public_key):
                return ca
        return None

    def _status(self, ca: str, serial: int) -> responses.CertificateStatus:
        try:
            _, record = self._store.cert_entry(serial)
        except KeyNotFound:
            return responses.CertificateStatus(pyca_ocsp.OCSPCertStatus.UNKNOWN)
        if record.issuer != ca:
            return responses.CertificateStatus(pyca_ocsp.OCSPCertStatus.UNKNOWN)
        when = self.revoked_at(ca, serial, record)
        if when is None:
            return responses.CertificateStatus(pyca_ocsp.OCSPCertStatus.GOOD)
        return responses.CertificateStatus(pyca_ocsp.OCSPCertStatus.REVOKED, when)

    # -- tidy ----------------------------------------------------------------------------------------

    def tidy(self, safety_buffer: datetime.timedelta) -> int:
        cutoff = self._store.now() - safety_buffer
        removed: dict[str, list[int]] = {}
        for record, cert in self._store.issued_records():
            if record.not_after < cutoff:
                try:
                    self._store.keystore.delete(self._store.path("certs", record_name(cert.serial_number)))
                except KeyNotFound:
                    continue
                removed.setdefault(record.issuer, []).append(cert.serial_number)
        for ca, serials in removed.items():
            self._forget(ca, serials)
        return sum(len(s) for s in removed.values())

    def _forget(self, ca_name: str, serials: list[int]) -> None:
        # Expired certificates need no revocation entry (RFC 5280 3.3): drop them, and re-sign the
        # CRLs that listed them, as Vault's tidy does.
        path = self._store.path("crl", ca_name)
        for _ in range(_ATTEMPTS):
            try:
                entry = self._store.keystore.get_entry(path)
            except KeyNotFound:
                return
            state, legacy = decode_state(entry.value, path)
            if legacy or all(state.find(s) is None for s in serials):
                return
            try:
                ca = self._store.active_ca(ca_name)
            except (InvalidArgument, KeyNotFound):
                return
            state = self._resign(
                ca, state.without(serials), self._store.crl_settings(), self._store.now(), delta_only=False
            )
            if self._write(ca_name, entry.version, state):
                return
