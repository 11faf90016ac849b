"""Wycheproof suites: a missing vector file fails its one stand-in test, naming the file."""

from __future__ import annotations

import pytest

from .loader import MissingVectorFile


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    # Fails in the call phase (a failed test), not at setup (an error).
    for value in pyfuncitem.funcargs.values():
        if isinstance(value, MissingVectorFile):
            pytest.fail(f"Wycheproof vector file {value.path} (or {value.path}.gz) not found", pytrace=False)
