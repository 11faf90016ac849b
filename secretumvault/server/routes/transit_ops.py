"""Transit operations: encrypt, decrypt, rewrap, datakey, sign, verify, hmac, random, hash.

Each takes one item (Vault's top-level fields) or ``batch_input``; see
:mod:`.batch` for how batch results and status codes are formed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from secretumvault.errors import ConflictError, InvalidSignature, KeyNotFound
from secretumvault.server.envelope import Reply
from secretumvault.server.errors import HttpError, bad_request
from secretumvault.server.params import Params
from secretumvault.server.routes.batch import run_batch
from secretumvault.server.routing import Call
from secretumvault.transit import Transit
from secretumvault.transit._mac import HMAC_ALGORITHMS as _HASHES  # Vault names them alike for hash and hmac

__all__ = ["datakey", "decrypt", "encrypt", "hash_data", "hmac", "random", "rewrap", "sign", "verify"]

_MAX_RANDOM_BYTES = 128 * 1024


def _engine(call: Call) -> Transit:
    engine: Transit = call.engine
    return engine


def _key_not_found(exc: KeyNotFound, what: str) -> HttpError:
    return bad_request(f"{what} key not found: {exc}")


def _associated_data(p: Params) -> bytes | None:
    if "context" in p and p.string("context"):
        raise bad_request("context is for derived keys, which this server does not have; use associated_data")
    if "nonce" in p and p.string("nonce"):
        raise bad_request("nonce is for convergent encryption, which this server does not have")
    return p.base64("associated_data") if "associated_data" in p else None


def _key_version(p: Params) -> int | None:
    version = p.integer("key_version", 0)
    return None if version == 0 else version


# -- encryption ----------------------------------------------------------------------------------


def encrypt(call: Call) -> Reply:
    engine, name = _engine(call), call.group("name")

    def one(item: Params) -> dict[str, Any]:
        plaintext = item.base64("plaintext", required=True)
        ciphertext = engine.encrypt(name, plaintext, _associated_data(item), key_version=_key_version(item))
        return {"ciphertext": ciphertext, "key_version": _version_of(ciphertext)}

    try:
        return _single_or_batch(call, one, "encryption", vault_status_rules=True, reraise_missing=True)
    except KeyNotFound as exc:
        if not call.may_create:
            raise _key_not_found(exc, "encryption") from None
    created = _create_for_encrypt(call)
    reply = _single_or_batch(call, one, "encryption", vault_status_rules=True)
    reply.warnings.append(f"key {name} was created for this request (type {created})")
    return reply


def default_key_type(call: Call) -> str:
    """Vault's default (aes256-gcm96), or ml-kem-768 where the operator set ``[server] pq_defaults``."""
    from secretumvault.server.routes.key_types import TRANSIT_DEFAULT, TRANSIT_PQ_DEFAULT

    return TRANSIT_PQ_DEFAULT if call.core.pq_defaults else TRANSIT_DEFAULT


def _create_for_encrypt(call: Call) -> str:
    """Vault creates a missing key on encrypt when the token may create it; the type created."""
    from secretumvault.server.routes.key_types import transit_key_type_spelled

    refuse_unsupported(call)
    key_type, spelled = transit_key_type_spelled(call.params, default_key_type(call))
    try:
        _engine(call).create_key(call.group("name"), type=key_type, client_type=spelled)
    except ConflictError:
        pass  # created meanwhile by another request: use it
    return key_type


def decrypt(call: Call) -> Reply:
    engine, name = _engine(call), call.group("name")

    def one(item: Params) -> dict[str, Any]:
        ciphertext = item.string("ciphertext", required=True)
        plaintext = engine.decrypt(name, ciphertext, _associated_data(item))
        return {"plaintext": base64.b64encode(plaintext).decode("ascii")}

    return _single_or_batch(call, one, "decryption", vault_status_rules=True)


def rewrap(call: Call) -> Reply:
    engine, name = _engine(call), call.group("name")

    def one(item: Params) -> dict[str, Any]:
        ciphertext = item.string("ciphertext", required=True)
        new = engine.rewrap(name, ciphertext, _associated_data(item), key_version=_key_version(item))
        return {"ciphertext": new, "key_version": _version_of(new)}

    return _single_or_batch(call, one, "encryption", vault_status_rules=True)


def datakey(call: Call) -> Reply:
    p = call.params
    bits = p.integer("bits", 256)
    include_plaintext = call.group("kind") == "plaintext"
    try:
        key = _engine(call).generate_data_key(
            call.group("name"),
            bits=bits,
            include_plaintext=include_plaintext,
            associated_data=_associated_data(p),
        )
    except KeyNotFound as exc:
        raise _key_not_found(exc, "encryption") from None
    data: dict[str, Any] = {"ciphertext": key.ciphertext, "key_version": key.key_version}
    if key.plaintext is not None:
        data["plaintext"] = base64.b64encode(key.plaintext).decode("ascii")
    return Reply(data=data)


# -- signing and HMAC ------------------------------------------------------------------------------


def _signing_options(call: Call) -> dict[str, Any]:
    """Vault's sign/verify options. ``signature_algorithm`` and ``salt_length`` matter to RSA keys
    only and, as Vault documents, are ignored for the others (the library decides)."""
    p = call.params
    if p.boolean("prehashed"):
        raise bad_request("prehashed input is not supported: send the input itself")
    if p.string("marshaling_algorithm", "asn1") != "asn1":
        raise bad_request("only marshaling_algorithm asn1 is available")
    hash_algorithm = call.groups.get("algorithm") or p.string("hash_algorithm") or p.string("algorithm")
    return {
        "hash_algorithm": hash_algorithm or None,
        "signature_algorithm": p.string("signature_algorithm") or None,
        "salt_length": p.string("salt_length") or None,
    }


def _context(item: Params) -> bytes:
    """The FIPS 204 context string for ML-DSA keys (base64, as Vault's ``context``)."""
    return item.base64("context") if "context" in item else b""


def sign(call: Call) -> Reply:
    options = _signing_options(call)
    engine, name = _engine(call), call.group("name")

    def one(item: Params) -> dict[str, Any]:
        data = item.base64("input")
        signature = engine.sign(name, data, _context(item), key_version=_key_version(item), **options)
        return {"signature": signature, "key_version": _version_of(signature)}

    return _single_or_batch(call, one, "signing", vault_status_rules=False)


def verify(call: Call) -> Reply:
    options = _signing_options(call)
    engine, name, p = _engine(call), call.group("name"), call.params
    items = p.items("batch_input") or [{}]
    with_hmac = ["hmac" in item for item in items] if "batch_input" in p else ["hmac" in p]
    with_signature = ["signature" in item for item in items] if "batch_input" in p else ["signature" in p]
    if any(with_hmac) and any(with_signature):
        raise bad_request("provide one of 'signature' or 'hmac'")
    if not all(a or b for a, b in zip(with_hmac, with_signature, strict=True)):
        raise bad_request("neither a 'signature' nor an 'hmac' were given to verify")
    use_hmac = any(with_hmac)

    def one(item: Params) -> dict[str, Any]:
        data = item.base64("input")
        try:
            if use_hmac:  # Vault HMACs with hash_algorithm here
                algorithm = options["hash_algorithm"] or "sha2-256"
                engine.verify_hmac(name, data, item.string("hmac", required=True), algorithm=algorithm)
            else:
                engine.verify(name, data, item.string("signature", required=True), _context(item), **options)
        except InvalidSignature:
            return {"valid": False}  # a wrong signature is an answer, not an error
        return {"valid": True}

    return _single_or_batch(call, one, "signature verification", vault_status_rules=False)


def hmac(call: Call) -> Reply:
    p = call.params
    algorithm = call.groups.get("algorithm") or p.string("algorithm") or "sha2-256"
    engine, name = _engine(call), call.group("name")

    def one(item: Params) -> dict[str, Any]:
        mac = engine.hmac(name, item.base64("input"), key_version=_key_version(item), algorithm=algorithm)
        return {"hmac": mac, "key_version": _version_of(mac)}

    return _single_or_batch(call, one, "HMAC", vault_status_rules=False)


# -- random and hash -----------------------------------------------------------------------------------


def random(call: Call) -> Reply:
    p = call.params
    url_bytes = call.groups.get("bytes")
    count = int(url_bytes) if url_bytes is not None and len(url_bytes) <= 7 else p.integer("bytes", 32)
    if not 1 <= count <= _MAX_RANDOM_BYTES:
        raise bad_request(f"bytes must be from 1 to {_MAX_RANDOM_BYTES}")
    p.string("source")  # platform, seal, all: every source here is the operating system's CSPRNG
    data = secrets.token_bytes(count)
    return Reply(data={"random_bytes": _format(data, p.string("format", "base64"))})


def hash_data(call: Call) -> Reply:
    p = call.params
    algorithm = call.groups.get("algorithm") or p.string("algorithm") or "sha2-256"
    function = _HASHES.get(algorithm)
    if function is None:
        raise bad_request(f"unsupported algorithm {algorithm!r}; use one of {', '.join(_HASHES)}")
    digest = hashlib.new(function, p.base64("input", required=True)).digest()
    return Reply(data={"sum": _format(digest, p.string("format", "hex"))})


def _format(data: bytes, output: str) -> str:
    if output == "hex":
        return data.hex()
    if output == "base64":
        return base64.b64encode(data).decode("ascii")
    raise bad_request("format must be hex or base64")


# -- helpers --------------------------------------------------------------------------------------------


def _version_of(vault_string: str) -> int:
    return int(vault_string.split(":", 2)[1][1:])


def _single_or_batch(
    call: Call, one: Any, what: str, *, vault_status_rules: bool, reraise_missing: bool = False
) -> Reply:
    """One item or a batch. A missing key is a 400 (or, with ``reraise_missing``, KeyNotFound)."""
    items = call.params.items("batch_input")
    try:
        if items is None:
            return Reply(data=one(call.params))
        _engine(call).read_key(call.group("name"))  # a missing key fails the whole batch, as in Vault
    except KeyNotFound as exc:
        if reraise_missing:
            raise
        raise _key_not_found(exc, what) from None
    outcome = run_batch(items, one, max_items=call.max_batch_items, deadline=call.deadline)
    return outcome.reply(call.params, vault_status_rules=vault_status_rules)


def refuse_unsupported(call: Call) -> None:
    """Vault options this engine does not have: refused, never silently ignored."""
    p = call.params
    if p.boolean("derived") or p.boolean("convergent_encryption"):
        raise bad_request("key derivation and convergent encryption are not supported by this server")
    if p.duration("auto_rotate_period", 0):
        raise bad_request("auto_rotate_period is not supported by this server")
    if p.integer("key_size", 0):
        raise bad_request("key_size is not supported: hmac keys are 256 bits")
