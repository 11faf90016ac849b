"""Auto-unseal in the keystore's pure layer: the KEK wrapped by a :class:`KeyWrapper`, recovery
shares, and migration between seals.

The wrapper (a transit server, an HSM) does I/O and lives in :mod:`secretumvault.keystore.seals`; this
module only calls it. The layering stays as for the other seals: the wrapper protects the
KEK, the KEK wraps the root key, the root key the keyring.

Migration (``Keystore.prepare_seal_migration`` then ``complete_rekey``) is a rekey: the same
root key is wrapped for the new seal and the core record replaced in one compare-and-set,
so at every moment exactly one seal opens the store. As in Vault, the Shamir shares of a
store moving to an auto seal become its recovery shares, and the recovery shares of a store
moving back become its unseal shares.
"""

from __future__ import annotations

from collections.abc import Sequence

from secretumvault.encoding import tagged_json as _json
from secretumvault.errors import InvalidType, UnsealError
from secretumvault.keystore import shamir
from secretumvault.keystore._aead import KEY_SIZE, NONCE_SIZE, Aead, TagMismatchError
from secretumvault.keystore.seal import AUTO_SEAL_TYPES, AutoSeal, KeyWrapper, ShamirSeal

__all__ = ["check_wrapper", "combine_recovery", "kek_associated_data", "make_auto_seal", "unwrap_kek"]

_KEK_DOMAIN = b"secretumvault.keystore.auto-seal-kek.v1\x00"
_RECOVERY_DOMAIN = b"secretumvault.keystore.recovery-check.v1\x00"


def check_wrapper(wrapper: object) -> KeyWrapper:
    if not isinstance(wrapper, KeyWrapper) or wrapper.seal_type not in AUTO_SEAL_TYPES:
        raise InvalidType(
            "an auto seal needs a KeyWrapper (see secretumvault.keystore.seals), "
            f"not {type(wrapper).__name__}"
        )
    return wrapper


def kek_associated_data(seal_type: str, key_id: str) -> bytes:
    return _KEK_DOMAIN + _json.dumps({"type": seal_type, "key_id": key_id})


def _recovery_associated_data(recovery: ShamirSeal) -> bytes:
    return _RECOVERY_DOMAIN + _json.dumps(recovery.to_dict())


def make_auto_seal(wrapper: KeyWrapper, kek: bytes, recovery: ShamirSeal, recovery_key: bytes) -> AutoSeal:
    """The seal configuration: ``kek`` wrapped by ``wrapper`` (I/O: SealUnavailable if unreachable)."""
    wrapped = wrapper.wrap(kek, kek_associated_data(wrapper.seal_type, wrapper.key_id))
    nonce, tag = Aead(recovery_key).seal(b"", _recovery_associated_data(recovery))
    return AutoSeal(wrapper.seal_type, wrapper.key_id, wrapped, recovery, nonce + tag)


def unwrap_kek(seal: AutoSeal, wrapper: KeyWrapper) -> bytes:
    """The KEK, unwrapped by ``wrapper``; UnsealError if it is another seal's key."""
    check_wrapper(wrapper)
    if wrapper.seal_type != seal.seal_type or wrapper.key_id != seal.key_id:
        raise UnsealError(
            f"this store is sealed by {seal.seal_type} key {seal.key_id!r}, but the seal configured "
            f"is {wrapper.seal_type} key {wrapper.key_id!r}; configure the store's seal (or migrate it)"
        )
    kek = wrapper.unwrap(seal.wrapped_kek, kek_associated_data(seal.seal_type, seal.key_id))
    if len(kek) != KEY_SIZE:
        raise UnsealError(f"the {seal.seal_type} seal returned a key of the wrong size; still sealed")
    return kek


def combine_recovery(seal: AutoSeal, given: Sequence[object]) -> bytes:
    """The recovery key from ``threshold`` of its shares; UnsealError if they are wrong."""
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
        raise UnsealError("give the recovery shares as a list")
    recovery = seal.recovery
    foreign = "a recovery share given belongs to another store (or set of shares)"
    key = shamir.combine(shamir.quorum(given, recovery, "recovery", foreign=foreign))
    check = seal.recovery_check
    try:
        Aead(key).open(check[:NONCE_SIZE], check[NONCE_SIZE:], _recovery_associated_data(recovery))
    except TagMismatchError:
        raise UnsealError("the recovery shares given are wrong; nothing was changed") from None
    return key
