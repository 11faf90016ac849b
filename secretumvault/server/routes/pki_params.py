"""Vault's PKI parameters mapped onto the engine's :class:`~secretumvault.pki.Role` and methods.

The mapping is by introspection, so that when the engine gains a role field
or an issuance argument (``allow_ip_sans``, ``ip_sans``, ``uri_sans``,
``ext_key_usage`` ...) under Vault's name, it is passed through here with no
change: a ``Role`` field is read with the type its annotation names, and an
issuance parameter goes to the engine method if that method takes a keyword
of the same name. A parameter the engine does not take is refused with a 400
rather than silently ignored, since ignoring it could issue something other
than what was asked for.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import re
import typing
from collections.abc import Callable
from typing import Any

from secretumvault.pki import IssuedCertificate, Role
from secretumvault.server.errors import bad_request
from secretumvault.server.params import Params
from secretumvault.server.routes.key_types import PKI_DEFAULT_KEY_TYPE, pki_key_type, vault_pki_key_type

__all__ = ["ISSUE_PARAMETERS", "engine_kwargs", "key_usage_names", "role_from_params", "role_to_data"]

#: Issuance parameters clients send, besides common_name and ttl. Empty values are fine.
ISSUE_PARAMETERS = ("alt_names", "ip_sans", "uri_sans", "other_sans", "ext_key_usage", "ext_key_usage_oids")
_CAPITAL = re.compile(r"[A-Z]")


def key_usage_names(values: list[str]) -> tuple[str, ...]:
    """Vault's ``DigitalSignature`` or the engine's ``digital_signature`` -> the engine's names."""
    names = []
    for value in values:
        snake = _CAPITAL.sub(lambda m: "_" + m.group(0).lower(), value).lstrip("_")
        names.append(snake.lower())
    return tuple(names)


def _vault_usage(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _converter(annotation: Any) -> Callable[[Params, str], Any]:
    """How to read a Role field of this (resolved) type from the request."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is bool:
        return lambda p, n: p.boolean(n)
    if annotation is str:
        return lambda p, n: p.string(n)
    if annotation is int:
        return lambda p, n: p.integer(n)
    if annotation is datetime.timedelta or (datetime.timedelta in args and type(None) in args):
        return lambda p, n: datetime.timedelta(seconds=p.duration(n)) if p.duration(n) else None
    if origin is tuple:
        return lambda p, n: tuple(p.string_list(n))
    raise TypeError(f"no request converter for Role fields of type {annotation!r}")


def role_from_params(
    params: Params, issuer: str, existing: Role | None, default_key_type: str = PKI_DEFAULT_KEY_TYPE
) -> Role:
    """A Role from Vault's role parameters over the existing role (or the defaults).

    A new role with no ``key_type`` gets ``default_key_type`` (Vault's rsa 2048 unless the server
    is set for post-quantum defaults).
    """
    hints = typing.get_type_hints(Role)
    values: dict[str, Any] = {} if existing is None else dataclasses.asdict(existing)
    values["issuer"] = issuer
    if "key_type" in params or "key_bits" in params or existing is None:
        values["key_type"] = pki_key_type(params, values.get("key_type", default_key_type))
    if "key_usage" in params:
        values["key_usage"] = key_usage_names(params.string_list("key_usage"))
    for field in dataclasses.fields(Role):
        if field.name in ("issuer", "key_type", "key_usage") or field.name not in params:
            continue
        converted = _converter(hints[field.name])(params, field.name)
        if converted is None and field.name == "max_ttl":
            continue  # 0: keep the default
        values[field.name] = converted
    return Role(**values)


def role_to_data(role: Role) -> dict[str, Any]:
    """A role as Vault's ``GET pki/roles/<name>`` shows it."""
    data: dict[str, Any] = {}
    for field in dataclasses.fields(Role):
        value = getattr(role, field.name)
        if isinstance(value, datetime.timedelta):
            value = int(value.total_seconds())
        elif isinstance(value, tuple):
            value = list(value)
        data[field.name] = value
    data["ttl"] = data["ttl"] or 0
    data["key_type"], data["key_bits"] = vault_pki_key_type(role.key_type)
    data["key_usage"] = [_vault_usage(u) for u in role.key_usage]
    data["issuer_ref"] = data.pop("issuer")
    return data


def engine_kwargs(method: Callable[..., Any], params: Params) -> dict[str, Any]:
    """The issuance parameters given, as keywords of ``method``; 400 for those it cannot take."""
    accepted = inspect.signature(method).parameters
    kwargs: dict[str, Any] = {}
    for name in ISSUE_PARAMETERS:
        values = params.string_list(name) if name in params else []
        if not values:
            continue
        if name not in accepted:
            raise bad_request(f"{name} is not supported by this server's PKI yet")
        kwargs[name] = tuple(values)
    return kwargs


def issued_data(issued: IssuedCertificate) -> dict[str, Any]:
    """An issued certificate as Vault's issue/sign endpoints answer."""
    data: dict[str, Any] = {
        "certificate": issued.certificate,
        "issuing_ca": issued.issuing_ca,
        "ca_chain": list(issued.ca_chain),
        "serial_number": issued.serial_number,
        "expiration": int(issued.not_after.timestamp()),
    }
    if issued.private_key is not None:
        data["private_key"] = issued.private_key
        data["private_key_type"] = vault_pki_key_type(issued.key_type)[0]
    return data
