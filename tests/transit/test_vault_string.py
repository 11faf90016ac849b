"""The vault:v<N>:<base64> text: one spelling per value, whatever the decoder underneath."""

from __future__ import annotations

import base64
import os

import pytest

from secretumvault.errors import InvalidCiphertext, InvalidType
from secretumvault.transit._vault_string import MAX_VERSION, format_vault_string, parse_vault_string


def parse(text: object) -> tuple[int, bytes]:
    return parse_vault_string(text, what="ciphertext", error=InvalidCiphertext)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 100, 2132])
def test_round_trip_and_same_text_as_base64_module(size: int) -> None:
    body = os.urandom(size) if size else b"\x00"
    text = format_vault_string(7, body)
    assert text == "vault:v7:" + base64.b64encode(body).decode()
    assert parse(text) == (7, body)


@pytest.mark.parametrize(
    "text",
    [
        "vault:v1:QUJD=",  # length not a multiple of 4 (the old decoder accepted this)
        "vault:v1:QUI=" + "=",
        "vault:v1:QUJ=",  # nonzero unused bits: another spelling of "AB"
        "vault:v1:QR==",  # likewise for one byte
        "vault:v1:QU JD",
        "vault:v1:QUJD\n",
        "vault:v1:QUJ\u00e9",
        "vault:v1:=QUJ",
    ],
)
def test_refuses_other_spellings_and_malformed_base64(text: str) -> None:
    with pytest.raises(InvalidCiphertext, match="base64"):
        parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "vault:v01:QUJD",
        "vault:v0:QUJD",
        "vault:v:QUJD",
        "vault:1:QUJD",
        "vaul:v1:QUJD",
        "vault:v1:",
        "x",
        "vault:v" + chr(0x661) + ":QUJD",  # a digit, but not an ASCII one
    ],
)
def test_refuses_malformed_prefixes(text: str) -> None:
    with pytest.raises(InvalidCiphertext, match="form"):
        parse(text)


def test_version_bounds_and_types() -> None:
    assert parse(f"vault:v{MAX_VERSION}:QUJD")[0] == MAX_VERSION
    with pytest.raises(InvalidCiphertext, match="above the largest"):
        parse(f"vault:v{MAX_VERSION + 1}:QUJD")
    with pytest.raises(InvalidType):
        parse(b"vault:v1:QUJD")


def test_long_or_repeated_prefixes_are_refused_without_filling_the_prefix_cache() -> None:
    """The version cache only ever sees short prefixes: a caller cannot make it hold megabytes."""
    from secretumvault.transit._vault_string import _version_in

    before = _version_in.cache_info().currsize
    for text in ("vault:v" + "1" * 100_000 + ":QUJD", "vault:v1:" * 10_000 + "QUJD", "vault:v1:QU:JD"):
        with pytest.raises(InvalidCiphertext, match="form"):
            parse(text)
    assert _version_in.cache_info().currsize <= before + 1  # only "vault:v1:QU" (short) may enter
