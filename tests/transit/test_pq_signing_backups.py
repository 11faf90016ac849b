"""Issue 26: restoring an SLH-DSA or composite ML-DSA key from a backup whose key material has the wrong
size, or does not belong together, is refused with a library error and stores nothing."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from secretumvault import pqc
from secretumvault.errors import InvalidArgument
from secretumvault.transit import Transit
from tests.transit.conftest import Unchanged


def _decode(backup: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.b64decode(backup))
    return decoded


def _encode(backup: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(backup).encode()).decode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("key_type", "expected"),
    [
        ("slh-dsa-sha2-128f", r"seeds .* are 48 bytes|public keys are 32 bytes|does not verify"),
        ("composite-ml-dsa-65-ecdsa-p256-sha512", r"invalid ECDSA-P256 part|does not match its private key"),
        ("composite-ml-dsa-44-ed25519-sha512", r"invalid Ed25519 part|does not match its private key"),
    ],
)
def test_wrong_size_or_mismatched_key_material_is_refused(
    transit: Transit, key_type: str, expected: str, unchanged: Unchanged
) -> None:
    if key_type.startswith("slh-") and "oqs" not in pqc.available_backends():
        pytest.skip("SLH-DSA needs the native core (pyca/cryptography has no SLH-DSA)")
    transit.create_key("k", key_type, exportable=True, allow_plaintext_backup=True)
    transit.create_key("other", key_type, exportable=True, allow_plaintext_backup=True)
    backup = _decode(transit.backup_key("k"))
    material = backup["key"]["versions"]["1"]["material"]
    other = _decode(transit.backup_key("other"))["key"]["versions"]["1"]["material"]
    secret, public = base64.b64decode(material["secret"]), base64.b64decode(material["public_key"])
    for change in (
        {"secret": _b64(secret[:-1])},
        {"secret": _b64(secret + b"\x00")},
        {"public_key": _b64(public[:-1])},
        {"public_key": _b64(public + b"\x00")},
        {"public_key": other["public_key"]},  # a valid key of the same type, not this secret's
    ):
        broken = copy.deepcopy(backup)
        broken["key"]["versions"]["1"]["material"].update(change)
        check = unchanged()
        with pytest.raises(InvalidArgument, match=expected):
            transit.restore_key(_encode(broken), name="restored")
        check()
    transit.restore_key(_encode(backup), name="restored")  # the backup as written restores
    transit.verify("restored", b"m", transit.sign("k", b"m"))
