"""``secretumvault operator migrate-seal -c config.toml`` (issue 25): the seals of the configuration,
the store's current one marked ``disabled = true``, as Vault's. Shamir -> PKCS#11 (SoftHSM2) ->
Shamir, and passphrase -> transit (a real dev server) with new recovery shares; every record
readable after each step, and a refused migration changes no stored byte."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from secretumvault.cli import main
from secretumvault.errors import UnsealError
from secretumvault.keystore import Keystore, SQLiteStorage
from tests.conftest import store_rows

RECORDS = {f"app/{i}": f"value {i}".encode() for i in range(20)}
PKCS11_LIB = os.environ.get("SECRETUMVAULT_TEST_PKCS11_LIB")
needs_softhsm = pytest.mark.skipif(
    not PKCS11_LIB or not os.environ.get("SOFTHSM2_CONF"),
    reason="no SoftHSM2 token: run .ci/softhsm.sh ENV_FILE and source it (softhsm2 is not installed here)",
)


pytestmark = pytest.mark.usefixtures("no_material_in_environment")


def _file(tmp_path: Path, name: str, lines: list[str] | tuple[str, ...]) -> str:
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(path)


def _shamir_store(db: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["init", "--store", str(db), "--shares", "3", "--threshold", "2"]) == 0
    shares = capsys.readouterr().out.split()
    storage = SQLiteStorage(db)
    ks = Keystore(storage)
    for share in shares[:2]:
        ks.unseal_share(share)
    for path, value in RECORDS.items():
        ks.put(path, value)
    storage.close()
    return shares


def _records(ks: Keystore) -> dict[str, bytes]:
    return {path: ks.get(path) for path in RECORDS}


def _config(tmp_path: Path, db: Path, seals: str, name: str = "config") -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[storage]\npath = "{db}"\n{seals}', encoding="utf-8")
    return str(path)


@pytest.fixture
def pkcs11_seal(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A [[seal]] table for a fresh AES key on the SoftHSM2 token (the PIN from the environment)."""
    monkeypatch.setenv("SECRETUMVAULT_PKCS11_PIN", os.environ["SECRETUMVAULT_TEST_PKCS11_PIN"])
    label = f"migrate-{os.urandom(4).hex()}"
    token = os.environ["SECRETUMVAULT_TEST_PKCS11_TOKEN"]
    yield (
        f'type = "pkcs11"\nlib = "{PKCS11_LIB}"\ntoken_label = "{token}"\nkey_label = "{label}"\n'
        "generate_key = true\n"
    )


@needs_softhsm
def test_shamir_to_pkcs11_and_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pkcs11_seal: str
) -> None:
    from secretumvault.config import Settings
    from secretumvault.keystore.seals import configured_seals

    db = tmp_path / "vault.db"
    shares = _shamir_store(db, capsys)
    to_hsm = _config(tmp_path, db, "[seal]\n" + pkcs11_seal)
    migrate = ["operator", "migrate-seal", "-c", to_hsm, "--share-file"]

    # Too few distinct shares: refused, not a byte changed.
    before = store_rows(db)
    assert main([*migrate, _file(tmp_path, "one.txt", [shares[0], shares[0]])]) == 2
    assert "1 distinct current share(s) given" in capsys.readouterr().err
    assert store_rows(db) == before

    assert main([*migrate, _file(tmp_path, "two.txt", shares[1:])]) == 0
    assert "seal migrated (shamir -> pkcs11)" in capsys.readouterr().err
    hsm, _ = configured_seals(Settings.load(to_hsm).seals, to_hsm)
    assert hsm is not None
    storage = SQLiteStorage(db)
    ks = Keystore(storage)
    with pytest.raises(UnsealError):  # the old shares are recovery shares now: they do not unseal
        ks.unseal_share(shares[0])
    ks.unseal_auto(hsm)
    assert _records(ks) == RECORDS
    ks.verify_recovery(shares[:2])
    storage.close()

    # Run again: nothing to migrate, and it says so.
    assert main([*migrate, _file(tmp_path, "two.txt", shares[1:])]) == 2
    assert "nothing to migrate" in capsys.readouterr().err

    # Back to Shamir: the HSM's seal disabled, the recovery shares (given as Vault's hex keys).
    from secretumvault.server.state.shares import share_to_vault_key

    back = _config(tmp_path, db, "[seal]\ndisabled = true\n" + pkcs11_seal, "back")
    hex_keys = [share_to_vault_key(share).hex() for share in shares[::2]]
    assert (
        main(["operator", "migrate-seal", "-c", back, "--share-file", _file(tmp_path, "r.txt", hex_keys)])
        == 0
    )
    assert "seal migrated (pkcs11 -> shamir)" in capsys.readouterr().err
    storage = SQLiteStorage(db)
    ks = Keystore(storage)
    with pytest.raises(UnsealError):
        ks.unseal_auto(hsm)
    for share in shares[1:]:
        ks.unseal_share(share)
    assert _records(ks) == RECORDS
    storage.close()


def test_passphrase_to_transit_prints_new_recovery_shares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("uvicorn", reason="the transit seal's server needs the server extra")
    from tests.server.conftest import start_dev_server

    db = tmp_path / "vault.db"
    passphrase = _file(tmp_path, "pass.txt", ["a passphrase for the migration test"])
    assert main(["init", "--store", str(db), "--passphrase-file", passphrase]) == 0
    storage = SQLiteStorage(db)
    ks = Keystore(storage)
    ks.unseal(b"a passphrase for the migration test")
    for path, value in RECORDS.items():
        ks.put(path, value)
    storage.close()
    capsys.readouterr()

    kms = start_dev_server(tmp_path)
    try:
        assert kms.request("POST", "transit/keys/cli", json={"type": "ml-kem-768"}).status_code == 200
        token = tmp_path / "token"
        token.write_text(kms.root_token)
        config = _config(
            tmp_path,
            db,
            f'[seal]\ntype = "transit"\naddress = "{kms.url}"\ntoken_file = "{token}"\nkey_name = "cli"\n',
        )
        no_seal = _config(tmp_path, db, "", "no-seal")
        assert main(["operator", "migrate-seal", "-c", no_seal, "--passphrase-file", passphrase]) == 2
        assert "names no seal" in capsys.readouterr().err

        assert (
            main(
                [
                    "operator",
                    "migrate-seal",
                    "-c",
                    config,
                    "--passphrase-file",
                    passphrase,
                    "--recovery-shares",
                    "3",
                    "--recovery-threshold",
                    "2",
                ]
            )
            == 0
        )
        out = capsys.readouterr()
        recovery = out.out.split()
        assert len(recovery) == 3 and "seal migrated (passphrase -> transit)" in out.err
        assert kms.root_token not in out.out + out.err

        from secretumvault.keystore.seals.transit import TransitSeal

        storage = SQLiteStorage(db)
        ks = Keystore(storage)
        with pytest.raises(UnsealError):
            ks.unseal(b"a passphrase for the migration test")
        ks.unseal_auto(TransitSeal(kms.url, kms.root_token, "cli"))
        assert _records(ks) == RECORDS
        ks.verify_recovery(recovery[1:])
        storage.close()
    finally:
        kms.stop()
