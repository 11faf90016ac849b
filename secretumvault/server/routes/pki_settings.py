"""PKI mount settings and revocation services: ``config/urls``, ``config/crl``, ``config/ca``,
``crl/rotate``, delta CRLs, the OCSP responder and ``sign-verbatim``, with Vault's parameter names."""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from secretumvault.errors import KeyNotFound
from secretumvault.pki import PkiEngine
from secretumvault.pki.settings import CrlSettings, DistributionUrls
from secretumvault.server.envelope import Reply
from secretumvault.server.errors import bad_request
from secretumvault.server.routes.pki_params import issued_data
from secretumvault.server.routing import Call, Router, name_pattern

__all__ = ["register"]

_URL_FIELDS = (
    "issuing_certificates",
    "crl_distribution_points",
    "ocsp_servers",
    "delta_crl_distribution_points",
)
_UNSUPPORTED_CRL_OPTIONS = (
    "disable",
    "ocsp_disable",
    "auto_rebuild",
    "unified_crl",
    "cross_cluster_revocation",
)


def _engine(call: Call) -> PkiEngine:
    engine: PkiEngine = call.engine
    return engine


def _duration_text(delta: datetime.timedelta) -> str:
    return f"{int(delta.total_seconds())}s"


def _urls_data(urls: DistributionUrls) -> dict[str, Any]:
    return {name: list(getattr(urls, name)) for name in _URL_FIELDS}


def read_urls(call: Call) -> Reply:
    return Reply(data=_urls_data(_engine(call).get_urls()))


def write_urls(call: Call) -> Reply:
    p = call.params
    current = _engine(call).get_urls()
    values = {
        name: tuple(p.string_list(name)) if name in p else getattr(current, name) for name in _URL_FIELDS
    }
    return Reply(data=_urls_data(_engine(call).set_urls(**values)))


def _crl_data(settings: CrlSettings) -> dict[str, Any]:
    return {
        "expiry": _duration_text(settings.expiry),
        "enable_delta": settings.enable_delta,
        "ocsp_expiry": _duration_text(settings.ocsp_expiry),
        "disable": False,
        "ocsp_disable": False,
        "auto_rebuild": False,
    }


def read_crl_config(call: Call) -> Reply:
    return Reply(data=_crl_data(_engine(call).get_crl_config()))


def write_crl_config(call: Call) -> Reply:
    p = call.params
    for option in _UNSUPPORTED_CRL_OPTIONS:
        if p.boolean(option):
            raise bad_request(f"{option} is not supported by this server")
    current = _engine(call).get_crl_config()
    settings = _engine(call).set_crl_config(
        expiry=datetime.timedelta(seconds=p.duration("expiry", int(current.expiry.total_seconds()))),
        enable_delta=p.boolean("enable_delta", current.enable_delta),
        ocsp_expiry=datetime.timedelta(
            seconds=p.duration("ocsp_expiry", int(current.ocsp_expiry.total_seconds()))
        ),
    )
    return Reply(data=_crl_data(settings))


def import_ca(call: Call, set_default: Any) -> Reply:
    p = call.params
    name = p.string("issuer_name") or "imported"
    _engine(call).import_ca(name, p.string("pem_bundle", required=True))
    set_default(call, name)
    return Reply(data={"imported_issuers": [name], "imported_keys": [name], "mapping": {name: name}})


def rotate_crl(call: Call, default_issuer: Any) -> Reply:
    _engine(call).crl_rotate(default_issuer(call))
    return Reply(data={"success": True})


def delta_crl_pem(call: Call, default_issuer: Any) -> Reply:
    pem = _engine(call).delta_crl(default_issuer(call))
    return Reply(body=pem.encode("ascii"), content_type="application/x-pem-file")


def delta_crl_der(call: Call, default_issuer: Any) -> Reply:
    pem = _engine(call).delta_crl(default_issuer(call))
    der = x509.load_pem_x509_crl(pem.encode("ascii")).public_bytes(Encoding.DER)
    return Reply(body=der, content_type="application/pkix-crl")


def ocsp_post(call: Call) -> Reply:
    return _ocsp_reply(_engine(call).ocsp(call.body))


def ocsp_get(call: Call) -> Reply:
    try:  # RFC 6960 A.1: the DER request, base64, in the URL
        request = base64.b64decode(call.group("request"), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("the OCSP request in the URL is not base64") from None
    return _ocsp_reply(_engine(call).ocsp(request))


def _ocsp_reply(der: bytes) -> Reply:
    return Reply(body=der, content_type="application/ocsp-response")


def sign_verbatim(call: Call) -> Reply:
    p = call.params
    role = call.groups.get("role")
    if not role:
        raise bad_request("sign-verbatim needs a role here: POST sign-verbatim/<role>")
    try:
        _engine(call).get_role(role)
    except KeyNotFound:
        raise bad_request(f"unknown role: {role}") from None
    ttl = p.duration("ttl", 0)
    optional: dict[str, Any] = {
        name: tuple(p.string_list(name))
        for name in ("key_usage", "ext_key_usage", "ext_key_usage_oids")
        if name in p
    }
    issued = _engine(call).sign_verbatim(
        role,
        p.string("csr", required=True),
        ttl=datetime.timedelta(seconds=ttl) if ttl else None,
        **optional,
    )
    return Reply(data=issued_data(issued))


def register(router: Router, *, default_issuer: Any, set_default: Any) -> None:
    """Add these paths to a PKI mount's router (the default issuer comes from pki_routes)."""
    router.add("config/urls", {"read": read_urls, "update": write_urls})
    router.add("config/crl", {"read": read_crl_config, "update": write_crl_config})
    router.add("config/ca", {"update": lambda call: import_ca(call, set_default)})
    router.add("crl/rotate", {"read": lambda call: rotate_crl(call, default_issuer)})
    router.add(
        "crl/delta/pem", {"read": lambda call: delta_crl_pem(call, default_issuer)}, unauthenticated=True
    )
    router.add("crl/delta", {"read": lambda call: delta_crl_der(call, default_issuer)}, unauthenticated=True)
    router.add("ocsp", {"update": ocsp_post}, unauthenticated=True, raw_body=True)
    router.add("ocsp/(?P<request>.+)", {"read": ocsp_get}, unauthenticated=True)
    router.add("sign-verbatim(?:/" + name_pattern("role") + ")?", {"update": sign_verbatim})
