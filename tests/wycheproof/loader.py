"""Load Wycheproof vector files as pytest parameters: one case per parameter."""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# tests/vectors in the repository, unless SECRETUMVAULT_VECTORS points elsewhere.
VECTORS = Path(os.environ.get("SECRETUMVAULT_VECTORS", Path(__file__).resolve().parents[1] / "vectors"))
WYCHEPROOF = VECTORS / "wycheproof"


@dataclass(frozen=True)
class Case:
    file: str
    group: dict[str, Any]
    test: dict[str, Any]

    @property
    def valid(self) -> bool:
        result: str = self.test["result"]
        return result == "valid"

    @property
    def invalid(self) -> bool:
        result: str = self.test["result"]
        return result == "invalid"

    def hex(self, key: str, *, group: bool = False) -> bytes | None:
        source = self.group if group else self.test
        value = source.get(key)
        return None if value is None else bytes.fromhex(value)

    @property
    def flags(self) -> list[str]:
        return list(self.test.get("flags", []))


@dataclass(frozen=True)
class MissingVectorFile:
    """Stands in for the cases of a vector file that is not there (see conftest.py)."""

    path: Path


def load(name: str) -> dict[str, Any] | None:
    """The parsed file ``name`` (``.json`` or ``.json.gz``), or None when neither exists."""
    parsed: dict[str, Any]
    plain = WYCHEPROOF / name
    if plain.exists():
        parsed = json.loads(plain.read_bytes())
        return parsed
    packed = plain.with_name(plain.name + ".gz")
    if packed.exists():
        parsed = json.loads(gzip.decompress(packed.read_bytes()))
        return parsed
    return None


def cases(*files: str) -> list[Any]:
    """pytest.param per test case of each file, with ids "file:tcId".

    A missing file becomes one parameter that fails naming the file: a silent
    skip would pass CI untested, and a collection error would hide every
    other test.
    """
    params = []
    for name in files:
        data = load(name)
        if data is None:
            missing = MissingVectorFile(WYCHEPROOF / name)
            params.append(pytest.param(missing, id=f"{name.removesuffix('.json')}:missing"))
            continue
        for group in data["testGroups"]:
            for test in group["tests"]:
                case_id = f"{name.removesuffix('.json')}:{test['tcId']}"
                params.append(pytest.param(Case(name, group, test), id=case_id))
    return params
