"""A transit key's stored record: its policy and the material of every available version.

One record per key at ``transit/keys/<name>`` (the keystore encrypts it and
binds it to that path). JSON, format and version tagged, never pickled::

    {"format": "secretumvault.transit.key", "version": 1,
     "name": "payments", "type": "ml-kem-768",
     "latest_version": 3, "min_available_version": 2,
     "min_decryption_version": 2, "min_encryption_version": 0,
     "deletion_allowed": false, "exportable": false, "allow_plaintext_backup": false,
     "versions": {"2": {"created_at": "2025-...Z", "material": {...}},
                  "3": {"created_at": "2025-...Z", "material": {...}}}}

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
from secretumvault.encoding import tagged_json as _json
from secretumvault.errors import CorruptRecord, InvalidArgument, PolicyViolation
from secretumvault.transit._material import Material
from secretumvault.transit._vault_string import MAX_VERSION
from secretumvault.transit.key_types import KEY_TYPES, KeyTypeSpec

__all__ = ["KeyRecord", "KeyVersion"]

_FORMAT = "secretumvault.transit.key"
_FORMAT_VERSION = 1


# Plain classes: the command line imports this module and @dataclass costs ~0.3 ms per class at
# start-up (issue 15).
class KeyVersion(Frozen):
    __slots__ = _fields = ("created_at", "material")
    created_at: str  # ISO 8601, UTC
    material: Material

    def __init__(self, created_at: str, material: Material) -> None:
        set_field(self, "created_at", created_at)
        set_field(self, "material", material)

    def to_dict(self) -> dict[str, Any]:
        return {"created_at": self.created_at, "material": self.material.to_dict()}

    @classmethod
    def from_dict(cls, obj: object, spec: KeyTypeSpec) -> KeyVersion:
        if not isinstance(obj, dict):
            raise _json.FormatError("a key version is not an object")
        return cls(_json.require(obj, "created_at", str), Material.from_dict(obj.get("material"), spec))


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
        problem = self._invariant_problem()
        if problem is not None:
            raise InvalidArgument(f"transit key {self.name!r}: {problem}")

    def _invariant_problem(self) -> str | None:
        if not 1 <= self.min_available_version <= self.min_decryption_version <= self.latest_version:
            return (
                f"min_decryption_version ({self.min_decryption_version}) must be between "
                f"min_available_version ({self.min_available_version}) and the latest version "
                f"({self.latest_version})"
            )
        if self.min_encryption_version != 0 and not (
            self.min_decryption_version <= self.min_encryption_version <= self.latest_version
        ):
            return (
                f"min_encryption_version ({self.min_encryption_version}) must be 0 (the latest) or between "
                f"min_decryption_version ({self.min_decryption_version}) and the latest version "
                f"({self.latest_version})"
            )
        if self.latest_version > MAX_VERSION:
            return f"it cannot have more than {MAX_VERSION} versions"
        if set(self.versions) != set(range(self.min_available_version, self.latest_version + 1)):
            return "stored versions do not match min_available_version .. latest_version"
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
            versions={1: KeyVersion(_now(), material)},
        )

    def rotated(self, material: Material) -> KeyRecord:
        version = self.latest_version + 1
        versions = {**self.versions, version: KeyVersion(_now(), material)}
        return self.replace(latest_version=version, versions=versions)

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
        return {
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
        )


def _version_number(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or text.startswith("0") or len(text) > 10:
        raise _json.FormatError("a version number is not a canonical positive integer")
    return int(text)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
