"""Load Wycheproof vector files as pytest parameters: one case per parameter."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# ../shared/vectors beside the project root, unless SECRETUMVAULT_VECTORS points elsewhere.
_ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(os.environ.get("SECRETUMVAULT_VECTORS", _ROOT.parent / "shared" / "vectors"))
WYCHEPROOF = VECTORS / "wycheproof"


@dataclass(frozen=True)
class Case:
    file: str
    group: dict[str, Any]
    test: dict[str, Any]

    @property
    def valid(self) -> bool:
        return self.test["result"] == "valid"

    @property
    def invalid(self) -> bool:
        return self.test["result"] == "invalid"

    def hex(self, key: str, *, group: bool = False) -> bytes | None:
        source = self.group if group else self.test
        value = source.get(key)
        return None if value is None else bytes.fromhex(value)

    @property
    def flags(self) -> list[str]:
        return list(self.test.get("flags", []))


def cases(*files: str) -> list[Any]:
    """pytest.param per test case of each file, with ids "file:tcId"."""
    params = []
    for name in files:
        path = WYCHEPROOF / name
        if not path.exists():
            # Missing vectors must fail loudly: a silent skip would pass CI untested.
            raise FileNotFoundError(f"Wycheproof file {path} not found; set SECRETUMVAULT_VECTORS")
        data = json.loads(Path(path).read_text())
        for group in data["testGroups"]:
            for test in group["tests"]:
                case_id = f"{name.removesuffix('.json')}:{test['tcId']}"
                params.append(pytest.param(Case(name, group, test), id=case_id))
    return params
