"""A transit key's stored record: its policy and the material of every available version.

One record per key at ``transit/keys/<name>`` (the keystore encrypts it and
binds it to that path). JSON, format and version tagged, never pickled::

    {"format": "secretumvault.transit.key", "version": 1,
     "name": "payments", "type": "ml-kem-768",
     "latest_version": 3, "min_available_version": 2,
     "min_decryption_version": 2, "min_encryption_version": 0,
     "deletion_allowed": false, "exportable": false, "allow_plaintext_backup": false,
     "versions": {"2": {"created_at": "2025-...Z", "material": {...}, "hmac_key": "<base64>"},
                  "3": {"created_at": "2025-...Z", "material": {...}, "hmac_key": "<base64>"}},
     "client_type": {"type": "mldsa-65"},   # optional: the type as the client spelled it
     "bound_name": "payments"}              # optional: set when restored under another name

``hmac_key`` (each version's own, as Vault's) is absent for ``hmac`` keys and in
records written before versions had one; such records read unchanged.

Invariants (checked when a record is made and when one is read)::

    1 <= min_available_version <= min_decryption_version <= latest_version
    min_encryption_version == 0 (the latest) or min_decryption_version <= it <= latest_version
    versions holds exactly min_available_version .. latest_version

A record never changes in place: every change makes a new record, which the
caller writes with a compare-and-set.
"""

from __future__ import annotations

import datetime
import types
from collections.abc import Mapping
from typing import Any

from secretumvault._frozen import Frozen, set_field
from secretumvault._words import with_article
from secretumvault.encoding import tagged_json as _json
from secretumvault.errors import CorruptRecord, InvalidArgument, PolicyViolation
from secretumvault.transit._material import SYMMETRIC_KEY_SIZE, Material, generate_hmac_key
from secretumvault.transit._vault_string import MAX_VERSION
from secretumvault.transit.key_types import KEY_TYPES, KeyTypeSpec, Purpose

__all__ = ["CLIENT_TYPE_FIELDS", "KeyRecord", "KeyVersion", "check_client_type"]

_FORMAT = "secretumvault.transit.key"
_FORMAT_VERSION = 1


class KeyVersion(Frozen):
    __slots__ = _fields = ("created_at", "material", "hmac_key")
    _secret_fields = ("hmac_key",)
    created_at: str  # ISO 8601, UTC
    material: Material
    hmac_key: bytes | None  # the version's own HMAC key (None: an hmac key, or a record from before)

    def __init__(self, created_at: str, material: Material, hmac_key: bytes | None = None) -> None:
        set_field(self, "created_at", created_at)
        set_field(self, "material", material)
        set_field(self, "hmac_key", hmac_key)

    def to_dict(self) -> dict[str, Any]:
        out = {"created_at": self.created_at, "material": self.material.to_dict()}
        if self.hmac_key is not None:  # absent in records written before versions had one
            out["hmac_key"] = _json.b64encode(self.hmac_key)
        return out

    @classmethod
    def from_dict(cls, obj: object, spec: KeyTypeSpec) -> KeyVersion:
        if not isinstance(obj, dict):
            raise _json.FormatError("a key version is not an object")
        hmac_text = obj.get("hmac_key")
        hmac_key = None
        if hmac_text is not None:
            if not isinstance(hmac_text, str):
                raise _json.FormatError("a version's hmac_key is not a string")
            hmac_key = _json.b64decode(hmac_text)
            if len(hmac_key) != SYMMETRIC_KEY_SIZE or spec.purpose is Purpose.HMAC:
                raise _json.FormatError(
                    f"{with_article(spec.name)} key version has no {len(hmac_key)}-byte hmac_key"
                )
        return cls(
            _json.require(obj, "created_at", str), Material.from_dict(obj.get("material"), spec), hmac_key
        )


#: The fields of ``client_type``: how the client spelled the key type (Vault Enterprise, OpenBao).
CLIENT_TYPE_FIELDS = frozenset({"type", "parameter_set", "hybrid_key_type_pqc", "hybrid_key_type_ec"})


def check_client_type(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgument("client_type must be a mapping of str to str")
    checked: dict[str, str] = {}
    for key, text in value.items():
        if key not in CLIENT_TYPE_FIELDS:
            raise InvalidArgument(f"client_type may hold only {', '.join(sorted(CLIENT_TYPE_FIELDS))}")
        if not isinstance(text, str) or not 0 < len(text) <= 64 or not text.isprintable():
            raise InvalidArgument(f"client_type {key} must be 1 to 64 printable characters")
        checked[key] = text
    return checked


class KeyRecord(Frozen):
    __slots__ = _fields = (
        "name",
        "spec",
        "latest_version",
        "min_available_version",
        "min_decryption_version",
        "min_encryption_version",
        "deletion_allowed",
        "exportable",
        "allow_plaintext_backup",
        "versions",
        "client_type",
        "bound_name",
    )
    name: str
    spec: KeyTypeSpec
    latest_version: int
    min_available_version: int
    min_decryption_version: int
    min_encryption_version: int
    deletion_allowed: bool
    exportable: bool
    allow_plaintext_backup: bool
    versions: Mapping[int, KeyVersion]
    client_type: Mapping[str, str]  # the type as the client spelled it, read back as written
    bound_name: str  # the name ciphertexts are bound to: the key's own, or the one it was backed up under

    def __init__(
        self,
        name: str,
        spec: KeyTypeSpec,
        latest_version: int,
        min_available_version: int,
        min_decryption_version: int,
        min_encryption_version: int,
        deletion_allowed: bool,
        exportable: bool,
        allow_plaintext_backup: bool,
        versions: Mapping[int, KeyVersion],
        client_type: Mapping[str, str] | None = None,
        bound_name: str | None = None,
    ) -> None:
        set_field(self, "name", name)
        set_field(self, "spec", spec)
        set_field(self, "latest_version", latest_version)
        set_field(self, "min_available_version", min_available_version)
        set_field(self, "min_decryption_version", min_decryption_version)
        set_field(self, "min_encryption_version", min_encryption_version)
        set_field(self, "deletion_allowed", deletion_allowed)
        set_field(self, "exportable", exportable)
        set_field(self, "allow_plaintext_backup", allow_plaintext_backup)
        set_field(self, "versions", types.MappingProxyType(dict(versions)))
        set_field(self, "client_type", types.MappingProxyType(check_client_type(client_type)))
        set_field(self, "bound_name", name if bound_name is None else bound_name)
        problem = self._invariant_problem()
        if problem is not None:
            field, text = problem
            raise InvalidArgument(f"transit key {self.name!r}: {text}", argument=field)

    def _invariant_problem(self) -> tuple[str, str] | None:
        """The field at fault and what is wrong with it, or None."""
        if not 1 <= self.min_available_version <= self.min_decryption_version <= self.latest_version:
            return "min_decryption_version", (
                f"min_decryption_version ({self.min_decryption_version}) must be between "
                f"min_available_version ({self.min_available_version}) and the latest version "
                f"({self.latest_version})"
            )
        if self.min_encryption_version != 0 and not (
            self.min_decryption_version <= self.min_encryption_version <= self.latest_version
        ):
            return "min_encryption_version", (
                f"min_encryption_version ({self.min_encryption_version}) must be 0 (the latest) or between "
                f"min_decryption_version ({self.min_decryption_version}) and the latest version "
                f"({self.latest_version})"
            )
        if self.latest_version > MAX_VERSION:
            return "versions", f"it cannot have more than {MAX_VERSION} versions"
        if set(self.versions) != set(range(self.min_available_version, self.latest_version + 1)):
            return "versions", "stored versions do not match min_available_version .. latest_version"
        return None

    # -- construction and changes ----------------------------------------------------------

    @classmethod
    def new(
        cls,
        name: str,
        spec: KeyTypeSpec,
        material: Material,
        *,
        exportable: bool,
        allow_plaintext_backup: bool,
        client_type: Mapping[str, str] | None = None,
    ) -> KeyRecord:
        return cls(
            name=name,
            spec=spec,
            latest_version=1,
            min_available_version=1,
            min_decryption_version=1,
            min_encryption_version=0,
            deletion_allowed=False,
            exportable=exportable,
            allow_plaintext_backup=allow_plaintext_backup,
            versions={1: KeyVersion(_now(), material, generate_hmac_key(spec))},
            client_type=client_type,
        )

    def rotated(self, material: Material) -> KeyRecord:
        version = self.latest_version + 1
        versions = {**self.versions, version: KeyVersion(_now(), material, generate_hmac_key(self.spec))}
        return self.replace(latest_version=version, versions=versions)

    def missing_hmac_keys(self) -> bool:
        """Whether some version (of a record written before versions had them) lacks an HMAC key."""
        if self.spec.purpose is Purpose.HMAC:
            return False
        return any(kv.hmac_key is None for kv in self.versions.values())

    def with_hmac_keys(self) -> KeyRecord:
        """A copy in which every version has an HMAC key: those that had one keep it."""
        versions = {
            number: kv if kv.hmac_key is not None else kv.replace(hmac_key=generate_hmac_key(self.spec))
            for number, kv in self.versions.items()
        }
        return self.replace(versions=versions)

    def renamed(self, name: str) -> KeyRecord:
        """The same key under another name (restore): its ciphertexts stay bound to the original name."""
        return self.replace(name=name, bound_name=self.bound_name)

    def reconfigured(self, **changes: Any) -> KeyRecord:
        """A copy with policy fields changed; InvalidArgument if the result breaks an invariant."""
        if self.exportable and changes.get("exportable") is False:
            raise PolicyViolation(f"transit key {self.name!r} was made exportable; that cannot be undone")
        if self.allow_plaintext_backup and changes.get("allow_plaintext_backup") is False:
            raise PolicyViolation(f"transit key {self.name!r} allows plaintext backup; that cannot be undone")
        return self.replace(**changes)

    def trimmed(self, min_available_version: int) -> KeyRecord:
        """Drop every version below ``min_available_version``, for good."""
        if min_available_version < self.min_available_version:
            raise PolicyViolation(
                f"transit key {self.name!r}: versions below {self.min_available_version} are already "
                "trimmed and cannot come back"
            )
        # Versions at or above min_decryption_version are still readable, so they stay.
        if min_available_version > self.min_decryption_version:
            raise InvalidArgument(
                f"transit key {self.name!r}: min_available_version ({min_available_version}) cannot exceed "
                f"min_decryption_version ({self.min_decryption_version}); raise that first"
            )
        versions = {v: kv for v, kv in self.versions.items() if v >= min_available_version}
        return self.replace(min_available_version=min_available_version, versions=versions)

    # -- encoding --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "name": self.name,
            "type": self.spec.name,
            "latest_version": self.latest_version,
            "min_available_version": self.min_available_version,
            "min_decryption_version": self.min_decryption_version,
            "min_encryption_version": self.min_encryption_version,
            "deletion_allowed": self.deletion_allowed,
            "exportable": self.exportable,
            "allow_plaintext_backup": self.allow_plaintext_backup,
            "versions": {str(v): kv.to_dict() for v, kv in sorted(self.versions.items())},
        }
        # Optional fields, present only when set: records without them read as before.
        if self.client_type:
            out["client_type"] = dict(self.client_type)
        if self.bound_name != self.name:
            out["bound_name"] = self.bound_name
        return out

    def encode(self) -> bytes:
        return _json.dumps(self.to_dict())

    @classmethod
    def decode(cls, data: bytes, *, where: str) -> KeyRecord:
        """Parse a stored record; CorruptRecord (naming ``where``) if it is not a valid one."""
        try:
            return cls.from_dict(_json.loads(data, _FORMAT, _FORMAT_VERSION))
        except (_json.FormatError, InvalidArgument) as exc:
            raise CorruptRecord(f"{where} is not a valid transit key record: {exc}") from None
        except ValueError:  # e.g. an integer of more digits than Python converts
            raise CorruptRecord(
                f"{where} is not a valid transit key record: a number is out of range"
            ) from None

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> KeyRecord:
        """Raises ``_json.FormatError`` or InvalidArgument; callers map them."""
        _json.check_tags(obj, _FORMAT, _FORMAT_VERSION)
        type_name = _json.require(obj, "type", str)
        spec = KEY_TYPES.get(type_name)
        if spec is None:
            raise _json.FormatError(f"unknown key type {type_name!r}")
        raw_versions = _json.require(obj, "versions", dict)
        versions = {
            _version_number(key): KeyVersion.from_dict(value, spec) for key, value in raw_versions.items()
        }
        return cls(
            name=_json.require(obj, "name", str),
            spec=spec,
            latest_version=_json.require(obj, "latest_version", int),
            min_available_version=_json.require(obj, "min_available_version", int),
            min_decryption_version=_json.require(obj, "min_decryption_version", int),
            min_encryption_version=_json.require(obj, "min_encryption_version", int),
            deletion_allowed=_json.require(obj, "deletion_allowed", bool),
            exportable=_json.require(obj, "exportable", bool),
            allow_plaintext_backup=_json.require(obj, "allow_plaintext_backup", bool),
            versions=versions,
            client_type=_optional(obj, "client_type", dict),
            bound_name=_optional(obj, "bound_name", str),
        )


def _optional(obj: dict[str, Any], key: str, kind: type) -> Any:
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        raise _json.FormatError(f"{key} is not a {kind.__name__}")
    return value


def _version_number(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or text.startswith("0") or len(text) > 10:
        raise _json.FormatError("a version number is not a canonical positive integer")
    return int(text)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
