"""The native "oqs" backend: the compiled ``secretumvault.pqc.backends._oqs`` core over liboqs.

The key classes are the Cython ``cdef class`` objects themselves (registered
as implementations of the abstract key classes), so an encapsulation or a
signature costs one Python-to-C call and nothing more.
"""

from __future__ import annotations

from typing import Any

from secretumvault.pqc.keys import KemPublicKey, KemSecretKey, SigPublicKey, SigSecretKey

NAME = "oqs"

_core: Any = None
_import_error: str | None
try:
    from secretumvault.pqc.backends import _oqs
except ImportError as exc:  # built without liboqs, or the extension failed to load
    _import_error = f"native core not built: {exc}"
else:
    _core = _oqs
    _import_error = None
    KemPublicKey.register(_core.KemPublicKey)
    KemSecretKey.register(_core.KemSecretKey)
    SigPublicKey.register(_core.SigPublicKey)
    SigSecretKey.register(_core.SigSecretKey)


def is_available() -> bool:
    return _core is not None


def import_error() -> str | None:
    return _import_error


def kem_names() -> list[str]:
    return list(_core.kem_names()) if _core is not None else []


def sig_names() -> list[str]:
    return list(_core.sig_names()) if _core is not None else []


def Kem(name: str) -> Any:  # noqa: N802 - a factory that stands in for a class
    return _core.KemAlgorithm.get(name)


def Signature(name: str) -> Any:  # noqa: N802
    return _core.SigAlgorithm.get(name)


def build_info() -> dict[str, Any]:
    """liboqs version, where it came from, and the CPU features it dispatches to."""
    if _core is None:
        return {"available": False, "reason": _import_error}
    return {"available": True, **_core.build_info()}
