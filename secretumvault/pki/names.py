"""DNS names in certificates, and whether a role allows them.

Names are ASCII hostnames (IDNA A-labels for international names), lowercase,
letters-digits-hyphens labels of 1 to 63 characters, at most 253 characters.
Wildcard names (``*.example.com``) are refused: no role can grant them.

A role's ``allowed_domains`` entry ``example.com`` allows:

* ``example.com`` itself if ``allow_bare_domains``;
* any name ending in ``.example.com`` (any depth) if ``allow_subdomains``;
* with ``allow_glob_domains``, an entry may hold ``*``, matching a name as a
  whole; ``*`` stands for zero or more letters, digits or hyphens and never
  crosses a dot, so ``*.example.com`` matches ``www.example.com`` but not
  ``a.b.example.com`` (stricter than Vault, whose ``*`` also matches dots).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from secretumvault.errors import InvalidArgument, InvalidType

__all__ = ["check_allowed_domain", "check_dns_name", "is_allowed"]

_MAX_NAME = 253
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_GLOB_LABEL = re.compile(r"[a-z0-9*](?:[a-z0-9*-]{0,61}[a-z0-9*])?")


def _check(name: object, label: re.Pattern[str], what: str) -> str:
    if not isinstance(name, str):
        raise InvalidType(f"{what} must be str, not {type(name).__name__}")
    if not name or len(name) > _MAX_NAME or not all(label.fullmatch(part) for part in name.split(".")):
        raise InvalidArgument(
            f"{what} {name[:_MAX_NAME]!r} is not a lowercase ASCII hostname "
            "(labels of letters, digits and inner hyphens, at most 253 characters)"
        )
    return name


def check_dns_name(name: object) -> str:
    """``name`` if it is a valid, lowercase, non-wildcard hostname; InvalidArgument otherwise."""
    return _check(name, _LABEL, "DNS name")


def check_allowed_domain(domain: object, *, glob: bool) -> str:
    """A role's allowed_domains entry: a hostname, with ``*`` inside labels only when ``glob``."""
    return _check(domain, _GLOB_LABEL if glob else _LABEL, "allowed domain")


def _glob_matches(pattern: str, name: str) -> bool:
    regex = "".join("[a-z0-9-]*" if c == "*" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name) is not None


def is_allowed(
    name: str,
    allowed_domains: Iterable[str],
    *,
    allow_bare_domains: bool,
    allow_subdomains: bool,
    allow_glob_domains: bool,
) -> bool:
    """Whether the checked hostname ``name`` is allowed by one of ``allowed_domains``."""
    for domain in allowed_domains:
        if allow_glob_domains and "*" in domain:
            if _glob_matches(domain, name):
                return True
            continue
        if allow_bare_domains and name == domain:
            return True
        if allow_subdomains and name.endswith("." + domain):
            return True
    return False
