"""Hypothesis: round trips hold for any input; any corruption is refused and changes nothing."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from secretumvault.errors import DecryptionError, InvalidCiphertext
from secretumvault.transit import Transit
from tests.transit.conftest import Unchanged

# The transit fixture is the same for every example, which is what we want here.
_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TYPES = ["aes256-gcm96", "chacha20-poly1305", "ml-kem-768", "hybrid-x25519-ml-kem-768"]


@pytest.mark.parametrize("key_type", TYPES)
@_SETTINGS
@given(plaintext=st.binary(max_size=2048), associated_data=st.one_of(st.none(), st.binary(max_size=64)))
def test_encrypt_decrypt_rewrap(
    transit: Transit, key_type: str, plaintext: bytes, associated_data: bytes | None
) -> None:
    if key_type not in transit.list_keys():
        transit.create_key(key_type, key_type)
    ciphertext = transit.encrypt(key_type, plaintext, associated_data)
    assert transit.decrypt(key_type, ciphertext, associated_data) == plaintext
    rewrapped = transit.rewrap(key_type, ciphertext, associated_data)
    assert rewrapped != ciphertext
    assert transit.decrypt(key_type, rewrapped, associated_data) == plaintext


@pytest.mark.parametrize("key_type", TYPES)
@_SETTINGS
@given(plaintext=st.binary(min_size=1, max_size=256), data=st.data())
def test_random_corruption_is_refused(
    transit: Transit, unchanged: Unchanged, key_type: str, plaintext: bytes, data: st.DataObject
) -> None:
    if key_type not in transit.list_keys():
        transit.create_key(key_type, key_type)
    ciphertext = transit.encrypt(key_type, plaintext)
    original = base64.b64decode(ciphertext.split(":", 2)[2])
    body = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(body) - 1))
        body[position] ^= data.draw(st.integers(1, 255))
    if data.draw(st.booleans()):
        body = body[: data.draw(st.integers(0, len(body)))]
    assume(bytes(body) != original)  # two flips of one byte can cancel out
    check = unchanged()
    with pytest.raises((DecryptionError, InvalidCiphertext)):
        transit.decrypt(key_type, f"vault:v1:{base64.b64encode(bytes(body)).decode()}")
    check()


@_SETTINGS
@given(text=st.text(max_size=80))
def test_arbitrary_strings_are_malformed_or_rejected(transit: Transit, text: str) -> None:
    if "k" not in transit.list_keys():
        transit.create_key("k")
    with pytest.raises((InvalidCiphertext, DecryptionError)):
        transit.decrypt("k", text)
