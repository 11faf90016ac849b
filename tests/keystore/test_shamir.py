"""Shamir share splitting, combining and encoding (property tests)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secretumvault.errors import UnsealError
from secretumvault.keystore import shamir
from secretumvault.keystore.seal import ShamirSeal


@st.composite
def splits(draw: st.DrawFn) -> tuple[bytes, ShamirSeal, list[str]]:
    shares = draw(st.integers(2, 10))
    threshold = draw(st.integers(2, shares))
    key = draw(st.binary(min_size=32, max_size=32))
    seal = ShamirSeal.new(shares, threshold)
    return key, seal, shamir.split(key, seal)


@settings(max_examples=50, deadline=None)
@given(split=splits(), data=st.data())
def test_any_threshold_or_more_shares_rebuild_the_key(
    split: tuple[bytes, ShamirSeal, list[str]], data: st.DataObject
) -> None:
    key, seal, encoded = split
    count = data.draw(st.integers(seal.threshold, seal.shares))
    chosen = data.draw(st.permutations(encoded))[:count]
    assert shamir.combine([shamir.parse_share(s) for s in chosen]) == key


@settings(max_examples=50, deadline=None)
@given(split=splits(), data=st.data())
def test_fewer_than_threshold_shares_do_not(
    split: tuple[bytes, ShamirSeal, list[str]], data: st.DataObject
) -> None:
    key, seal, encoded = split
    chosen = data.draw(st.permutations(encoded))[: seal.threshold - 1]
    assert shamir.combine([shamir.parse_share(s) for s in chosen]) != key


@settings(max_examples=50, deadline=None)
@given(split=splits())
def test_shares_carry_their_set_threshold_and_index(split: tuple[bytes, ShamirSeal, list[str]]) -> None:
    _, seal, encoded = split
    parsed = [shamir.parse_share(s) for s in encoded]
    assert [p.index for p in parsed] == list(range(1, seal.shares + 1))
    assert {(p.set_id, p.threshold) for p in parsed} == {(seal.set_id, seal.threshold)}


_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@settings(max_examples=200, deadline=None)
@given(position=st.integers(0, 62), replacement=st.sampled_from(_BASE64URL))
def test_a_mistyped_character_is_caught(position: int, replacement: str) -> None:
    seal = ShamirSeal.new(3, 2)
    share = shamir.split(bytes(32), seal)[0]
    body = share[len("svs1-") :]
    mistyped = "svs1-" + body[:position] + replacement + body[position + 1 :]
    if mistyped == share:
        return
    try:
        parsed = shamir.parse_share(mistyped)
    except UnsealError:
        return
    # Only the last character carries 2 unused padding bits: changing just
    # those decodes to the very same share.
    assert position == len(body) - 1
    assert parsed == shamir.parse_share(share)


def test_share_repr_hides_the_share_values() -> None:
    seal = ShamirSeal.new(2, 2)
    parsed = shamir.parse_share(shamir.split(b"\xaa" * 32, seal)[0])
    assert parsed.half_a.hex() not in repr(parsed)
    assert parsed.half_b.hex() not in repr(parsed)
    assert "half" not in repr(parsed)


def test_split_needs_a_32_byte_key() -> None:
    with pytest.raises(ValueError):
        shamir.split(b"short", ShamirSeal.new(2, 2))
