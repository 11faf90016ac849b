"""Auto-unseal seals: the I/O side (a transit server over HTTP, an HSM over PKCS#11).

The keystore's pure layer (``keystore/autoseal.py``) only calls a
:class:`~secretumvault.keystore.seal.KeyWrapper`; the wrappers that talk to
the outside world live here, so nothing under ``keystore/`` but this package
opens a socket or loads a PKCS#11 module. :func:`seal_from_table` builds one
from a configuration's ``[seal]`` table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from secretumvault.errors import ConfigError
from secretumvault.keystore.seal import KeyWrapper

__all__ = ["configured_seals", "seal_from_table"]


def seal_from_table(table: Mapping[str, Any], source: str) -> KeyWrapper | None:
    """The seal a ``[seal]`` table configures; None for none (or ``disabled = true``)."""
    if not table or table.get("disabled", False):
        return None
    return _build(table, source)


def configured_seals(
    tables: Sequence[Mapping[str, Any]], source: str
) -> tuple[KeyWrapper | None, KeyWrapper | None]:
    """(the seal in use, the one marked ``disabled = true``) of ``Settings.seals``; either may be
    None. A disabled seal is the store's old one, still needed to open it during a migration."""
    new = old = None
    for table in tables:
        if table.get("disabled", False):
            old = _build(table, source)
        else:
            new = _build(table, source)
    return new, old


def _build(table: Mapping[str, Any], source: str) -> KeyWrapper:
    kind = table.get("type")
    if kind == "transit":
        from secretumvault.keystore.seals.transit import TransitSeal

        return TransitSeal.from_table(table, source)
    if kind == "pkcs11":
        from secretumvault.keystore.seals.pkcs11 import Pkcs11Seal

        return Pkcs11Seal.from_table(table, source)
    raise ConfigError(f'{source}: [seal] type = {kind!r} is not a seal; set type = "transit" or "pkcs11"')
