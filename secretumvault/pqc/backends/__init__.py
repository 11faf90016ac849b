"""Crypto backends: "oqs" (Cython over liboqs) and "openssl" (pyca/cryptography).

Only this package touches the compiled core or pyca/cryptography's PQC classes.
Each backend module exposes ``NAME``, ``is_available()``, ``kem_names()``,
``sig_names()`` and two factories, ``Kem(name)`` and ``Signature(name)``, whose
objects offer the same methods (``KemFactory``/``SignatureFactory`` for mypy);
:func:`kem` and :func:`signature` pick the backend by name, with ``"auto"``
preferring the native core.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, TypeAlias, Union

from secretumvault.errors import BackendUnavailable, UnsupportedAlgorithm
from secretumvault.pqc._buffers import shown_name
from secretumvault.pqc.params import kem_params, sig_params

if TYPE_CHECKING:
    from secretumvault.pqc.backends import _oqs, openssl

    #: One ML-KEM parameter set on one backend: the native mechanism or the openssl factory.
    KemFactory: TypeAlias = Union[_oqs.KemMechanism, openssl.Kem]
    #: One ML-DSA parameter set on one backend.
    SignatureFactory: TypeAlias = Union[_oqs.SigMechanism, _oqs.SlhMechanism, openssl.Signature]

__all__ = [
    "BACKENDS",
    "available_backends",
    "is_available",
    "kem",
    "native_import_error",
    "resolve",
    "signature",
]

#: Preference order for "auto".
BACKENDS = ("oqs", "openssl")


def _module(name: str) -> ModuleType:
    if name not in BACKENDS:
        raise UnsupportedAlgorithm(
            f"unknown backend {shown_name(name)}; expected one of {', '.join(BACKENDS)} or 'auto'"
        )
    return importlib.import_module(f"{__name__}.{name}")


def native_import_error() -> str | None:
    """Why the native core could not be loaded, or ``None`` if it loaded."""
    from secretumvault.pqc.backends import oqs

    return oqs.import_error()


def available_backends() -> list[str]:
    """Backends usable in this installation, fastest first."""
    return [name for name in BACKENDS if _module(name).is_available()]


def is_available(name: str) -> bool:
    """Whether backend ``name`` ("auto": any backend) is usable here.

    Imports only the backends it must: with the native core present, "auto"
    never loads the openssl backend (pyca's PQC classes cost start-up time).
    """
    if name == "auto":
        return any(bool(_module(candidate).is_available()) for candidate in BACKENDS)
    return bool(_module(name).is_available())


def resolve(name: str, *, kem: str | None = None, sig: str | None = None) -> ModuleType:
    """Return the backend module for ``name``; "auto" picks the first that offers the algorithm."""
    if name == "auto":
        if kem is not None:
            kem_params(kem)  # an unknown name is reported as such, not as "unavailable"
        if sig is not None:
            sig_params(sig)
        for candidate in BACKENDS:
            module = _module(candidate)
            if not module.is_available():
                continue
            if kem is not None and kem not in module.kem_names():
                continue
            if sig is not None and sig not in module.sig_names():
                continue
            return module
        wanted = kem or sig or "post-quantum algorithms"
        hint = (
            ""
            if "oqs" in available_backends()
            else f"; the native oqs backend would ({native_import_error()})"
        )
        available = ", ".join(available_backends()) or "none"
        raise UnsupportedAlgorithm(f"no available backend provides {wanted} (available: {available}){hint}")
    module = _module(name)
    if not module.is_available():
        reason = ""
        if name == "oqs":
            reason = f" ({native_import_error()})"
        raise BackendUnavailable(
            f"the {name!r} backend is not available in this installation{reason}; "
            f"available: {', '.join(available_backends()) or 'none'}"
        )
    return module


def kem(name: str, backend: str) -> KemFactory:
    """The backend's factory for KEM ``name``."""
    factory: KemFactory = resolve(backend, kem=name).Kem(name)
    return factory


def signature(name: str, backend: str) -> SignatureFactory:
    """The backend's factory for signature scheme ``name``."""
    factory: SignatureFactory = resolve(backend, sig=name).Signature(name)
    return factory
