"""IP address and URI subject alternative names, and the role rules that allow them.

IP addresses are IPv4 or IPv6 literals; an IPv6 zone (``fe80::1%eth0``) is
refused, since X.509 has no way to carry it. A role allows them all or none
(``allow_ip_sans``), as Vault's roles do.

URIs follow RFC 5280 4.2.1.6: absolute (scheme and scheme-specific part),
RFC 3986 characters only, and a host wherever there is an authority. A
role's ``allowed_uri_sans`` are patterns in which ``*`` is a wildcard:

* the scheme must match exactly (case-insensitively);
* in the authority, ``*`` matches any run of characters except ``/ ? # @``,
  so a wildcard never reaches into the path or adds user information;
* in the path, query and fragment, ``*`` matches anything, including ``/``.

So ``spiffe://example.org/ns/*`` allows every SPIFFE ID under ``/ns/`` in the
``example.org`` trust domain and none in another.

A URI whose path has a dot segment (``.`` or ``..``, also spelt ``%2e``) is
refused outright rather than matched after normalising: RFC 3986 5.2.4 would
turn ``spiffe://example.org/ns/../x`` into ``/x``, outside ``/ns/``, and a
relying party may or may not normalise, so no one spelling is safe to certify.
SPIFFE IDs forbid dot segments anyway.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable

from secretumvault.errors import InvalidArgument, InvalidType

__all__ = ["IPAddress", "check_ip", "check_uri", "check_uri_pattern", "uri_allowed"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_MAX_URI = 2048
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DOT_SEGMENT = re.compile(r"(?:\.|%2e){1,2}", re.IGNORECASE)


def check_ip(value: object) -> IPAddress:
    """An IPv4 or IPv6 address given as text; InvalidArgument if it is not one."""
    if not isinstance(value, str):
        raise InvalidType(f"an IP SAN must be str, not {type(value).__name__}")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise InvalidArgument(f"{value[:64]!r} is not an IPv4 or IPv6 address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
        raise InvalidArgument(f"{value[:64]!r}: an IPv6 zone cannot be put in a certificate")
    return address


def _split(value: str, what: str) -> urllib.parse.SplitResult:
    if not 0 < len(value) <= _MAX_URI or not _URI_CHARS.fullmatch(value) or _BAD_PERCENT.search(value):
        raise InvalidArgument(
            f"{what} {value[:64]!r} is not a URI: at most {_MAX_URI} RFC 3986 characters "
            "(percent-encode anything else)"
        )
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:  # e.g. an unbalanced '[' in the authority
        raise InvalidArgument(f"{what} {value[:64]!r} is not a URI") from None
    if not _SCHEME.fullmatch(parts.scheme.lower()) or len(value) == len(parts.scheme) + 1:
        raise InvalidArgument(f"{what} {value[:64]!r} is not an absolute URI (scheme:rest)")
    return parts


def check_uri(value: object) -> str:
    """An absolute URI as RFC 5280 allows in a subjectAltName; InvalidArgument otherwise."""
    if not isinstance(value, str):
        raise InvalidType(f"a URI SAN must be str, not {type(value).__name__}")
    parts = _split(value, "URI SAN")
    if value[len(parts.scheme) + 1 :].startswith("//") and not parts.hostname:
        raise InvalidArgument(f"URI SAN {value[:64]!r} has an authority but no host (RFC 5280 4.2.1.6)")
    if _has_dot_segment(parts.path):
        raise InvalidArgument(
            f"URI SAN {value[:64]!r} has a '.' or '..' path segment (RFC 3986 5.2.4); "
            "give the URI without them"
        )
    return value


def _has_dot_segment(path: str) -> bool:
    return any(_DOT_SEGMENT.fullmatch(segment) for segment in path.split("/"))


def check_uri_pattern(value: object) -> str:
    """A role's allowed_uri_sans entry: a URI in which ``*`` may stand for parts."""
    if not isinstance(value, str):
        raise InvalidType(f"allowed_uri_sans entries must be str, not {type(value).__name__}")
    _split(value, "allowed URI pattern")
    return value


def _glob(pattern: str, text: str, wildcard: str) -> bool:
    regex = "".join(wildcard if c == "*" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text) is not None


def _parts(value: str) -> tuple[str, str | None, str]:
    """(scheme, authority or None, the rest): split on the string itself, the same for URIs and patterns."""
    scheme, _, tail = value.partition(":")
    if not tail.startswith("//"):
        return scheme.lower(), None, tail
    end = next((i for i, c in enumerate(tail) if i >= 2 and c in "/?#"), len(tail))
    return scheme.lower(), tail[2:end], tail[end:]


def uri_allowed(uri: str, patterns: Iterable[str]) -> bool:
    """Whether the checked URI ``uri`` matches one of ``patterns`` (see the module docstring)."""
    if _has_dot_segment(urllib.parse.urlsplit(uri).path):  # check_uri refuses these; never let one match
        return False
    scheme, authority, rest = _parts(uri)
    for pattern in patterns:
        want_scheme, want_authority, want_rest = _parts(pattern)
        if want_scheme != scheme or (want_authority is None) != (authority is None):
            continue
        if authority is not None and not _glob(want_authority or "", authority, r"[^/?#@]*"):
            continue
        if _glob(want_rest, rest, ".*"):
            return True
    return False
