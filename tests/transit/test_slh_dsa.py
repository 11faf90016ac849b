"""SLH-DSA transit keys: sign/verify with contexts, export, backup and restore, refusals."""

from __future__ import annotations

import base64

import pytest

from secretumvault import pqc
from secretumvault.errors import InvalidArgument, InvalidSignature, PolicyViolation
from secretumvault.pqc.params import SLH_DSA_NAMES
from secretumvault.transit import KEY_TYPES, Transit
from tests.transit.conftest import Unchanged


def _skip_without_native() -> None:
    if "oqs" not in pqc.available_backends():
        pytest.skip("SLH-DSA needs the native core (pyca/cryptography has no SLH-DSA)")


def test_every_set_is_a_key_type() -> None:
    assert {name.lower() for name in SLH_DSA_NAMES} <= set(KEY_TYPES)
    assert KEY_TYPES["slh-dsa-sha2-128s"].algorithm == "SLH-DSA-SHA2-128s"
    assert KEY_TYPES["slh-dsa-shake-256f"].supports_signing


@pytest.mark.parametrize("key_type", ["slh-dsa-sha2-128f", "slh-dsa-shake-128f"])
def test_sign_verify_with_context_on_every_backend(
    transit: Transit, key_type: str, unchanged: Unchanged
) -> None:
    # The openssl backend has no SLH-DSA: transit runs these keys on the native core whatever is configured.
    _skip_without_native()
    transit.create_key("s", key_type)
    signature = transit.sign("s", b"release", b"ctx")
    assert signature.startswith("vault:v1:")
    raw = base64.b64decode(signature.split(":", 2)[2])
    assert len(raw) == pqc.Signature(KEY_TYPES[key_type].algorithm, "auto").signature_size
    transit.verify("s", b"release", signature, b"ctx")
    check = unchanged()
    with pytest.raises(InvalidSignature):
        transit.verify("s", b"release", signature, b"other")
    with pytest.raises(InvalidSignature):
        transit.verify("s", b"releasE", signature, b"ctx")
    short = "vault:v1:" + base64.b64encode(raw[:-1]).decode()
    with pytest.raises(InvalidSignature):  # a signature one byte short
        transit.verify("s", b"release", short, b"ctx")
    with pytest.raises(InvalidArgument, match="255"):
        transit.sign("s", b"release", b"x" * 256)
    check()
    transit.rotate_key("s")
    assert transit.sign("s", b"m").startswith("vault:v2:")
    transit.verify("s", b"release", signature, b"ctx")  # old versions still verify


def test_export_and_backup_as_ml_dsa_keys_do(transit: Transit) -> None:
    _skip_without_native()
    transit.create_key("s", "slh-dsa-sha2-128f", exportable=True, allow_plaintext_backup=True)
    signature = transit.sign("s", b"kept")
    public = transit.export_key("s", "public-key")[1].key
    assert public == transit.read_key("s").versions[1].public_key
    exported = transit.export_key("s", "signing-key")[1]
    assert exported.encoding == "slh-dsa-seed" and len(exported.key) == 48  # SK.seed || SK.prf || PK.seed
    pair = pqc.Signature("SLH-DSA-SHA2-128f", "auto").keypair_from_seed(exported.key)
    assert pair.public_key.to_bytes() == public
    pair.public_key.verify(base64.b64decode(signature.split(":", 2)[2]), b"kept")
    backup = transit.backup_key("s")
    transit.update_key_config("s", deletion_allowed=True)
    transit.delete_key("s")
    assert transit.restore_key(backup).type == "slh-dsa-sha2-128f"
    transit.verify("s", b"kept", signature)


def test_signing_key_export_needs_exportable(transit: Transit) -> None:
    _skip_without_native()
    transit.create_key("s", "slh-dsa-shake-128f")
    with pytest.raises(PolicyViolation, match="not exportable"):
        transit.export_key("s", "signing-key")
