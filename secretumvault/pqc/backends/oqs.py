"""The native "oqs" backend: the compiled ``secretumvault.pqc.backends._oqs`` core over liboqs.

The key classes are the Cython ``cdef class`` objects themselves (registered
as implementations of the abstract key classes), so an encapsulation or a
signature costs one Python-to-C call and nothing more.
"""

from __future__ import annotations

from typing import Any

from secretumvault.pqc.params import is_slh_dsa

NAME = "oqs"

#: The README section that explains how to build the native core.
README_SECTION = "Where liboqs comes from"


def _why_not_loaded(exc: ImportError) -> str:
    """One sentence for users: not built at all, or built but failing to load (with the cause)."""
    import importlib.util

    try:
        built = importlib.util.find_spec(f"{__package__}._oqs") is not None
    except (ImportError, ValueError):
        built = False
    if not built:
        return f'native core not built: no liboqs found at build time; see "{README_SECTION}" in the README'
    return f'native core failed to load ({exc}); see "{README_SECTION}" in the README'


_import_error: str | None = None
try:
    from secretumvault.pqc.backends import _oqs
except ImportError as exc:  # built without liboqs, or the extension failed to load
    _import_error = _why_not_loaded(exc)


def is_available() -> bool:
    return _import_error is None


def import_error() -> str | None:
    return _import_error


def kem_names() -> list[str]:
    return _oqs.kem_names() if _import_error is None else []


def sig_names() -> list[str]:
    return _oqs.sig_names() if _import_error is None else []


def Kem(name: str) -> _oqs.KemMechanism:  # noqa: N802 - a factory that stands in for a class
    return _oqs.KemMechanism.get(name)


def Signature(name: str) -> _oqs.SigMechanism | _oqs.SlhMechanism:  # noqa: N802
    if is_slh_dsa(name):
        return _oqs.SlhMechanism.get(name)
    return _oqs.SigMechanism.get(name)


def c_floor(algorithm: str, op: str, iterations: int) -> float:
    """Nanoseconds per ``op`` looped in C over the same liboqs calls (for ``secretumvault bench``)."""
    return _oqs.c_floor(algorithm, op, iterations)


def build_info() -> dict[str, Any]:
    """liboqs version, where it came from, and the CPU features it dispatches to."""
    if _import_error is not None:
        return {"available": False, "reason": _import_error}
    return {"available": True, **_oqs.build_info()}
