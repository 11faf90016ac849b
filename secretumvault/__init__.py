"""SecretumVault: NIST post-quantum cryptography and Vault-style secrets engines.

Submodules load on first use (``secretumvault.pqc``, ``secretumvault.hybrid``,
...), so ``import secretumvault`` stays cheap.
"""

from __future__ import annotations

import importlib

from secretumvault import errors

# typing costs milliseconds to import; the package import must stay cheap.
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

    from secretumvault import pqc

__version__ = "0.1.0"

__all__ = ["__version__", "config", "errors", "hybrid", "keystore", "pki", "pqc", "transit"]

_LAZY = {"pqc", "hybrid", "keystore", "transit", "pki", "config", "backends", "algorithms", "keytypes"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
