"""encrypt / decrypt / rewrap / data keys / batches, and every way they refuse bad input."""

from __future__ import annotations

import base64

import pytest

from secretumvault.errors import (
    DecryptionError,
    InvalidArgument,
    InvalidCiphertext,
    InvalidType,
    PolicyViolation,
    UnsupportedAlgorithm,
)
from secretumvault.transit import Transit
from tests.conftest import untyped
from tests.transit.conftest import ENCRYPTION_TYPES, SIGNING_TYPES, Unchanged


def _body(ciphertext: str) -> bytes:
    return base64.b64decode(ciphertext.split(":", 2)[2])


def _with_body(ciphertext: str, body: bytes) -> str:
    prefix = ciphertext.rsplit(":", 1)[0]
    return f"{prefix}:{base64.b64encode(body).decode()}"


@pytest.mark.parametrize("key_type", ENCRYPTION_TYPES)
def test_round_trip_with_associated_data(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    for plaintext in (b"", b"x", bytes(range(256)) * 5):
        ciphertext = transit.encrypt("k", plaintext, b"tenant 7")
        assert ciphertext.startswith("vault:v1:")
        assert transit.decrypt("k", ciphertext, b"tenant 7") == plaintext
    assert transit.encrypt("k", b"same") != transit.encrypt("k", b"same")  # randomised


@pytest.mark.parametrize("key_type", ENCRYPTION_TYPES)
def test_every_refusal_leaves_state_unchanged(transit: Transit, key_type: str, unchanged: Unchanged) -> None:
    transit.create_key("k", key_type)
    transit.create_key("other", key_type)
    ciphertext = transit.encrypt("k", b"secret", b"ad")
    check = unchanged()
    with pytest.raises(DecryptionError):
        transit.decrypt("k", ciphertext, b"other ad")
    with pytest.raises(DecryptionError):
        transit.decrypt("k", ciphertext)  # associated data missing
    with pytest.raises(DecryptionError):
        transit.decrypt("other", ciphertext, b"ad")  # another key of the same type
    with pytest.raises(DecryptionError, match="latest is 1"):
        transit.decrypt("k", ciphertext.replace("vault:v1:", "vault:v2:"), b"ad")
    with pytest.raises(InvalidCiphertext):
        transit.decrypt("k", _with_body(ciphertext, _body(ciphertext)[:10]), b"ad")
    with pytest.raises(InvalidType):
        transit.decrypt("k", untyped(ciphertext.encode()), b"ad")
    with pytest.raises(InvalidType):
        transit.encrypt("k", untyped("text"))
    with pytest.raises(InvalidType):
        transit.encrypt("k", b"x", untyped("ad"))
    with pytest.raises(InvalidArgument, match="no version 2"):
        transit.encrypt("k", b"x", key_version=2)
    check()


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "vault:v1:",
        "vault:v0:AAAA",
        "vault:v01:AAAA",
        "vault:1:AAAA",
        "vaul:v1:AAAA",
        "vault:v1:AAA",
        "vault:v1:AA=A",
        "vault:v1:QR==",  # non-canonical padding bits
        "vault:v1:AAAA\n",
        "vault:v99999999999:AAAA",
        "vault:v1:AAAA:AAAA",
    ],
)
def test_malformed_vault_strings(transit: Transit, malformed: str, unchanged: Unchanged) -> None:
    transit.create_key("k")
    check = unchanged()
    with pytest.raises(InvalidCiphertext):
        transit.decrypt("k", malformed)
    check()


@pytest.mark.parametrize("key_type", ENCRYPTION_TYPES)
def test_every_byte_of_the_body_is_authenticated(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    ciphertext = transit.encrypt("k", b"sixteen byte msg", b"ad")
    body = _body(ciphertext)
    # Every byte for symmetric bodies; for KEM bodies every byte of the header and AEAD part
    # and a spread of KEM-ciphertext bytes (each KEM decapsulation costs time).
    positions = (
        range(len(body))
        if len(body) < 100
        else sorted({*range(8), *range(len(body) - 40, len(body)), *range(8, len(body), 97)})
    )
    for position in positions:
        tampered = bytearray(body)
        tampered[position] ^= 0x01
        with pytest.raises((DecryptionError, InvalidCiphertext)):
            transit.decrypt("k", _with_body(ciphertext, bytes(tampered)), b"ad")


def test_ciphertext_is_bound_to_key_type_and_name(transit: Transit) -> None:
    transit.create_key("a", "aes256-gcm96")
    transit.create_key("c", "chacha20-poly1305")
    with pytest.raises(DecryptionError):
        transit.decrypt("c", transit.encrypt("a", b"x"))
    transit.create_key("m", "ml-kem-768")
    with pytest.raises((DecryptionError, InvalidCiphertext)):
        transit.decrypt("m", transit.encrypt("a", b"x"))


def test_min_decryption_version_and_rewrap(transit: Transit, unchanged: Unchanged) -> None:
    transit.create_key("k", "ml-kem-768")
    old = transit.encrypt("k", b"payload", b"ad")
    transit.rotate_key("k")
    rewrapped = transit.rewrap("k", old, b"ad")
    assert rewrapped.startswith("vault:v2:")
    transit.update_key_config("k", min_decryption_version=2)
    check = unchanged()
    with pytest.raises(PolicyViolation, match="below its min_decryption_version"):
        transit.decrypt("k", old, b"ad")
    with pytest.raises(PolicyViolation, match="min_decryption_version"):
        transit.rewrap("k", old, b"ad")
    with pytest.raises(DecryptionError):
        transit.rewrap("k", rewrapped, b"wrong ad")
    check()
    assert transit.decrypt("k", rewrapped, b"ad") == b"payload"


def test_min_encryption_version(transit: Transit) -> None:
    transit.create_key("k")
    transit.rotate_key("k")
    assert transit.encrypt("k", b"x", key_version=1).startswith("vault:v1:")
    transit.update_key_config("k", min_encryption_version=2)
    with pytest.raises(InvalidArgument, match="min_encryption_version"):
        transit.encrypt("k", b"x", key_version=1)
    assert transit.rewrap("k", transit.encrypt("k", b"x"), key_version=2).startswith("vault:v2:")


@pytest.mark.parametrize("key_type", [*SIGNING_TYPES, "hmac"])
def test_non_encryption_types_refuse(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    with pytest.raises(UnsupportedAlgorithm, match="does not do encryption"):
        transit.encrypt("k", b"x")
    with pytest.raises(UnsupportedAlgorithm, match="does not do decryption"):
        transit.decrypt("k", "vault:v1:AAAA")
    with pytest.raises(UnsupportedAlgorithm):
        transit.generate_data_key("k")


@pytest.mark.parametrize("key_type", ENCRYPTION_TYPES)
def test_generate_data_key(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    for bits in (128, 256, 512):
        data_key = transit.generate_data_key("k", bits=bits, associated_data=b"file 1")
        assert data_key.plaintext is not None and len(data_key.plaintext) == bits // 8
        assert data_key.key_version == 1
        assert transit.decrypt("k", data_key.ciphertext, b"file 1") == data_key.plaintext
    wrapped_only = transit.generate_data_key("k", include_plaintext=False)
    assert wrapped_only.plaintext is None
    assert len(transit.decrypt("k", wrapped_only.ciphertext)) == 32
    assert data_key.plaintext is not None
    assert data_key.plaintext.hex() not in repr(data_key) and str(data_key.plaintext) not in repr(data_key)
    for bad_bits in (0, 192, True, "256"):
        with pytest.raises(InvalidArgument):
            transit.generate_data_key("k", bits=untyped(bad_bits))


@pytest.mark.parametrize("key_type", ENCRYPTION_TYPES)
def test_batch_round_trip_across_versions(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    plaintexts = [bytes([i]) * i for i in range(20)]
    ads = [b"ad %d" % i for i in range(20)]
    first = transit.encrypt_batch("k", plaintexts, ads)
    transit.rotate_key("k")
    second = transit.encrypt_batch("k", plaintexts)
    assert all(c.startswith("vault:v1:") for c in first) and all(c.startswith("vault:v2:") for c in second)
    mixed = [c for pair in zip(first, second, strict=True) for c in pair]
    mixed_ads = [a for ad in ads for a in (ad, None)]
    expected = [p for plaintext in plaintexts for p in (plaintext, plaintext)]
    assert transit.decrypt_batch("k", mixed, mixed_ads) == expected
    assert transit.encrypt_batch("k", []) == [] and transit.decrypt_batch("k", []) == []


@pytest.mark.parametrize("key_type", ["aes256-gcm96", "ml-kem-768", "hybrid-x25519-ml-kem-768"])
def test_batch_reports_the_failing_item(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    good = transit.encrypt_batch("k", [b"a", b"b", b"c"])
    body = bytearray(_body(good[1]))
    body[-1] ^= 1
    with pytest.raises(DecryptionError, match="batch item 1"):
        transit.decrypt_batch("k", [good[0], _with_body(good[1], bytes(body)), good[2]])
    with pytest.raises(InvalidCiphertext, match="batch item 2"):
        transit.decrypt_batch("k", [good[0], good[1], "vault:v1:!!"])
    with pytest.raises(InvalidCiphertext, match="batch item 0"):
        transit.decrypt_batch("k", [_with_body(good[0], b"\x00\x00"), good[1]])
    with pytest.raises(InvalidArgument, match="2 items, expected 3"):
        transit.encrypt_batch("k", [b"a", b"b", b"c"], [b"x", b"y"])
    with pytest.raises(InvalidType):
        transit.encrypt_batch("k", untyped(b"abc"))
    with pytest.raises(InvalidType):
        transit.encrypt_batch("k", [b"a", untyped("b")])


@pytest.mark.parametrize("key_type", ["aes256-gcm96", "chacha20-poly1305"])
def test_batch_nonces_are_all_distinct(transit: Transit, key_type: str) -> None:
    """Batch nonces come from one OS call, sliced: each item must still get its own."""
    transit.create_key("k", key_type)
    ciphertexts = transit.encrypt_batch("k", [b"same"] * 500)
    nonces = {base64.b64decode(c.split(":")[2])[:12] for c in ciphertexts}
    assert len(nonces) == 500
    assert transit.decrypt_batch("k", ciphertexts) == [b"same"] * 500
