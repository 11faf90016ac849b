"""The DER encoder against known encodings (X.690) and pyca/cryptography's own output."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509

from secretumvault.errors import InvalidArgument
from secretumvault.pki import _der
from secretumvault.pki._der_split import sequence_members


@pytest.mark.parametrize(
    ("value", "encoding"),
    [
        (0, "020100"),
        (1, "020101"),
        (127, "02017f"),
        (128, "02020080"),  # a leading zero keeps it positive
        (255, "020200ff"),
        (256, "02020100"),
        (2**159 - 1, "0214" + "7f" + "ff" * 19),
    ],
)
def test_integer(value: int, encoding: str) -> None:
    assert _der.integer(value).hex() == encoding


@pytest.mark.parametrize(
    ("length", "header"),
    [(0, "0400"), (127, "047f"), (128, "048180"), (255, "0481ff"), (256, "04820100"), (70000, "0483011170")],
)
def test_definite_minimal_lengths(length: int, header: str) -> None:
    assert _der.octet_string(b"\x00" * length).hex().startswith(header)


def test_object_identifiers() -> None:
    assert _der.oid("2.16.840.1.101.3.4.3.18").hex() == "0609608648016503040312"
    assert _der.oid("1.3.101.112").hex() == "06032b6570"
    assert _der.oid("1.2.840.113549.1.1.11").hex() == "06092a864886f70d01010b"
    with pytest.raises(ValueError):
        _der.oid("3.1")


def test_times_switch_to_generalized_in_2050() -> None:
    utc = datetime.UTC
    assert _der.time(datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=utc)) == b"\x17\x0d491231235959Z"
    assert _der.time(datetime.datetime(2050, 1, 1, tzinfo=utc)) == b"\x18\x0f20500101000000Z"


def test_bit_string_and_boolean() -> None:
    assert _der.bit_string(b"\xab").hex() == "030200ab"
    assert _der.boolean(True).hex() == "0101ff" and _der.boolean(False).hex() == "010100"
    assert _der.null().hex() == "0500"


def test_set_of_is_sorted() -> None:
    assert _der.set_of(b"\x02\x01\x02", b"\x02\x01\x01") == bytes.fromhex("3106020101020102")


def test_name_and_extension_bytes_round_trip_through_cryptography() -> None:
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "x")])
    spliced = _der.sequence(name.public_bytes())
    assert sequence_members(spliced, "t") == [name.public_bytes()]


@pytest.mark.parametrize(
    "data", [b"", b"\x04\x00", b"\x30\x05\x02\x01", b"\x30\x02\x02\x05", b"\x30\x85" + b"\x00" * 5]
)
def test_split_refuses_malformed_input(data: bytes) -> None:
    with pytest.raises(InvalidArgument):
        sequence_members(data, "t")
