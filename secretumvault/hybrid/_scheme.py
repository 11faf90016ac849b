"""What HybridKem and HybridSignature share: a spec looked up by name, and the post-quantum half's factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from secretumvault.errors import UnsupportedAlgorithm

__all__ = ["HybridScheme", "lookup_spec"]


class _Spec(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def pqc_name(self) -> str: ...


SpecT = TypeVar("SpecT", bound=_Spec)


def lookup_spec(specs: Mapping[str, SpecT], name: object, what: str) -> SpecT:
    """The spec called ``name``; UnsupportedAlgorithm listing the known names otherwise."""
    spec = specs.get(name) if isinstance(name, str) else None
    if spec is None:
        raise UnsupportedAlgorithm(f"unknown {what} {name!r}; expected one of {', '.join(specs)}")
    return spec


class HybridScheme:
    """A hybrid algorithm on one backend: its spec, and the pqc factory for the post-quantum half."""

    __slots__ = ("_pqc", "_spec")

    _spec: Any
    _pqc: Any

    @property
    def name(self) -> str:
        return str(self._spec.name)

    @property
    def backend(self) -> str:
        """The backend running the post-quantum half."""
        return str(self._pqc.backend)

    @property
    def pqc_algorithm(self) -> str:
        """The post-quantum parameter set inside, e.g. ``"ML-KEM-768"`` or ``"ML-DSA-65"``."""
        return str(self._spec.pqc_name)
