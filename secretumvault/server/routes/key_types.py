"""Key type names as clients spell them: the library's, and Vault's and OpenBao's aliases.

Transit: the library's names (``ml-kem-768``, ``ml-dsa-65``,
``hybrid-x25519-ml-kem-768`` ...); OpenBao's ``mldsa-44|65|87`` (and, by
the same pattern, ``mlkem-768|1024``); Vault Enterprise's ``type=ml-dsa``
with ``parameter_set=44|65|87`` and ``type=hybrid`` with
``hybrid_key_type_pqc=ml-dsa``, ``parameter_set=65``, ``hybrid_key_type_ec=ed25519``.
Composite ML-DSA (draft-ietf-lamps-pq-composite-sigs-19) by the library's names only, e.g.
``composite-ml-dsa-65-ecdsa-p256-sha512``: ``type=hybrid`` keeps meaning the library's own
hybrid format, so that existing keys and clients see no change.
SLH-DSA as ``slh-dsa-sha2-128s`` ... or Vault Enterprise's ``type=slh-dsa`` with
``parameter_set=SLH-DSA-SHA2-128s`` (any case; the ``slh-dsa-`` prefix optional).

PKI: Vault's ``rsa`` (key_bits 2048, 3072, 4096; the default, 2048), ``ec``
(224, 256, 384, 521; 0 means 256) and ``ed25519``; OpenBao 2.7's
``key_type=mldsa`` with ``key_bits=44|65|87`` (0 means 65); and the library's
(``ML-DSA-65``, ``Ed25519``, ``ECDSA-P256``, ``RSA-3072``), which include the composite
ML-DSA types (``MLDSA65-ECDSA-P256-SHA512`` ..., with no key_bits) and the twelve SLH-DSA sets
(RFC 9909; ``SLH-DSA-SHA2-128s`` ..., spelled as transit's ``slh-dsa-sha2-128s`` in any case, no key_bits).
"""

from __future__ import annotations

from secretumvault.pqc.params import SLH_DSA_NAMES
from secretumvault.server.errors import bad_request
from secretumvault.server.params import Params

__all__ = [
    "PKI_DEFAULT_KEY_TYPE",
    "PKI_PQ_DEFAULT_KEY_TYPE",
    "TRANSIT_DEFAULT",
    "TRANSIT_PQ_DEFAULT",
    "pki_key_type",
    "transit_key_type",
    "transit_key_type_spelled",
    "vault_pki_key_type",
]

_TRANSIT_ALIASES = {
    "mldsa-44": "ml-dsa-44",
    "mldsa-65": "ml-dsa-65",
    "mldsa-87": "ml-dsa-87",
    "mlkem-768": "ml-kem-768",
    "mlkem-1024": "ml-kem-1024",
}
_PARAMETER_SETS = ("44", "65", "87")
_SLH_DSA_TYPES = frozenset(name.lower() for name in SLH_DSA_NAMES)


#: Vault's default transit key type, and the one ``[server] pq_defaults = true`` makes the default.
TRANSIT_DEFAULT = "aes256-gcm96"
TRANSIT_PQ_DEFAULT = "ml-kem-768"


def transit_key_type(params: Params, default: str = TRANSIT_DEFAULT) -> str:
    """The library's transit key type for the request's ``type`` (and companions)."""
    return transit_key_type_spelled(params, default)[0]


def transit_key_type_spelled(params: Params, default: str = TRANSIT_DEFAULT) -> tuple[str, dict[str, str]]:
    """The library's transit key type for the request's ``type`` (and companions), and how the
    client spelled it when that differs (stored, so the key reads back as written: no drift)."""
    raw = params.string("type") or default
    name = raw.lower()
    parameter_set = params.string("parameter_set")
    if name == "ml-dsa":
        if parameter_set not in _PARAMETER_SETS:
            raise bad_request("type ml-dsa needs parameter_set 44, 65 or 87")
        return f"ml-dsa-{parameter_set}", {"type": raw, "parameter_set": parameter_set}
    if name == "hybrid":
        pqc = params.string("hybrid_key_type_pqc")
        classical = params.string("hybrid_key_type_ec")
        if (pqc, parameter_set or "65", classical) != ("ml-dsa", "65", "ed25519"):
            raise bad_request(
                "type hybrid is available as hybrid_key_type_pqc=ml-dsa, parameter_set=65, "
                "hybrid_key_type_ec=ed25519 (hybrid-ed25519-ml-dsa-65)"
            )
        spelled = {"type": raw, "hybrid_key_type_pqc": pqc, "hybrid_key_type_ec": classical}
        if parameter_set:
            spelled["parameter_set"] = parameter_set
        return "hybrid-ed25519-ml-dsa-65", spelled
    if name == "slh-dsa":
        # Vault Enterprise's type=slh-dsa; parameter_set as FIPS 205 names it ("SLH-DSA-SHA2-128s"),
        # any case, with or without the "slh-dsa-" prefix
        wanted = (parameter_set or "").lower().removeprefix("slh-dsa-")
        if f"slh-dsa-{wanted}" not in _SLH_DSA_TYPES:
            raise bad_request(
                "type slh-dsa needs parameter_set SLH-DSA-SHA2-128s|128f|192s|192f|256s|256f "
                "or SLH-DSA-SHAKE-128s ... 256f (any case; the SLH-DSA- prefix optional)"
            )
        return f"slh-dsa-{wanted}", {"type": raw, "parameter_set": str(parameter_set)}
    if parameter_set:
        raise bad_request("parameter_set goes with type ml-dsa, slh-dsa or hybrid")
    canonical = _TRANSIT_ALIASES.get(name, name)
    return canonical, ({} if raw == canonical else {"type": raw})


_PKI_NAMES = {
    "ml-dsa-44": "ML-DSA-44",
    "ml-dsa-65": "ML-DSA-65",
    "ml-dsa-87": "ML-DSA-87",
    "ed25519": "Ed25519",
    "ecdsa-p224": "ECDSA-P224",
    "ecdsa-p256": "ECDSA-P256",
    "ecdsa-p384": "ECDSA-P384",
    "ecdsa-p521": "ECDSA-P521",
    "rsa-2048": "RSA-2048",
    "rsa-3072": "RSA-3072",
    "rsa-4096": "RSA-4096",
    "any": "any",
    # Composite ML-DSA (draft-ietf-lamps-pq-composite-sigs-19), by the draft's names without "id-".
    "mldsa44-ed25519-sha512": "MLDSA44-Ed25519-SHA512",
    "mldsa65-ed25519-sha512": "MLDSA65-Ed25519-SHA512",
    "mldsa65-ecdsa-p256-sha512": "MLDSA65-ECDSA-P256-SHA512",
    "mldsa87-ecdsa-p384-sha512": "MLDSA87-ECDSA-P384-SHA512",
    # SLH-DSA (RFC 9909), by the FIPS 205 names, as transit spells its key types.
    **{name.lower(): name for name in SLH_DSA_NAMES},
}
#: Vault's defaults: no key_type is rsa 2048; key_bits 0 is 2048 for rsa and 256 for ec.
PKI_DEFAULT_KEY_TYPE = "RSA-2048"
#: The default under ``[server] pq_defaults = true``.
PKI_PQ_DEFAULT_KEY_TYPE = "ML-DSA-65"
_RSA_BITS = (2048, 3072, 4096)
_EC_BITS = (224, 256, 384, 521)


def pki_key_type(params: Params, default: str = PKI_DEFAULT_KEY_TYPE) -> str:
    """The library's PKI key type for the request's ``key_type`` and ``key_bits`` (``default`` if none)."""
    raw = params.string("key_type")
    bits = params.integer("key_bits", 0)
    if not raw:
        if not bits:
            return default
        # key_bits alone: of the default's family, as in Vault (where key_type defaults to rsa).
        raw = "mldsa" if default.startswith("ML-DSA-") else vault_pki_key_type(default)[0]
    name = raw.lower()
    if name == "mldsa":
        if bits not in (0, 44, 65, 87):
            raise bad_request("key_type mldsa takes key_bits 44, 65 or 87 (0: 65)")
        return f"ML-DSA-{bits or 65}"
    if name == "ec":
        if bits not in (0, *_EC_BITS):
            raise bad_request("key_type ec takes key_bits 224, 256, 384 or 521 (0: 256)")
        return f"ECDSA-P{bits or 256}"
    if name == "rsa":
        if bits not in (0, *_RSA_BITS):
            raise bad_request("key_type rsa takes key_bits 2048, 3072 or 4096 (0: 2048; 8192 is refused)")
        return f"RSA-{bits or 2048}"
    if name == "ed25519" and bits:
        raise bad_request("key_type ed25519 takes no key_bits")
    found = _PKI_NAMES.get(name)
    if found is None:
        raise bad_request(
            f"unknown key_type {raw!r}; use rsa (key_bits 2048|3072|4096), ec (key_bits 224|256|384|521), "
            "ed25519, mldsa (key_bits 44|65|87), ml-dsa-65, a composite (MLDSA65-ECDSA-P256-SHA512 ...), "
            "slh-dsa-sha2-128s ... slh-dsa-shake-256f, any"
        )
    if bits and found.startswith(("MLDSA", "SLH-DSA-")):
        raise bad_request(f"key_type {raw!r} takes no key_bits")
    if bits and not (name.endswith(str(bits)) or name == "any"):
        raise bad_request(f"key_bits {bits} does not go with key_type {raw!r}")
    return found


def vault_pki_key_type(name: str) -> tuple[str, int]:
    """The library's PKI key type as Vault names it: ``(key_type, key_bits)``, e.g. ("rsa", 2048)."""
    if name.startswith("RSA-"):
        return "rsa", int(name[4:])
    if name.startswith("ECDSA-P"):
        return "ec", int(name[7:])
    if name == "Ed25519":
        return "ed25519", 0
    if name.startswith("ML-DSA-"):
        return name.lower(), int(name[7:])
    return name, 0
