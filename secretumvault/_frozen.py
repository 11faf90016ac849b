"""``Frozen``: what ``@dataclass(frozen=True)`` gave the records on the command line's path, without it.

Why not dataclasses (the one place this is written down): all 24 records load
on every ``secretumvault transit encrypt``, which has no other use for
``dataclasses``. Measured on a 2-core AMD EPYC VM (Python 3.11, CPU time of
fresh processes): ``import dataclasses`` costs 7 ms (it loads inspect, ast, dis
and tokenize) and each frozen dataclass 0.54 ms more, 20 ms in all; with them,
``transit encrypt`` went from 3.6x to 4.5x of ``python -c pass`` in CPU time
(3.2x to 4.0x in wall time, median of 21 interleaved runs), over its budget of
4x. ``typing.NamedTuple`` cannot check fields in ``__init__`` and compares
equal to plain tuples; plain classes would repeat ``==``/``hash``/``repr`` 24
times. ``import secretumvault`` loads none of these records either way.

A subclass lists its fields
in ``__init__`` order as ``__slots__ = _fields = (...)``, sets each in
``__init__`` with :data:`set_field`, and names in ``_secret_fields`` those that
``repr`` must never show (as ``field(repr=False)`` did). It gets: assignment
and deletion raise AttributeError, ``==`` and ``hash`` over every field
(between instances of the same class only), ``repr``, pickling through
``__init__``, and :meth:`Frozen.replace` (``dataclasses.replace``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, ClassVar, Self

__all__ = ["Frozen", "set_field"]

#: Sets one field, in ``__init__`` only: ``set_field(self, "name", name)``.
set_field = object.__setattr__


class Frozen:
    """An immutable record: see the module's documentation."""

    __slots__ = ()
    #: The fields, in ``__init__`` order (the subclass's ``__slots__`` as well).
    _fields: ClassVar[tuple[str, ...]] = ()
    #: The fields ``repr`` leaves out: keys, shares, ciphertexts, passwords.
    _secret_fields: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Frozen) and other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = (
            f"{name}={getattr(self, name)!r}" for name in self._fields if name not in self._secret_fields
        )
        return f"{self.__class__.__qualname__}({', '.join(shown)})"

    def __reduce__(self) -> tuple[type[Self], tuple[object, ...]]:
        return self.__class__, self._values()

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` made, checked again by ``__init__``; TypeError for an unknown field."""
        values = {name: getattr(self, name) for name in self._fields}
        values.update(changes)
        return self.__class__(**values)
