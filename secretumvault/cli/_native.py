"""Whether the native core is built, said where a user looks (``info``, ``bench``, errors)."""

from __future__ import annotations

__all__ = ["README_SECTION", "native_problem"]

#: The README section that explains how to build with liboqs.
README_SECTION = "Where liboqs comes from"


def native_problem() -> str | None:
    """None when the native "oqs" backend works, else one sentence saying why not and what fixes it."""
    import importlib.util

    from secretumvault.pqc.backends import oqs

    if oqs.is_available():
        return None
    try:
        built = importlib.util.find_spec("secretumvault.pqc.backends._oqs") is not None
    except (ImportError, ValueError):
        built = False
    if not built:
        return f'native core not built: no liboqs found at build time; see "{README_SECTION}" in the README'
    return f'native core failed to load ({oqs.import_error()}); see "{README_SECTION}" in the README'
