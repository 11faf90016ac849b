"""A transit mount: Vault's transit API over :class:`secretumvault.transit.Transit`.

Keys: create, read, list, delete, config, rotate, trim, export, backup,
restore. Operations (``transit_ops``): encrypt, decrypt, rewrap, datakey,
sign, verify, hmac, random, hash. Plaintexts, inputs, contexts and
associated data are base64, as in Vault.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

from secretumvault.errors import ConflictError
from secretumvault.server.envelope import Reply, list_reply
from secretumvault.server.errors import bad_request
from secretumvault.server.routes import transit_ops as ops
from secretumvault.server.routes.key_types import transit_key_type_spelled
from secretumvault.server.routing import Call, Router, name_pattern
from secretumvault.transit import KeyInfo, Transit

__all__ = ["key_data", "router"]

_EXPORT_KINDS = ("encryption-key", "signing-key", "hmac-key", "public-key")


def _epoch(iso: str) -> int:
    try:
        return int(datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def key_data(info: KeyInfo) -> dict[str, Any]:
    """A key as Vault's ``GET transit/keys/<name>`` shows it. Never private material.

    ``type`` (and Vault Enterprise's ``parameter_set`` and hybrid fields) read back as the
    client spelled them at creation, so declarative tools see no drift.
    """
    keys: dict[str, Any] = {}
    rsa = info.type.startswith("rsa-")
    for number, version in info.versions.items():
        if version.public_key is None:
            keys[str(number)] = _epoch(version.created_at)
        else:
            keys[str(number)] = {
                "name": info.type,
                "public_key": _rsa_pem(version.public_key)
                if rsa
                else base64.b64encode(version.public_key).decode("ascii"),
                "creation_time": version.created_at,
                "certificate_chain": "",
            }
    spelled = dict(info.client_type)
    return {
        "name": info.name,
        **spelled,
        "type": spelled.get("type", info.type),
        "keys": keys,
        "latest_version": info.latest_version,
        "min_available_version": info.min_available_version,
        "min_decryption_version": info.min_decryption_version,
        "min_encryption_version": info.min_encryption_version,
        "deletion_allowed": info.deletion_allowed,
        "exportable": info.exportable,
        "allow_plaintext_backup": info.allow_plaintext_backup,
        "supports_encryption": info.supports_encryption,
        "supports_decryption": info.supports_decryption,
        "supports_signing": info.supports_signing,
        "supports_hmac": info.supports_hmac,
        "supports_derivation": False,
        "derived": False,
        "auto_rotate_period": 0,
        "imported_key": False,
    }


def _rsa_pem(public_der: bytes) -> str:
    from secretumvault.transit._rsa import public_pem  # RSA keys only: pyca's RSA loads with it

    return public_pem(public_der)


def _engine(call: Call) -> Transit:
    engine: Transit = call.engine
    return engine


def create_key(call: Call) -> Reply:
    ops.refuse_unsupported(call)
    p = call.params
    name = call.group("name")
    key_type, spelled = transit_key_type_spelled(p, ops.default_key_type(call))
    try:
        info = _engine(call).create_key(
            name,
            type=key_type,
            exportable=p.boolean("exportable"),
            allow_plaintext_backup=p.boolean("allow_plaintext_backup"),
            client_type=spelled,
        )
    except ConflictError:  # Vault: creating an existing key is not an error
        return Reply(data=key_data(_engine(call).read_key(name)), warnings=[f"key {name} already existed"])
    return Reply(data=key_data(info))


def read_key(call: Call) -> Reply:
    return Reply(data=key_data(_engine(call).read_key(call.group("name"))))


def list_keys(call: Call) -> Reply:
    return list_reply(_engine(call).list_keys())


def delete_key(call: Call) -> Reply:
    _engine(call).delete_key(call.group("name"))
    return Reply()


def configure_key(call: Call) -> Reply:
    p = call.params
    if p.duration("auto_rotate_period", 0):
        raise bad_request("auto_rotate_period is not supported by this server")
    info = _engine(call).update_key_config(
        call.group("name"),
        min_decryption_version=p.optional_integer("min_decryption_version"),
        min_encryption_version=p.optional_integer("min_encryption_version"),
        deletion_allowed=p.optional_boolean("deletion_allowed"),
        exportable=p.optional_boolean("exportable"),
        allow_plaintext_backup=p.optional_boolean("allow_plaintext_backup"),
    )
    return Reply(data=key_data(info))


def rotate_key(call: Call) -> Reply:
    return Reply(data=key_data(_engine(call).rotate_key(call.group("name"))))


def trim_key(call: Call) -> Reply:
    if "min_available_version" not in call.params:
        raise bad_request("missing min_available_version")
    minimum = call.params.integer("min_available_version")
    return Reply(data=key_data(_engine(call).trim_key(call.group("name"), minimum)))


def export_key(call: Call) -> Reply:
    kind = call.group("kind")
    if kind not in _EXPORT_KINDS:
        raise bad_request(f"invalid export type {kind!r}; use one of {', '.join(_EXPORT_KINDS)}")
    version_text = call.groups.get("version")
    engine = _engine(call)
    name = call.group("name")
    version: int | None = None
    if version_text is not None:
        if version_text == "latest":
            version = engine.read_key(name).latest_version
        elif version_text.isdigit() and len(version_text) <= 10:
            version = int(version_text)
        else:
            raise bad_request("version must be a number or 'latest'")
    exported = engine.export_key(name, kind, version)
    info = engine.read_key(name)
    return Reply(
        data={
            "name": name,
            "type": info.type,
            "keys": {str(n): _exported_text(e.encoding, e.key) for n, e in exported.items()},
        }
    )


def _exported_text(encoding: str, key: bytes) -> str:
    # RSA keys export as PEM text, as Vault's; every other key as base64 of its bytes.
    return key.decode("ascii") if encoding.startswith("pem-") else base64.b64encode(key).decode("ascii")


def backup_key(call: Call) -> Reply:
    return Reply(data={"backup": _engine(call).backup_key(call.group("name"))})


def restore_key(call: Call) -> Reply:
    """Vault's restore: under the backup's name, or the one in the URL (or ``name``) if given."""
    p = call.params
    backup = p.string("backup")
    if not backup:
        raise bad_request("'backup' must be supplied")  # Vault's words
    wanted = call.groups.get("name") or p.string("name") or None
    _engine(call).restore_key(backup, name=wanted, force=p.boolean("force"))
    return Reply()


def key_exists(call: Call) -> bool:
    return _engine(call).has_key(call.group("name"))


router = Router()
_NAME = name_pattern("name")
router.add("keys/?", {"list": list_keys})
router.add(f"keys/{_NAME}", {"read": read_key, "update": create_key, "delete": delete_key})
router.add(f"keys/{_NAME}/config", {"update": configure_key})
router.add(f"keys/{_NAME}/rotate", {"update": rotate_key})
router.add(f"keys/{_NAME}/trim", {"update": trim_key})
router.add(f"export/(?P<kind>[^/]+)/{_NAME}(?:/(?P<version>[^/]+))?", {"read": export_key})
router.add(f"backup/{_NAME}", {"read": backup_key})
router.add(f"restore(?:/{_NAME})?", {"update": restore_key})
router.add(f"encrypt/{_NAME}", {"update": ops.encrypt}, inline=True, exists=key_exists)
router.add(f"decrypt/{_NAME}", {"update": ops.decrypt}, inline=True)
router.add(f"rewrap/{_NAME}", {"update": ops.rewrap}, inline=True)
router.add(f"datakey/(?P<kind>plaintext|wrapped)/{_NAME}", {"update": ops.datakey}, inline=True)
router.add(f"sign/{_NAME}(?:/(?P<algorithm>[^/]+))?", {"update": ops.sign})
router.add(f"verify/{_NAME}(?:/(?P<algorithm>[^/]+))?", {"update": ops.verify})
router.add(f"hmac/{_NAME}(?:/(?P<algorithm>[^/]+))?", {"update": ops.hmac}, inline=True)
router.add(
    "random(?:/(?P<source>platform|seal|all))?(?:/(?P<bytes>[0-9]+))?", {"update": ops.random}, inline=True
)
router.add("hash(?:/(?P<algorithm>[^/]+))?", {"update": ops.hash_data}, inline=True)
