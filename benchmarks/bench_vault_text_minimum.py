"""The least any ``vault:v<N>:<base64>`` API can cost, against transit's floors (issue 15).

    python benchmarks/bench_vault_text_minimum.py

For each floor that ``secretumvault bench`` compares transit with, this times
the smallest Python function that still returns or reads Vault's text form:
the same prepared key object, a nonce, binascii's base64 (as transit uses)
and the ``vault:v1:`` prefix,
and nothing else (no key lookup, no freshness check, no policy, no
associated data). Where that alone is above 1.5x the floor, no transit call
can be within 1.5x of it; the ratio shows how much of transit's own ratio is
the text form. Medians of interleaved repeats; prints a table, asserts nothing.
"""

from __future__ import annotations

import binascii
import hmac
import os
import statistics
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PLAINTEXT_SIZE = 1024
_PREFIX = "vault:v1:"
_PREFIX_LENGTH = len(_PREFIX)


def _text(body: bytes) -> str:
    return _PREFIX + binascii.b2a_base64(body, newline=False).decode("ascii")


def _body(text: str) -> bytes:
    return binascii.a2b_base64(text[_PREFIX_LENGTH:], strict_mode=True)


def _per_call_ns(op: Callable[[], object], calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        op()
    return (time.perf_counter_ns() - start) / calls


def _compare(minimum: Callable[[], object], floor: Callable[[], object]) -> tuple[float, float, float]:
    """(minimum ns, floor ns, median ratio), the two taking turns over 15 repeats."""
    minimum(), floor()
    mins, floors, ratios = [], [], []
    for _ in range(15):
        m, f = _per_call_ns(minimum, 20_000), _per_call_ns(floor, 20_000)
        mins.append(m)
        floors.append(f)
        ratios.append(m / f)
    return statistics.median(mins), statistics.median(floors), statistics.median(ratios)


def main() -> None:
    aead = AESGCM(os.urandom(32))
    plaintext = os.urandom(PLAINTEXT_SIZE)
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, plaintext, None)

    def aes_floor_encrypt() -> bytes:  # what bench/transit.py calls the floor
        fresh = os.urandom(12)
        return fresh + aead.encrypt(fresh, plaintext, None)

    def aes_minimum_encrypt() -> str:
        fresh = os.urandom(12)  # as transit does (issue 24)
        return _text(fresh + aead.encrypt(fresh, plaintext, None))

    text = _text(nonce + sealed)

    def aes_minimum_decrypt() -> bytes:
        body = _body(text)
        return aead.decrypt(body[:12], body[12:], None)

    key, data = os.urandom(32), os.urandom(PLAINTEXT_SIZE)
    tag = hmac.digest(key, data, "sha256")
    tag_text = _text(tag)

    cases = (
        ("aes256-gcm96 encrypt", aes_minimum_encrypt, aes_floor_encrypt),
        ("aes256-gcm96 decrypt", aes_minimum_decrypt, lambda: aead.decrypt(nonce, sealed, None)),
        (
            "hmac",
            lambda: _text(hmac.digest(key, data, "sha256")),
            lambda: hmac.digest(key, data, "sha256"),
        ),
        (
            "verify_hmac",
            lambda: hmac.compare_digest(hmac.digest(key, data, "sha256"), _body(tag_text)),
            lambda: hmac.compare_digest(hmac.digest(key, data, "sha256"), tag),
        ),
    )
    print(f"{'operation (1 KiB)':<22}{'minimum µs':>12}{'floor µs':>10}{'ratio':>8}")
    for name, minimum, floor in cases:
        m, f, ratio = _compare(minimum, floor)
        print(f"{name:<22}{m / 1000:>12.2f}{f / 1000:>10.2f}{ratio:>7.2f}x")


if __name__ == "__main__":
    main()
