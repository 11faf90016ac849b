"""A PKI mount: Vault's PKI API over :class:`secretumvault.pki.PkiEngine`.

One mount holds several CAs (Vault's issuers), named by ``issuer_name``;
the first one made becomes the default issuer, which ``ca/pem``, ``crl/pem``
and roles without ``issuer_ref`` use. An intermediate's CSR
(``intermediate/generate``), its signing (``root/sign-intermediate``) and its
installation (``intermediate/set-signed``) may happen in one mount or, as in
Vault's usual setup, in two: where the parent CA is one of the mount's own,
the engine checks its signature; otherwise the certificates given after it
(``format=pem_bundle``) are its chain, each link checked.

With no ``key_type``, new CAs and roles are RSA 2048 as in Vault, or ML-DSA-65
under ``[server] pq_defaults = true``.
"""

from __future__ import annotations

import base64
import datetime
import re
import secrets
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from secretumvault.errors import InvalidArgument, InvalidKey, KeyNotFound
from secretumvault.pki import PkiEngine
from secretumvault.pki.records import CaRecord
from secretumvault.pki.serials import format_serial
from secretumvault.pki.verify import load_certificate
from secretumvault.server.envelope import Reply, list_reply
from secretumvault.server.errors import HttpError, bad_request, not_found
from secretumvault.server.params import Params
from secretumvault.server.routes import pki_settings as pki_settings_routes
from secretumvault.server.routes.key_types import (
    PKI_DEFAULT_KEY_TYPE,
    PKI_PQ_DEFAULT_KEY_TYPE,
    pki_key_type,
    vault_pki_key_type,
)
from secretumvault.server.routes.pki_params import engine_kwargs, issued_data, role_from_params, role_to_data
from secretumvault.server.routing import Call, Router, name_pattern
from secretumvault.server.state import records

__all__ = ["router"]

_DEFAULT_CA_TTL = 3650 * 86400
_DEFAULT_INTERMEDIATE_TTL = 365 * 86400
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\s*", re.S)


def _engine(call: Call) -> PkiEngine:
    engine: PkiEngine = call.engine
    return engine


def default_key_type(call: Call) -> str:
    """The key type of a new CA or role that names none: Vault's, or ML-DSA-65 under pq_defaults."""
    return PKI_PQ_DEFAULT_KEY_TYPE if call.core.pq_defaults else PKI_DEFAULT_KEY_TYPE


def known_role(call: Call) -> str:
    """The role named in the path; 400 "unknown role: <name>" as Vault answers, if there is none."""
    name = call.group("role")
    try:
        _engine(call).get_role(name)
    except KeyNotFound:
        raise bad_request(f"unknown role: {name}") from None
    return name


def _config_path(call: Call) -> str:
    assert call.mount is not None
    return f"{call.mount.storage}/config/default-issuer"


def _default_issuer(call: Call) -> str:
    try:
        raw = call.core.keystore.get(_config_path(call))
    except KeyNotFound:
        raise bad_request("this mount has no default issuer yet: generate or import a CA first") from None
    return str(records.load(raw, "pki-default-issuer", _config_path(call))["default"])


def _set_default_if_none(call: Call, name: str) -> None:
    try:
        call.core.keystore.cas(
            _config_path(call), None, records.dump("pki-default-issuer", {"default": name})
        )
    except Exception:  # one is set already (ConflictError): keep it
        return


def _issuer(call: Call, params: Params) -> str:
    return resolve_issuer(call, params.string("issuer_ref", "default") or "default")


# Vault's issuers have a fixed id and a changeable name. Here the id is the CA's name in the engine;
# names given later (issuer/:ref issuer_name) are kept in one record, name -> id.
_ISSUER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def _names_path(call: Call) -> str:
    assert call.mount is not None
    return f"{call.mount.storage}/config/issuer-names"


def _issuer_names(call: Call) -> dict[str, str]:
    try:
        raw = call.core.keystore.get(_names_path(call))
    except KeyNotFound:
        return {}
    names = records.load(raw, "pki-issuer-names", _names_path(call))["names"]
    return {str(k): str(v) for k, v in names.items()}


def _issuer_name(call: Call, issuer_id: str) -> str:
    return next((name for name, target in _issuer_names(call).items() if target == issuer_id), issuer_id)


def resolve_issuer(call: Call, ref: str) -> str:
    """The engine's CA for Vault's issuer reference: ``default``, an issuer id, or an issuer name."""
    if ref == "default":
        return _default_issuer(call)
    found = _issuer_names(call).get(ref, ref)
    if found not in _engine(call).list_cas():
        # Vault's words, but 404, not Vault's 500 (its resolver's "user error" is not mapped to a
        # 4xx): a client asked for something that is not there, and clients (the Go client,
        # Terraform's provider, hvac's read) take a 404 for "gone" and a 500 for a failed server.
        raise not_found(f"unable to find PKI issuer for reference: {ref}")
    return found


def _ttl(params: Params, default: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=params.duration("ttl", default) or default)


def _new_ca_name(params: Params, prefix: str) -> str:
    return params.string("issuer_name") or f"{prefix}-{secrets.token_hex(4)}"


def _expiration(pem: str) -> int:
    return int(x509.load_pem_x509_certificate(pem.encode("ascii")).not_valid_after_utc.timestamp())


def _serial(pem: str) -> str:
    return format_serial(x509.load_pem_x509_certificate(pem.encode("ascii")).serial_number)


def _exported_key(call: Call, name: str) -> str:
    """The CA's private key, for the "exported" forms; read once, right after it was made."""
    assert call.mount is not None
    path = f"{call.mount.storage}/ca/{name}"
    return CaRecord.decode(call.core.keystore.get(path), path).key.pkcs8_pem()


def _exported(call: Call, name: str, key_type: str) -> dict[str, str]:
    return {"private_key": _exported_key(call, name), "private_key_type": vault_pki_key_type(key_type)[0]}


def _check_kind(call: Call) -> bool:
    kind = call.group("kind")
    if kind not in ("internal", "exported"):
        raise bad_request("type must be internal or exported (kms and existing keys are not available)")
    return kind == "exported"


def _refuse_ca_extras(params: Params) -> None:
    for name in ("alt_names", "ip_sans", "uri_sans", "other_sans", "permitted_dns_domains", "key_ref"):
        if params.string_list(name):
            raise bad_request(f"{name} is not supported for CA certificates by this server yet")
    if params.string("format", "pem") != "pem":
        raise bad_request("only format pem is available")


# -- CAs -----------------------------------------------------------------------------------------------


def generate_root(call: Call) -> Reply:
    exported = _check_kind(call)
    p = call.params
    _refuse_ca_extras(p)
    name = _new_ca_name(p, "root")
    key_type = pki_key_type(p, default_key_type(call))
    certificate = _engine(call).create_root(
        name,
        common_name=p.string("common_name", required=True),
        key_type=key_type,
        ttl=_ttl(p, _DEFAULT_CA_TTL),
    )
    _set_default_if_none(call, name)
    data: dict[str, Any] = {
        "certificate": certificate,
        "issuing_ca": certificate,
        "serial_number": _serial(certificate),
        "expiration": _expiration(certificate),
        "issuer_id": name,
        "issuer_name": name,
        "key_id": name,
        "key_name": name,
    }
    if exported:
        data |= _exported(call, name, key_type)
    return Reply(data=data)


def generate_intermediate(call: Call) -> Reply:
    exported = _check_kind(call)
    p = call.params
    _refuse_ca_extras(p)
    name = _new_ca_name(p, "intermediate")
    key_type = pki_key_type(p, default_key_type(call))
    csr = _engine(call).generate_intermediate(
        name, common_name=p.string("common_name", required=True), key_type=key_type
    )
    data: dict[str, Any] = {"csr": csr, "key_id": name, "issuer_name": name}
    if exported:
        data |= _exported(call, name, key_type)
    return Reply(data=data)


def sign_intermediate(call: Call) -> Reply:
    p = call.params
    output = p.string("format", "pem") or "pem"
    if output not in ("pem", "pem_bundle", "der"):
        raise bad_request("format must be pem, pem_bundle or der")
    use_csr_values = p.boolean("use_csr_values")
    issued = _engine(call).sign_intermediate(
        _issuer(call, p),
        p.string("csr", required=True),
        ttl=_ttl(p, _DEFAULT_INTERMEDIATE_TTL),
        # As in Vault, the CSR's subject wins with use_csr_values: common_name is then ignored.
        common_name=None if use_csr_values else (p.string("common_name") or None),
        use_csr_values=use_csr_values,
        permitted_dns_domains=tuple(p.string_list("permitted_dns_domains")),
        excluded_dns_domains=tuple(p.string_list("excluded_dns_domains")),
    )
    return Reply(data=formatted(issued_data(issued), output))


def formatted(data: dict[str, Any], output: str) -> dict[str, Any]:
    """Vault's ``format``: pem as is; pem_bundle appends the chain to ``certificate``; der is base64 DER."""
    if output == "pem_bundle":
        bundle = "\n".join(pem.strip() for pem in (data["certificate"], *data["ca_chain"]))
        return data | {"certificate": bundle}
    if output == "der":
        return data | {
            "certificate": _der_b64(data["certificate"]),
            "issuing_ca": _der_b64(data["issuing_ca"]),
            "ca_chain": [_der_b64(pem) for pem in data["ca_chain"]],
        }
    return data


def _der_b64(pem: str) -> str:
    return base64.b64encode(_cert(pem).public_bytes(Encoding.DER)).decode("ascii")


def set_signed(call: Call) -> Reply:
    """Vault's ``intermediate/set-signed``: the certificate, optionally followed by its chain."""
    bundle = call.params.string("certificate", required=True).encode("ascii", "replace")
    pems = [m.group(0) for m in _PEM_CERT.finditer(bundle)]
    if not pems:
        raise bad_request("certificate must hold a PEM certificate")
    certs = [load_certificate(pem) for pem in pems]  # every field parsed: InvalidArgument (400) if malformed
    engine = _engine(call)
    pending = [name for name in engine.list_cas() if not _is_active(engine, name)]
    for index, cert in enumerate(certs):
        parent = _ca_with_subject(engine, cert.issuer)
        # A parent of this mount gives the chain; else the certificates given after it are the chain.
        chain = () if parent is not None else tuple(pems[:index] + pems[index + 1 :])
        for name in pending:
            try:
                engine.set_signed_intermediate(name, pems[index], issuer=parent, chain=chain)
            except InvalidKey:
                continue  # the certificate is for another pending CA's key
            _set_default_if_none(call, name)
            return Reply(data={"imported_issuers": [name], "imported_keys": [name], "mapping": {name: name}})
    if not pending:
        raise bad_request("this mount has no pending intermediate: generate one with intermediate/generate")
    raise bad_request("no pending intermediate in this mount has the key of this certificate")


def _is_active(engine: PkiEngine, name: str) -> bool:
    try:
        engine.ca_certificate(name)
    except InvalidArgument:
        return False  # waiting for its certificate
    return True


def _ca_with_subject(engine: PkiEngine, subject: x509.Name) -> str | None:
    """The active CA of this mount with this subject, if any."""
    for name in engine.list_cas():
        if not _is_active(engine, name):
            continue
        cert = x509.load_pem_x509_certificate(engine.ca_certificate(name).encode("ascii"))
        if cert.subject == subject:
            return name
    return None


def list_issuers(call: Call) -> Reply:
    engine = _engine(call)
    ids = [name for name in engine.list_cas() if _is_active(engine, name)]
    info = {i: {"issuer_name": _issuer_name(call, i), "is_default": False} for i in ids}
    try:
        default = _default_issuer(call)
    except HttpError:
        default = None
    if default in info:
        info[default]["is_default"] = True
    reply = list_reply(ids)
    return Reply(data={"keys": ids, "key_info": info}) if reply.data is not None else reply


#: What every issuer here may do; Vault's default usage, the only one served.
_USAGE = ("crl-signing", "issuing-certificates", "ocsp-signing", "read-only")
#: Issuer fields Vault can set that this server does not serve: each must keep its default.
_FIXED_ISSUER_FIELDS: dict[str, object] = {
    "leaf_not_after_behavior": "err",
    "manual_chain": [],
    "revocation_signature_algorithm": "",
    "issuing_certificates": [],
    "crl_distribution_points": [],
    "ocsp_servers": [],
    "enable_aia_url_templating": False,
}


def _issuer_data(call: Call, issuer_id: str) -> dict[str, Any]:
    engine = _engine(call)
    chain = engine.ca_chain(issuer_id)
    return {
        "issuer_id": issuer_id,
        "issuer_name": _issuer_name(call, issuer_id),
        "key_id": issuer_id,
        "certificate": chain[0],
        "ca_chain": chain,
        "usage": ",".join(_USAGE),
        "revoked": False,
        "revocation_time": 0,
        "revocation_time_rfc3339": "",
        **_FIXED_ISSUER_FIELDS,
        "manual_chain": None,
    }


def read_issuer(call: Call) -> Reply:
    issuer_id = resolve_issuer(call, call.group("ref"))
    if not _is_active(_engine(call), issuer_id):
        raise not_found(f"issuer {call.group('ref')!r} is waiting for its signed certificate")
    return Reply(data=_issuer_data(call, issuer_id))


def update_issuer(call: Call) -> Reply:
    """Vault's ``POST/PATCH issuer/:ref``: ``issuer_name`` changes; other fields only at their defaults."""
    p = call.params
    issuer_id = resolve_issuer(call, call.group("ref"))
    if "usage" in p and set(p.string_list("usage")) - {""} != set(_USAGE):
        raise bad_request(f"usage other than {','.join(_USAGE)} is not supported by this server")
    for field, default in _FIXED_ISSUER_FIELDS.items():
        if field not in p:
            continue
        given: object = (
            p.boolean(field)
            if isinstance(default, bool)
            else [v for v in p.string_list(field) if v]
            if isinstance(default, list)
            else p.string(field) or default
        )
        if given != default:
            raise bad_request(f"{field} is not supported by this server (it stays {default!r})")
    if "issuer_name" in p:
        _rename_issuer(call, issuer_id, p.string("issuer_name"))
    return Reply(data=_issuer_data(call, issuer_id))


def _rename_issuer(call: Call, issuer_id: str, new: str) -> None:
    names = {name: target for name, target in _issuer_names(call).items() if target != issuer_id}
    if new and new != issuer_id:
        if not _ISSUER_NAME.fullmatch(new) or new == "default":
            raise bad_request("issuer_name is 1-128 letters, digits, '_', '.', '-', and not 'default'")
        if new in names or new in _engine(call).list_cas():
            raise bad_request(f"issuer name {new!r} is already in use in this mount")
        names[new] = issuer_id
    call.core.keystore.put(_names_path(call), records.dump("pki-issuer-names", {"names": names}))


def delete_issuer(call: Call) -> Reply:
    """Vault's ``DELETE issuer/:ref``: the CA and its key go; certificates it issued stay."""
    try:
        issuer_id = resolve_issuer(call, call.group("ref"))
    except HttpError:
        return Reply()  # as Vault: deleting what is not there is no error
    _forget_issuer(call, issuer_id)
    return Reply()


def _forget_issuer(call: Call, issuer_id: str) -> None:
    _engine(call).delete_ca(issuer_id)
    names = _issuer_names(call)
    if issuer_id in names.values():
        kept = {name: target for name, target in names.items() if target != issuer_id}
        call.core.keystore.put(_names_path(call), records.dump("pki-issuer-names", {"names": kept}))
    try:
        default = _default_issuer(call)
    except HttpError:
        return
    if default == issuer_id:
        call.core.keystore.delete(_config_path(call))


def delete_root(call: Call) -> Reply:
    """Vault's ``DELETE root``: every issuer and key of the mount; roles and issued certificates stay."""
    for issuer_id in _engine(call).list_cas():
        _forget_issuer(call, issuer_id)
    return Reply()


def read_issuer_config(call: Call) -> Reply:
    return Reply(data={"default": _default_issuer(call), "default_follows_latest_issuer": False})


def write_issuer_config(call: Call) -> Reply:
    if call.params.boolean("default_follows_latest_issuer"):
        raise bad_request("default_follows_latest_issuer is not supported by this server")
    name = resolve_issuer(call, call.params.string("default", required=True))
    _engine(call).ca_certificate(name)  # must be an active CA of this mount
    call.core.keystore.put(_config_path(call), records.dump("pki-default-issuer", {"default": name}))
    return Reply(data={"default": name, "default_follows_latest_issuer": False})


# -- roles ------------------------------------------------------------------------------------------------


def write_role(call: Call) -> Reply:
    engine, name = _engine(call), call.group("name")
    try:
        existing = engine.get_role(name)
    except KeyNotFound:
        existing = None
    issuer = (
        _issuer(call, call.params) if existing is None or "issuer_ref" in call.params else existing.issuer
    )
    role = role_from_params(call.params, issuer, existing, default_key_type(call))
    engine.put_role(name, role)
    return Reply(data=role_to_data(role))


def read_role(call: Call) -> Reply:
    return Reply(data=role_to_data(_engine(call).get_role(call.group("name"))))


def delete_role(call: Call) -> Reply:
    _engine(call).delete_role(call.group("name"))
    return Reply()


def list_roles(call: Call) -> Reply:
    return list_reply(_engine(call).list_roles())


# -- issuance and revocation -----------------------------------------------------------------------------


def _check_issue_format(p: Params) -> None:
    if p.string("format", "pem") != "pem":
        raise bad_request("only format pem is available")
    if p.string("private_key_format", "der") not in ("der", "pkcs8", ""):
        raise bad_request("private_key_format must be der or pkcs8 (both give a PKCS#8 PEM key)")
    if p.boolean("exclude_cn_from_sans"):
        raise bad_request("exclude_cn_from_sans is not supported: the common name is always a SAN")


def _path_issuer(call: Call) -> str | None:
    """The issuer of ``issuer/:ref/issue|sign/:role``; None on ``issue|sign/:role`` (the role's)."""
    ref = call.groups.get("ref")
    return None if ref is None else resolve_issuer(call, ref)


def issue(call: Call) -> Reply:
    p = call.params
    role = known_role(call)
    _check_issue_format(p)
    engine = _engine(call)
    ttl = p.duration("ttl", 0)
    issued = engine.issue(
        role,
        p.string("common_name", required=True),
        ttl=datetime.timedelta(seconds=ttl) if ttl else None,
        issuer=_path_issuer(call),
        **engine_kwargs(engine.issue, p),
    )
    return Reply(data=issued_data(issued))


def sign(call: Call) -> Reply:
    p = call.params
    role = known_role(call)
    _check_issue_format(p)
    engine = _engine(call)
    ttl = p.duration("ttl", 0)
    issued = engine.sign_csr(
        role,
        p.string("csr", required=True),
        common_name=p.string("common_name") or None,
        ttl=datetime.timedelta(seconds=ttl) if ttl else None,
        issuer=_path_issuer(call),
        **engine_kwargs(engine.sign_csr, p),
    )
    return Reply(data=issued_data(issued))


def revoke(call: Call) -> Reply:
    serial = call.params.string("serial_number", required=True).replace("-", ":")
    revoked_at = _engine(call).revoke(serial)
    return Reply(
        data={
            "revocation_time": int(revoked_at.timestamp()),
            "revocation_time_rfc3339": revoked_at.isoformat().replace("+00:00", "Z"),
        }
    )


def _revocation_time(engine: PkiEngine, cert: x509.Certificate) -> datetime.datetime | None:
    """When ``cert`` was revoked, from its CA's current CRL and delta CRL (the engine's public view)."""
    for name in engine.list_cas():
        if not _is_active(engine, name) or _cert(engine.ca_certificate(name)).subject != cert.issuer:
            continue
        crls = [engine.crl(name)]
        try:
            crls.append(engine.delta_crl(name))
        except InvalidArgument:
            pass  # delta CRLs are off for this CA
        for pem in crls:
            entry = x509.load_pem_x509_crl(pem.encode("ascii")).get_revoked_certificate_by_serial_number(
                cert.serial_number
            )
            if entry is not None:
                return entry.revocation_date_utc
    return None


def _cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def read_cert(call: Call) -> Reply:
    serial = call.group("serial").replace("-", ":")
    engine = _engine(call)
    if serial == "ca":
        return Reply(data={"certificate": engine.ca_certificate(_default_issuer(call)), "revocation_time": 0})
    if serial == "ca_chain":
        chain = "".join(engine.ca_chain(_default_issuer(call)))
        return Reply(data={"certificate": chain, "ca_chain": chain, "revocation_time": 0})
    if serial == "crl":
        return Reply(data={"certificate": engine.crl(_default_issuer(call)), "revocation_time": 0})
    pem = engine.get_certificate(serial)
    revoked = _revocation_time(engine, _cert(pem))
    return Reply(
        data={
            "certificate": pem,
            "revocation_time": 0 if revoked is None else int(revoked.timestamp()),
            "revocation_time_rfc3339": "" if revoked is None else revoked.isoformat().replace("+00:00", "Z"),
        }
    )


def list_certs(call: Call) -> Reply:
    return list_reply(_engine(call).list_certificates(include_cas=True))


def tidy(call: Call) -> Reply:
    p = call.params
    p.boolean("tidy_cert_store", True)
    p.boolean("tidy_revoked_certs", True)
    buffer = p.duration("safety_buffer", 72 * 3600)
    removed = _engine(call).tidy(safety_buffer=datetime.timedelta(seconds=buffer))
    return Reply(
        status=202,
        data={"removed_certificates": removed},
        warnings=["Tidy operation successfully started; it has already finished on this server."],
    )


# -- unauthenticated CA material -----------------------------------------------------------------------------


def _pem_reply(text: str, content_type: str) -> Reply:
    return Reply(body=text.encode("ascii"), content_type=content_type)


def ca_pem(call: Call) -> Reply:
    return _pem_reply(
        _engine(call).ca_certificate(_default_issuer(call)), "application/pem-certificate-chain"
    )


def ca_der(call: Call) -> Reply:
    pem = _engine(call).ca_certificate(_default_issuer(call))
    der = x509.load_pem_x509_certificate(pem.encode("ascii")).public_bytes(Encoding.DER)
    return Reply(body=der, content_type="application/pkix-cert")


def ca_chain(call: Call) -> Reply:
    chain = _engine(call).ca_chain(_default_issuer(call))
    return _pem_reply("".join(chain), "application/pem-certificate-chain")


def crl_pem(call: Call) -> Reply:
    return _pem_reply(_engine(call).crl(_default_issuer(call)), "application/x-pem-file")


def crl_der(call: Call) -> Reply:
    pem = _engine(call).crl(_default_issuer(call))
    der = x509.load_pem_x509_crl(pem.encode("ascii")).public_bytes(Encoding.DER)
    return Reply(body=der, content_type="application/pkix-crl")


router = Router()
_PUBLIC = {"unauthenticated": True}
router.add("root/generate/(?P<kind>[^/]+)", {"update": generate_root})
router.add("intermediate/generate/(?P<kind>[^/]+)", {"update": generate_intermediate})
router.add("root/sign-intermediate", {"update": sign_intermediate})
router.add("intermediate/set-signed", {"update": set_signed})
router.add("issuers/?", {"list": list_issuers})
router.add("config/issuers", {"read": read_issuer_config, "update": write_issuer_config})
router.add(
    "issuer/" + name_pattern("ref"),
    {"read": read_issuer, "update": update_issuer, "patch": update_issuer, "delete": delete_issuer},
)
router.add("issuer/" + name_pattern("ref") + "/issue/" + name_pattern("role"), {"update": issue})
router.add("issuer/" + name_pattern("ref") + "/sign/" + name_pattern("role"), {"update": sign})
router.add("root", {"delete": delete_root}, sudo=True)  # one of Vault PKI's root paths


def _not_served(what: str) -> Any:
    def refuse(call: Call) -> Reply:
        raise bad_request(f"{what} is not supported by this server")

    return refuse


# Vault PKI paths this server does not serve: refused by name, never mistaken for something else.
router.add("issuer/" + name_pattern("ref") + "/revoke", {"update": _not_served("revoking an issuer")})
router.add("root/sign-self-issued", {"update": _not_served("root/sign-self-issued")})
router.add("root/replace", {"update": _not_served("root/replace")})
router.add("root/rotate/[^/]+", {"update": _not_served("root/rotate")})
router.add("roles/?", {"list": list_roles})
router.add("roles/" + name_pattern("name"), {"read": read_role, "update": write_role, "delete": delete_role})
router.add("issue/" + name_pattern("role"), {"update": issue})
router.add("sign/" + name_pattern("role"), {"update": sign})
router.add("revoke", {"update": revoke})
router.add("cert/" + name_pattern("serial"), {"read": read_cert}, **_PUBLIC)
router.add("certs/?", {"list": list_certs})
router.add("tidy", {"update": tidy})
router.add("ca/pem", {"read": ca_pem}, **_PUBLIC)
router.add("ca", {"read": ca_der}, **_PUBLIC)
router.add("ca_chain", {"read": ca_chain}, **_PUBLIC)
router.add("crl/pem", {"read": crl_pem}, **_PUBLIC)
router.add("crl", {"read": crl_der}, **_PUBLIC)
pki_settings_routes.register(router, default_issuer=_default_issuer, set_default=_set_default_if_none)
