"""The transit engine: named, versioned, rotatable keys for encryption, signing and HMAC.

What users of HashiCorp Vault's transit secrets engine expect, as a library,
with post-quantum key types. See the package docstring for an example.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from secretumvault.errors import InvalidArgument, InvalidType, KeyNotFound, PolicyViolation
from secretumvault.keystore import Keystore
from secretumvault.pqc._buffers import as_bytes
from secretumvault.transit import _encryption, _signing
from secretumvault.transit._mac import check_hmac_algorithm
from secretumvault.transit._material import generate_material
from secretumvault.transit._names import DEFAULT_MOUNT, check_key_name, check_mount
from secretumvault.transit._policy import check_key_version_argument
from secretumvault.transit._record import KeyRecord, check_client_type
from secretumvault.transit._store import LoadedKey, RecordStore
from secretumvault.transit.key_types import key_type_spec

if TYPE_CHECKING:
    from secretumvault.transit.results import DataKey, ExportedKey, KeyInfo

__all__ = ["Transit"]

_DATA_KEY_BITS = (128, 256, 512)


class Transit:
    """Transit keys stored in ``keystore`` (which must be unsealed to use them).

    ``backend`` picks the post-quantum backend ("oqs", "openssl" or None for
    the configured default). Keys are cached in memory and checked against the
    store before every use (see :mod:`secretumvault.transit._store`), so several
    processes sharing one store always agree on a key's versions and policy;
    sealing the keystore drops the cache. ``cache_ttl`` > 0 skips that check for
    up to that many seconds (another process's change is then seen only after it).
    ``mount`` names where the keys live (``<mount>/keys/<name>``), so that several
    independent Transit engines can share one keystore, as Vault's mounts do.
    """

    def __init__(
        self,
        keystore: Keystore,
        *,
        backend: str | None = None,
        cache_ttl: float = 0.0,
        mount: str = DEFAULT_MOUNT,
    ) -> None:
        if not isinstance(keystore, Keystore):
            raise InvalidType(f"keystore must be a Keystore, not {type(keystore).__name__}")
        if isinstance(cache_ttl, bool) or not isinstance(cache_ttl, (int, float)):
            raise InvalidType(f"cache_ttl must be a number of seconds, not {type(cache_ttl).__name__}")
        if not (math.isfinite(cache_ttl) and cache_ttl >= 0):
            raise InvalidArgument("cache_ttl must be a finite number of seconds >= 0")
        self._backend = backend
        self._mount = check_mount(mount)
        self._store = RecordStore(keystore, backend, float(cache_ttl), self._mount)

    def __repr__(self) -> str:
        return f"Transit(mount={self._mount!r}, backend={self._backend!r})"

    # -- key lifecycle ---------------------------------------------------------------------

    def create_key(
        self,
        name: str,
        type: str = "aes256-gcm96",  # Vault's parameter name
        *,
        exportable: bool = False,
        allow_plaintext_backup: bool = False,
        client_type: Mapping[str, str] | None = None,
    ) -> KeyInfo:
        """Create key ``name`` at version 1. ConflictError if it exists.

        ``client_type`` records how a client spelled the type (e.g. ``{"type": "mldsa-65"}``, or
        Vault Enterprise's ``{"type": "ml-dsa", "parameter_set": "65"}``), so that it reads back
        as written (``KeyInfo.client_type``); keys: type, parameter_set, hybrid_key_type_pqc,
        hybrid_key_type_ec.
        """
        checked = check_key_name(name)
        spec = key_type_spec(type)
        client = check_client_type(client_type)
        record = KeyRecord.new(
            checked,
            spec,
            generate_material(spec, self._backend),
            exportable=_flag(exportable, "exportable"),
            allow_plaintext_backup=_flag(allow_plaintext_backup, "allow_plaintext_backup"),
            client_type=client,
        )
        self._store.create(record)
        return _info(record)

    def read_key(self, name: str) -> KeyInfo:
        """Metadata, policy and public keys. Never private material."""
        return _info(self._store.load(name).record)

    def has_key(self, name: str) -> bool:
        """Whether key ``name`` exists, without building its metadata (as ``read_key`` would)."""
        try:
            self._store.load(name)
        except KeyNotFound:
            return False
        return True

    def list_keys(self) -> list[str]:
        return self._store.names()

    def rotate_key(self, name: str) -> KeyInfo:
        """Add a new version and encrypt/sign with it from now on; older versions still decrypt/verify."""
        check_key_name(name)
        return _info(self._store.update(name, lambda r: r.rotated(generate_material(r.spec, self._backend))))

    def update_key_config(
        self,
        name: str,
        *,
        min_decryption_version: int | None = None,
        min_encryption_version: int | None = None,
        deletion_allowed: bool | None = None,
        exportable: bool | None = None,
        allow_plaintext_backup: bool | None = None,
    ) -> KeyInfo:
        """Change policy; arguments left as None stay as they are.

        ``min_encryption_version`` 0 means "the latest". ``exportable`` and
        ``allow_plaintext_backup`` can be turned on, never off again.
        """
        check_key_name(name)
        changes: dict[str, int | bool] = {}
        if min_decryption_version is not None:
            changes["min_decryption_version"] = _version_setting(
                min_decryption_version, "min_decryption_version", minimum=1
            )
        if min_encryption_version is not None:
            changes["min_encryption_version"] = _version_setting(
                min_encryption_version, "min_encryption_version", minimum=0
            )
        flags = {
            "deletion_allowed": deletion_allowed,
            "exportable": exportable,
            "allow_plaintext_backup": allow_plaintext_backup,
        }
        changes.update({field: _flag(value, field) for field, value in flags.items() if value is not None})
        return _info(self._store.update(name, lambda r: r.reconfigured(**changes)))

    def trim_key(self, name: str, min_available_version: int) -> KeyInfo:
        """Delete, for good, every version below ``min_available_version``.

        It may not exceed ``min_decryption_version``: only versions that can
        no longer decrypt or verify are removed.
        """
        check_key_name(name)
        minimum = _version_setting(min_available_version, "min_available_version", minimum=1)
        return _info(self._store.update(name, lambda r: r.trimmed(minimum)))

    def delete_key(self, name: str) -> None:
        """Delete the key and every version. Only if ``deletion_allowed`` was set."""
        check_key_name(name)
        self._store.delete(name, _require_deletion_allowed)

    # -- export, backup, restore -----------------------------------------------------------

    def export_key(self, name: str, kind: str, version: int | None = None) -> dict[int, ExportedKey]:
        """Key material by version. ``kind``: "encryption-key", "signing-key", "hmac-key" or
        "public-key". All but public keys need an exportable key; the result is secret.

        Every key type has an ``hmac-key`` (each version's own HMAC key, as Vault)."""
        from secretumvault.transit import _portability  # export, backup, restore: loaded when used

        checked_version = check_key_version_argument(version)
        record = self._store.load(name).record
        if kind == "hmac-key" and record.exportable and record.missing_hmac_keys():
            record = self._with_hmac_keys(name).record
        return _portability.export(record, kind, checked_version)

    def backup_key(self, name: str) -> str:
        """Every version and the policy, as a string for :meth:`restore_key`. Contains private keys."""
        from secretumvault.transit import _portability

        return _portability.backup(self._store.load(name).record)

    def restore_key(self, backup: str, *, name: str | None = None, force: bool = False) -> KeyInfo:
        """Recreate a key from :meth:`backup_key` output, under its original name or ``name``.

        ConflictError if that name exists, unless ``force`` (which replaces it). A key
        restored under another name still decrypts and verifies what the original made
        (ciphertexts stay bound to the name they were made under).
        """
        from secretumvault.transit import _portability

        new_name = None if name is None else check_key_name(name)
        replace = _flag(force, "force")
        record = _portability.restore(backup, self._backend)
        if new_name is not None and new_name != record.name:
            record = record.renamed(new_name)
        self._store.create(record, replace=replace)
        return _info(record)

    # -- encryption ------------------------------------------------------------------------

    def encrypt(
        self,
        name: str,
        plaintext: bytes,
        associated_data: bytes | None = None,
        *,
        key_version: int | None = None,
    ) -> str:
        """``vault:v<version>:<base64>``. ``associated_data`` must be given again to decrypt."""
        data = as_bytes(plaintext, "plaintext")
        ad = _encryption.check_associated_data(associated_data)
        version = check_key_version_argument(key_version)
        return _encryption.encrypt(self._store.load(name), data, ad, version)[1]

    def decrypt(self, name: str, ciphertext: str, associated_data: bytes | None = None) -> bytes:
        """The plaintext; DecryptionError if the ciphertext was altered or is not this key's."""
        ad = _encryption.check_associated_data(associated_data)
        return _encryption.decrypt(self._store.load(name), ciphertext, ad)

    def rewrap(
        self,
        name: str,
        ciphertext: str,
        associated_data: bytes | None = None,
        *,
        key_version: int | None = None,
    ) -> str:
        """Re-encrypt under the latest (or ``key_version``) version; the plaintext is never returned."""
        ad = _encryption.check_associated_data(associated_data)
        version = check_key_version_argument(key_version)
        loaded = self._store.load(name)
        plaintext = _encryption.decrypt(loaded, ciphertext, ad)
        return _encryption.encrypt(loaded, plaintext, ad, version)[1]

    def generate_data_key(
        self,
        name: str,
        *,
        bits: int = 256,
        include_plaintext: bool = True,
        associated_data: bytes | None = None,
    ) -> DataKey:
        """A fresh random data key, wrapped (encrypted) under ``name``, as Vault's ``datakey``.

        ``include_plaintext=False`` is Vault's "wrapped" form: only the
        ciphertext, to be decrypted later where the key is needed.
        """
        if isinstance(bits, bool) or not isinstance(bits, int) or bits not in _DATA_KEY_BITS:
            raise InvalidArgument(f"bits must be one of {', '.join(map(str, _DATA_KEY_BITS))}")
        wanted_plaintext = _flag(include_plaintext, "include_plaintext")
        ad = _encryption.check_associated_data(associated_data)
        import secrets  # here: it loads random (~0.7 ms), which no other command line call needs

        data_key = secrets.token_bytes(bits // 8)
        version, ciphertext = _encryption.encrypt(self._store.load(name), data_key, ad, None)
        from secretumvault.transit.results import DataKey  # results: loaded by the calls that return them

        return DataKey(ciphertext, version, data_key if wanted_plaintext else None)

    def encrypt_batch(
        self,
        name: str,
        plaintexts: Sequence[bytes],
        associated_data: Sequence[bytes | None] | None = None,
        *,
        key_version: int | None = None,
    ) -> list[str]:
        """:meth:`encrypt` for many items under one key version in one call (KEM work batched)."""
        checked = _encryption.check_items(plaintexts, "plaintexts")
        items = [as_bytes(item, f"plaintexts[{index}]") for index, item in enumerate(checked)]
        ads = self._batch_associated_data(associated_data, len(items))
        version = check_key_version_argument(key_version)
        return _encryption.encrypt_many(self._store.load(name), items, ads, version)

    def decrypt_batch(
        self,
        name: str,
        ciphertexts: Sequence[str],
        associated_data: Sequence[bytes | None] | None = None,
    ) -> list[bytes]:
        """:meth:`decrypt` for many items. All or nothing: the first bad item raises, naming its index."""
        items = _encryption.check_items(ciphertexts, "ciphertexts")
        ads = self._batch_associated_data(associated_data, len(items))
        return _encryption.decrypt_many(self._store.load(name), items, ads)

    @staticmethod
    def _batch_associated_data(values: object, count: int) -> list[bytes]:
        if values is None:
            return [b""] * count
        checked = _encryption.check_items(values, "associated_data")
        if len(checked) != count:
            raise InvalidArgument(f"associated_data has {len(checked)} items, expected {count} (one each)")
        return [_encryption.check_associated_data(value) for value in checked]

    # -- signing and HMAC ------------------------------------------------------------------

    def sign(
        self,
        name: str,
        data: bytes,
        context: bytes = b"",
        *,
        key_version: int | None = None,
        hash_algorithm: str | None = None,
        signature_algorithm: str | None = None,
        salt_length: str | int | None = None,
    ) -> str:
        """``vault:v<version>:<base64>`` signature of ``data`` (FIPS 204 ``context`` for ML-DSA keys).

        RSA keys: ``hash_algorithm`` (sha2-*/sha3-*, default sha2-256), ``signature_algorithm``
        ("pss", the default, or "pkcs1v15") and PSS ``salt_length`` ("auto", "hash" or bytes).
        As in Vault, the last two are ignored for other key types, and so is ``hash_algorithm``
        for Ed25519, ML-DSA and the hybrid.
        """
        message = as_bytes(data, "data")
        ctx = as_bytes(context, "context")
        version = check_key_version_argument(key_version)
        options = _sign_options(hash_algorithm, signature_algorithm, salt_length)
        return _signing.sign(self._store.load(name), message, ctx, version, options)

    def verify(
        self,
        name: str,
        data: bytes,
        signature: str,
        context: bytes = b"",
        *,
        hash_algorithm: str | None = None,
        signature_algorithm: str | None = None,
        salt_length: str | int | None = None,
    ) -> None:
        """Return None if ``signature`` is valid for ``data``; else raise InvalidSignature."""
        message = as_bytes(data, "data")
        ctx = as_bytes(context, "context")
        options = _sign_options(hash_algorithm, signature_algorithm, salt_length)
        _signing.verify(self._store.load(name), message, signature, ctx, options)

    def hmac(
        self, name: str, data: bytes, *, key_version: int | None = None, algorithm: str = "sha2-256"
    ) -> str:
        """``vault:v<version>:<base64>`` HMAC of ``data`` with the version's HMAC key, any key type.

        ``algorithm``: sha2-224, sha2-256 (default), sha2-384, sha2-512, sha3-224 ... sha3-512.
        A key written before versions had HMAC keys gets them, stored, at its first HMAC.
        """
        message = as_bytes(data, "data")
        version = check_key_version_argument(key_version)
        check_hmac_algorithm(algorithm)
        loaded = self._store.load(name)
        if loaded.record.missing_hmac_keys():
            loaded = self._with_hmac_keys(name)
        return _signing.compute_hmac(loaded, message, version, algorithm)

    def verify_hmac(self, name: str, data: bytes, hmac: str, *, algorithm: str = "sha2-256") -> None:
        """Return None if ``hmac`` matches ``data`` (constant-time compare); else raise InvalidSignature."""
        message = as_bytes(data, "data")
        check_hmac_algorithm(algorithm)
        _signing.verify_hmac(self._store.load(name), message, hmac, algorithm)

    def _with_hmac_keys(self, name: str) -> LoadedKey:
        """Give every version of an older record its HMAC key (stored), then the key as now stored."""
        self._store.update(name, lambda r: r.with_hmac_keys() if r.missing_hmac_keys() else r)
        return self._store.load(name)


# -- helpers ---------------------------------------------------------------------------------


def _sign_options(
    hash_algorithm: object, signature_algorithm: object, salt_length: object
) -> _signing.SignOptions:
    for value, field in ((hash_algorithm, "hash_algorithm"), (signature_algorithm, "signature_algorithm")):
        if value is not None and not isinstance(value, str):
            raise InvalidType(f"{field} must be str or None, not {type(value).__name__}")
    if salt_length is not None and (isinstance(salt_length, bool) or not isinstance(salt_length, (str, int))):
        raise InvalidType(f"salt_length must be str, int or None, not {type(salt_length).__name__}")
    return _signing.SignOptions(hash_algorithm, signature_algorithm, salt_length)  # type: ignore[arg-type]


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidType(f"{name} must be a bool, not {type(value).__name__}")
    return value


def _version_setting(value: object, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise InvalidArgument(f"{name} must be >= {minimum}", argument=name)
    return value


def _require_deletion_allowed(record: KeyRecord) -> None:
    if not record.deletion_allowed:
        raise PolicyViolation(
            f"transit key {record.name!r} does not allow deletion; set deletion_allowed=True with "
            "update_key_config() first",
            argument="deletion_allowed",
        )


def _info(record: KeyRecord) -> KeyInfo:
    # Imported here: encrypt, decrypt, sign and the rest never build these (start-up time).
    from secretumvault.transit.results import KeyInfo, KeyVersionInfo

    spec = record.spec
    return KeyInfo(
        name=record.name,
        type=spec.name,
        latest_version=record.latest_version,
        min_available_version=record.min_available_version,
        min_decryption_version=record.min_decryption_version,
        min_encryption_version=record.min_encryption_version,
        deletion_allowed=record.deletion_allowed,
        exportable=record.exportable,
        allow_plaintext_backup=record.allow_plaintext_backup,
        client_type=dict(record.client_type),
        supports_encryption=spec.supports_encryption,
        supports_decryption=spec.supports_encryption,
        supports_signing=spec.supports_signing,
        supports_hmac=spec.supports_hmac,
        versions={
            number: KeyVersionInfo(number, kv.created_at, kv.material.public_key)
            for number, kv in sorted(record.versions.items())
        },
    )
