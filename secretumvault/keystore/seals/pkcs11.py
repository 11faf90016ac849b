"""The PKCS#11 seal: the KEK wrapped by an AES key that never leaves an HSM (SoftHSM2 in the tests).

Through python-pkcs11 (the ``pkcs11`` extra). AES-GCM with a random 96-bit IV
and the associated data as GCM's AAD; where the token has no GCM,
``mechanism = "aes-kwp"`` (RFC 5649 key wrap with padding), whose input is
SHA-256(associated data) || KEK, checked on the way back. A blob starts with one
byte naming its mechanism. A session is opened per call and closed after, so
an HSM that restarts is simply found again at the next attempt.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from secretumvault.errors import ConfigError, SealUnavailable, UnsealError
from secretumvault.keystore.seals._shared import bind_purpose, check_table, unbind_purpose

__all__ = ["Pkcs11Seal"]

_GCM, _KWP = 0x01, 0x02
_MECHANISMS = {"aes-gcm": _GCM, "aes-kwp": _KWP}
_IV_SIZE = 12
_KEYS = ("lib", "slot", "token_label", "pin", "pin_file", "key_label", "mechanism", "generate_key")
_LOAD_LOCK = threading.Lock()  # python-pkcs11 keeps one loaded module per path, made on first use


class Pkcs11Seal:
    """A :class:`~secretumvault.keystore.seal.KeyWrapper` over an HSM's AES key. The PIN never
    appears in repr or in an error."""

    seal_type = "pkcs11"

    def __init__(
        self,
        lib: str,
        pin: str,
        key_label: str,
        *,
        slot: int | None = None,
        token_label: str | None = None,
        mechanism: str = "aes-gcm",
        generate_key: bool = False,
    ) -> None:
        if (slot is None) == (token_label is None):
            raise ConfigError('[seal] type = "pkcs11" needs slot or token_label (one of them)')
        if mechanism not in _MECHANISMS:
            raise ConfigError(f"[seal] mechanism must be one of {', '.join(map(repr, _MECHANISMS))}")
        if not key_label:
            raise ConfigError("[seal] key_label must name the AES key")
        self._lib_path = lib
        self._pin = pin
        self._key_label = key_label
        self._slot = slot
        self._token_label = token_label
        self._mechanism = _MECHANISMS[mechanism]
        self._generate = generate_key

    @classmethod
    def from_table(cls, table: Mapping[str, Any], source: str) -> Pkcs11Seal:
        from secretumvault.keystore.seals._secrets import read_secret

        check_table(table, "pkcs11", _KEYS, ("lib", "key_label"), source)
        return cls(
            table["lib"],
            read_secret(table, "pin", "pin_file", "SECRETUMVAULT_PKCS11_PIN", source),
            table["key_label"],
            slot=table.get("slot"),
            token_label=table.get("token_label"),
            mechanism=table.get("mechanism", "aes-gcm"),
            generate_key=bool(table.get("generate_key", False)),
        )

    def __repr__(self) -> str:
        return f"Pkcs11Seal(lib={self._lib_path!r}, key_id={self.key_id!r}, pin=<hidden>)"

    @property
    def key_id(self) -> str:
        where = self._token_label if self._token_label is not None else f"slot {self._slot}"
        return f"{where}/{self._key_label}"

    def wrap(self, plaintext: bytes, associated_data: bytes) -> bytes:
        from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
        from pkcs11.mechanisms import GCMParams

        with self._session(create=self._generate) as (_session, key):
            if self._mechanism == _GCM:
                iv = os.urandom(_IV_SIZE)
                sealed = key.encrypt(
                    plaintext,
                    mechanism=Mechanism.AES_GCM,
                    mechanism_param=GCMParams(iv, associated_data, 128),
                )
                return bytes([_GCM]) + iv + bytes(sealed)
            # SoftHSM2 (like many tokens) offers key wrap only through C_WrapKey: the data goes in as a
            # short-lived session object, which the session's close destroys.
            data = bind_purpose(plaintext, associated_data)
            carrier = _session.create_object(
                {
                    Attribute.CLASS: ObjectClass.SECRET_KEY,
                    Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
                    Attribute.VALUE: data,
                    Attribute.TOKEN: False,
                    Attribute.SENSITIVE: False,
                    Attribute.EXTRACTABLE: True,
                }
            )
            try:
                return bytes([_KWP]) + bytes(key.wrap_key(carrier, mechanism=Mechanism.AES_KEY_WRAP_PAD))
            finally:
                carrier.destroy()

    def unwrap(self, blob: bytes, associated_data: bytes) -> bytes:
        from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass, PKCS11Error
        from pkcs11.mechanisms import GCMParams

        if not blob or blob[0] not in (_GCM, _KWP):
            raise UnsealError("the PKCS#11 seal's wrapped key has an unknown format; still sealed")
        with self._session(create=False) as (_session, key):
            try:
                if blob[0] == _GCM:
                    iv, sealed = blob[1 : 1 + _IV_SIZE], blob[1 + _IV_SIZE :]
                    return bytes(
                        key.decrypt(
                            sealed,
                            mechanism=Mechanism.AES_GCM,
                            mechanism_param=GCMParams(iv, associated_data, 128),
                        )
                    )
                carrier = key.unwrap_key(
                    ObjectClass.SECRET_KEY,
                    KeyType.GENERIC_SECRET,
                    blob[1:],
                    mechanism=Mechanism.AES_KEY_WRAP_PAD,
                    store=False,
                    template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
                )
                try:
                    data = bytes(carrier[Attribute.VALUE])
                finally:
                    carrier.destroy()
            except PKCS11Error as exc:
                raise UnsealError(
                    f"the HSM refused to unwrap with {self.key_id!r} ({type(exc).__name__}): another "
                    "key, or the wrapped key was altered; still sealed"
                ) from None
        return unbind_purpose(data, associated_data, "the PKCS#11 seal")

    def _session(self, *, create: bool) -> Any:
        return _Session(self, create)

    def _open(self, create: bool) -> tuple[Any, Any]:
        import pkcs11
        from pkcs11 import Attribute, KeyType, ObjectClass

        where = f"PKCS#11 seal {self._lib_path} ({self.key_id})"
        try:
            with _LOAD_LOCK:
                lib = pkcs11.lib(self._lib_path)
            if self._token_label is not None:
                token = lib.get_token(token_label=self._token_label)
            else:
                slots = [s for s in lib.get_slots(token_present=True) if s.slot_id == self._slot]
                if not slots:
                    raise SealUnavailable(f"{where}: no token in slot {self._slot}")
                token = slots[0].get_token()
            session = token.open(user_pin=self._pin, rw=create)
        except SealUnavailable:
            raise
        except pkcs11.PinIncorrect:
            raise UnsealError(f"{where}: the PIN was refused") from None
        except (pkcs11.PKCS11Error, OSError, RuntimeError) as exc:  # no module, no token, device gone
            raise SealUnavailable(f"{where} cannot be used: {type(exc).__name__} {exc}".rstrip()) from None
        try:
            try:
                key = session.get_key(
                    object_class=ObjectClass.SECRET_KEY, key_type=KeyType.AES, label=self._key_label
                )
            except pkcs11.NoSuchKey:
                if not create:
                    raise UnsealError(
                        f"{where}: the token has no AES key labelled {self._key_label!r}"
                    ) from None
                key = session.generate_key(
                    KeyType.AES,
                    256,
                    label=self._key_label,
                    store=True,
                    template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
                )
            except pkcs11.MultipleObjectsReturned:
                raise UnsealError(f"{where}: several AES keys are labelled {self._key_label!r}") from None
        except BaseException:
            session.close()
            raise
        return session, key


class _Session:
    def __init__(self, seal: Pkcs11Seal, create: bool) -> None:
        self._seal, self._create = seal, create
        self._session: Any = None

    def __enter__(self) -> tuple[Any, Any]:
        self._session, key = self._seal._open(self._create)
        return self._session, key

    def __exit__(self, *exc: object) -> None:
        self._session.close()
