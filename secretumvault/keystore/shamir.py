"""Shamir shares of the 32-byte unseal key, as self-describing text.

The arithmetic is pycryptodome's ``Crypto.Protocol.SecretSharing.Shamir``
(GF(2^128), 16-byte secrets, random coefficients from the OS). A 32-byte key is
split as two independent 16-byte halves with the same share indices; any
``threshold`` shares rebuild both halves, fewer reveal nothing about either.

A share is ``svs1-`` followed by unpadded base64url of::

    version (0x01) | set id (8) | threshold (1) | index (1) | half A (16) | half B (16) | check (4)

``check`` is a truncated SHA-256 over the rest. It only catches typos and
garbling (so they give a clear error rather than a wrong key); the key that
comes out of combining is authenticated separately, by unwrapping the stored
root key with AES-GCM.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from collections.abc import Iterable

from Crypto.Protocol.SecretSharing import Shamir

from secretumvault._frozen import Frozen, set_field
from secretumvault.errors import UnsealError
from secretumvault.keystore._aead import KEY_SIZE
from secretumvault.keystore.seal import SET_ID_SIZE, ShamirSeal

__all__ = ["SHARE_PREFIX", "Share", "combine", "parse_share", "quorum", "split"]

SHARE_PREFIX = "svs1-"  # what a share's text starts with (the server reads it too)
_VERSION = 0x01
_HALF = KEY_SIZE // 2
_HEAD = struct.Struct(f">B{SET_ID_SIZE}sBB")
_CHECK_SIZE = 4
_SIZE = _HEAD.size + 2 * _HALF + _CHECK_SIZE
_CHECK_DOMAIN = b"secretumvault.keystore.share.v1\x00"


class Share(Frozen):
    __slots__ = _fields = ("set_id", "threshold", "index", "half_a", "half_b")
    _secret_fields = ("half_a", "half_b")
    set_id: bytes
    threshold: int
    index: int
    half_a: bytes
    half_b: bytes

    def __init__(self, set_id: bytes, threshold: int, index: int, half_a: bytes, half_b: bytes) -> None:
        set_field(self, "set_id", set_id)
        set_field(self, "threshold", threshold)
        set_field(self, "index", index)
        set_field(self, "half_a", half_a)
        set_field(self, "half_b", half_b)


def _check(body: bytes) -> bytes:
    return hashlib.sha256(_CHECK_DOMAIN + body).digest()[:_CHECK_SIZE]


def _encode(share: Share) -> str:
    body = _HEAD.pack(_VERSION, share.set_id, share.threshold, share.index) + share.half_a + share.half_b
    return SHARE_PREFIX + base64.urlsafe_b64encode(body + _check(body)).decode("ascii").rstrip("=")


def split(key: bytes, seal: ShamirSeal) -> list[str]:
    """Split ``key`` into ``seal.shares`` encoded shares, any ``seal.threshold`` of which rebuild it."""
    if len(key) != KEY_SIZE:
        raise ValueError(f"the unseal key must be {KEY_SIZE} bytes")
    halves_a = Shamir.split(seal.threshold, seal.shares, key[:_HALF])
    halves_b = Shamir.split(seal.threshold, seal.shares, key[_HALF:])
    if [i for i, _ in halves_a] != [i for i, _ in halves_b]:
        raise RuntimeError("Shamir.split returned different indices for the two halves")
    return [
        _encode(Share(seal.set_id, seal.threshold, index, a, b))
        for (index, a), (_, b) in zip(halves_a, halves_b, strict=True)
    ]


def parse_share(text: object) -> Share:
    """Decode a share; raise UnsealError if it is not a well-formed, unaltered share."""
    if not isinstance(text, str) or not text.startswith(SHARE_PREFIX):
        raise UnsealError(f"not an unseal share: shares are text starting with {SHARE_PREFIX!r}")
    encoded = text[len(SHARE_PREFIX) :].strip()
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise UnsealError("unseal share is garbled (bad base64); check it was copied whole") from None
    if len(raw) != _SIZE or not hmac.compare_digest(_check(raw[:-_CHECK_SIZE]), raw[-_CHECK_SIZE:]):
        raise UnsealError("unseal share is garbled (check failed); check it was copied whole")
    version, set_id, threshold, index = _HEAD.unpack_from(raw)
    if version != _VERSION:
        raise UnsealError(f"unseal share has unknown version {version}")
    half_a = raw[_HEAD.size : _HEAD.size + _HALF]
    half_b = raw[_HEAD.size + _HALF : _HEAD.size + 2 * _HALF]
    return Share(set_id, threshold, index, half_a, half_b)


def quorum(
    given: Iterable[object], seal: ShamirSeal, kind: str, *, foreign: str, needed_for: str = ""
) -> list[Share]:
    """``seal.threshold`` distinct shares of ``seal``'s set parsed from ``given`` (one given twice
    counts once). UnsealError ``foreign`` for a share of another set; for too few, one that names the
    ``kind`` of share ("recovery") and what they are ``needed_for`` (" to rekey")."""
    distinct: dict[int, Share] = {}
    for text in given:
        share = parse_share(text)
        if share.set_id != seal.set_id or share.threshold != seal.threshold:
            raise UnsealError(foreign)
        distinct.setdefault(share.index, share)
    if len(distinct) < seal.threshold:
        raise UnsealError(
            f"{len(distinct)} distinct {kind} share(s) given; this store needs {seal.threshold}{needed_for}"
        )
    return list(distinct.values())[: seal.threshold]


def combine(shares: list[Share]) -> bytes:
    """Rebuild the key from distinct shares (the caller checks count and set id)."""
    half_a = Shamir.combine([(s.index, s.half_a) for s in shares])
    half_b = Shamir.combine([(s.index, s.half_b) for s in shares])
    return bytes(half_a) + bytes(half_b)
