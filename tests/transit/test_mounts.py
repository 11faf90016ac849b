"""Transit mounts: several engines on one keystore keep their keys apart, as Vault's mounts do."""

from __future__ import annotations

import pytest

from secretumvault.errors import DecryptionError, InvalidArgument, InvalidType, KeyNotFound
from secretumvault.keystore import Keystore
from secretumvault.transit import Transit
from tests.conftest import untyped


def test_two_mounts_keep_separate_keys(keystore: Keystore) -> None:
    first = Transit(keystore, mount="transit")
    second = Transit(keystore, mount="payments")
    first.create_key("orders", type="aes256-gcm96")
    second.create_key("orders", type="chacha20-poly1305")
    assert first.read_key("orders").type == "aes256-gcm96"
    assert second.read_key("orders").type == "chacha20-poly1305"
    assert keystore.list("payments/keys/") == ["payments/keys/orders"]
    ciphertext = second.encrypt("orders", b"card")
    with pytest.raises(DecryptionError):  # another key of the same name: its ciphertexts do not open here
        first.decrypt("orders", ciphertext)
    assert second.decrypt("orders", ciphertext) == b"card"
    second.update_key_config("orders", deletion_allowed=True)
    second.delete_key("orders")
    assert first.list_keys() == ["orders"]
    with pytest.raises(KeyNotFound):
        second.read_key("orders")


def test_default_mount_is_where_keys_always_lived(keystore: Keystore) -> None:
    Transit(keystore).create_key("k")
    assert keystore.list("transit/keys/") == ["transit/keys/k"]


@pytest.mark.parametrize("mount", ["", "a/b", "../x", ".hidden", "x" * 129])
def test_bad_mount_names_are_refused(keystore: Keystore, mount: str) -> None:
    with pytest.raises(InvalidArgument):
        Transit(keystore, mount=mount)


def test_mount_must_be_text(keystore: Keystore) -> None:
    with pytest.raises(InvalidType):
        Transit(keystore, mount=untyped(b"transit"))
