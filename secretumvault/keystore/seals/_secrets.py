"""A seal's secret (transit token, HSM PIN): given inline, in a file, or in an environment variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from secretumvault.errors import ConfigError

__all__ = ["read_secret"]


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
