"""What key exchange the server's TLS offers, asked of the OpenSSL this Python is linked with.

OpenSSL 3.5 and newer offer the hybrid X25519MLKEM768 group first by default
(Go's crypto/tls, hence Vault and OpenBao, do the same since Go 1.24); OpenSSL
3.0 to 3.4 know no ML-KEM group and offer classical X25519 first. Python's
``ssl`` cannot choose groups before 3.15 (``SSLContext.set_groups``), so on an
older Python the server offers exactly OpenSSL's default list.

Where Python exposes them (3.15: ``SSLContext.get_groups``), the groups OpenSSL
knows are listed and that decides; elsewhere OpenSSL's own version number does
(the default list is fixed per OpenSSL release). Nothing here is a guess about
the client: a client on an older OpenSSL still gets X25519.
"""

from __future__ import annotations

import ssl
from typing import Any

__all__ = ["PQ_GROUP", "configure_context", "key_exchange", "key_exchange_banner"]

#: The hybrid group (X25519 + ML-KEM-768, draft-ietf-tls-ecdhe-mlkem) OpenSSL 3.5 offers first.
PQ_GROUP = "X25519MLKEM768"
_FIRST_PQ_OPENSSL = (3, 5)
_MIN_VERSIONS = {"tls12": ssl.TLSVersion.TLSv1_2, "tls13": ssl.TLSVersion.TLSv1_3}


def key_exchange(groups: str | None = None) -> dict[str, Any]:
    """The ``"tls"`` object of ``secretumvault info --json``: the OpenSSL version and whether the
    server's TLS offers a post-quantum key exchange (with ``groups``: the configured list)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    known = _known_groups(context)
    if groups is not None:
        offered = [g.strip() for g in groups.split(":")]
        post_quantum = PQ_GROUP in offered and (known is None or PQ_GROUP in known)
        how = "[server] tls_groups"
    elif known is not None:
        post_quantum = PQ_GROUP in known and ssl.OPENSSL_VERSION_INFO[:2] >= _FIRST_PQ_OPENSSL
        how = "the groups OpenSSL lists (SSLContext.get_groups)"
    else:
        post_quantum = ssl.OPENSSL_VERSION_INFO[:2] >= _FIRST_PQ_OPENSSL
        how = "OpenSSL's version (its default groups are fixed per release)"
    return {
        "openssl_version": ssl.OPENSSL_VERSION,
        "post_quantum_key_exchange": post_quantum,
        "key_exchange": f"{PQ_GROUP} (hybrid), else X25519" if post_quantum else "X25519 (classical)",
        "decided_by": how,
        "can_set_groups": hasattr(context, "set_groups"),
    }


def key_exchange_banner(settings: Any) -> str:
    """The start banner's TLS line (with its newline); empty for plain HTTP."""
    if not settings.tls:
        return ""
    report = key_exchange(settings.tls_groups)
    minimum = "TLS 1.3" if settings.tls_min_version == "tls13" else "TLS 1.2"
    if report["post_quantum_key_exchange"]:
        return f"TLS key exchange: {report['key_exchange']}, post-quantum ({_short(report)}; {minimum}+)\n"
    return (
        f"TLS key exchange: {_short(report)}: classical X25519 only; with OpenSSL >= 3.5, "
        f"e.g. Debian 13, clients get {PQ_GROUP} ({minimum}+)\n"
    )


def configure_context(context: ssl.SSLContext, min_version: str, groups: str | None) -> None:
    """Apply ``[server] tls_min_version`` and ``tls_groups`` (already checked by the config)."""
    context.minimum_version = _MIN_VERSIONS[min_version]
    if groups is not None:
        context.set_groups(groups)  # type: ignore[attr-defined]  # Python 3.15+, checked at config load


def _known_groups(context: ssl.SSLContext) -> list[str] | None:
    get_groups = getattr(context, "get_groups", None)
    if get_groups is None:
        return None
    try:
        return list(get_groups())
    except (ssl.SSLError, TypeError):
        return None


def _short(report: dict[str, Any]) -> str:
    major, minor = ssl.OPENSSL_VERSION_INFO[:2]
    name = str(report["openssl_version"]).split()[0]  # "OpenSSL" (or "LibreSSL")
    return f"{name} {major}.{minor}"
