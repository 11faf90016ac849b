"""Auto-unseal seals: the I/O side (a transit server over HTTP, an HSM over PKCS#11).

The keystore's pure layer (``keystore/autoseal.py``) only calls a
:class:`~secretumvault.keystore.seal.KeyWrapper`; the wrappers that talk to
the outside world live here, so nothing under ``keystore/`` but this package
opens a socket or loads a PKCS#11 module. :func:`seal_from_table` builds one
from a configuration's ``[seal]`` table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from secretumvault.errors import ConfigError
from secretumvault.keystore.seal import KeyWrapper

__all__ = ["read_secret", "seal_from_table"]


def read_secret(table: Mapping[str, Any], key: str, file_key: str, env: str, source: str) -> str:
    """A secret given inline, in a file, or in an environment variable (in that order)."""
    given = [name for name in (key, file_key) if name in table]
    if len(given) > 1:
        raise ConfigError(f"{source}: [seal] give {key} or {file_key}, not both")
    if key in table:
        value = str(table[key])
    elif file_key in table:
        try:
            with open(table[file_key], encoding="utf-8") as file:
                value = file.read().strip()
        except OSError as exc:
            raise ConfigError(
                f"{source}: [seal] {file_key} {table[file_key]!r} cannot be read: {exc.strerror or exc}"
            ) from None
    else:
        value = os.environ.get(env, "")
    if not value:
        raise ConfigError(f"{source}: [seal] needs {key}, {file_key} or the {env} environment variable")
    return value


def seal_from_table(table: Mapping[str, Any], source: str) -> KeyWrapper | None:
    """The seal a ``[seal]`` table configures; None for none (or ``disabled = true``)."""
    if not table or table.get("disabled", False):
        return None
    kind = table.get("type")
    if kind == "transit":
        from secretumvault.keystore.seals.transit import TransitSeal

        return TransitSeal.from_table(table, source)
    if kind == "pkcs11":
        from secretumvault.keystore.seals.pkcs11 import Pkcs11Seal

        return Pkcs11Seal.from_table(table, source)
    raise ConfigError(f'{source}: [seal] type = {kind!r} is not a seal; set type = "transit" or "pkcs11"')
