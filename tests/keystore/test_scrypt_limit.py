"""Unseal runs scrypt only within a bound checked first (issue 13, item 10).

The stored scrypt parameters are authenticated only once scrypt has run, so a
store tampered to the largest accepted cost would make every unseal attempt
spend gigabytes. Unseal compares them with a limit first: by default the cost
the library itself writes, raised only by an explicit ``scrypt_limit``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import secretumvault
from secretumvault.errors import InvalidArgument, KeystoreError, SecretumVaultError, UnsealError
from secretumvault.keystore import Keystore, ScryptParams, SQLiteStorage, Storage
from secretumvault.keystore.core import CORE_PATH
from tests.conftest import untyped

from .conftest import FAST_SCRYPT, PASSPHRASE, snapshot


def _raise_stored_cost(storage: Storage, **params: int) -> None:
    """What an attacker who can write the store does: raise n, r, p in the clear seal configuration."""
    stored = storage.get(CORE_PATH)
    assert stored is not None
    record = json.loads(stored.value)
    record["seal"].update(params)
    storage.put(CORE_PATH, json.dumps(record).encode())


def test_default_limit_is_what_the_library_writes() -> None:
    assert Keystore.DEFAULT_SCRYPT_LIMIT == ScryptParams()


def test_cost_above_the_limit_is_refused_before_scrypt_runs(storage: Storage) -> None:
    ks = Keystore(storage, scrypt_limit=FAST_SCRYPT)
    ks.initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    _raise_stored_cost(storage, n=2**15)
    before = snapshot(storage)
    with pytest.raises(UnsealError, match="scrypt_limit") as info:
        ks.unseal(PASSPHRASE)
    assert PASSPHRASE not in str(info.value)
    assert ks.sealed
    assert snapshot(storage) == before


def test_initialising_above_the_limit_is_refused(storage: Storage) -> None:
    ks = Keystore(storage, scrypt_limit=FAST_SCRYPT)
    with pytest.raises(InvalidArgument, match="scrypt_limit"):
        ks.initialize_with_passphrase(PASSPHRASE, scrypt=ScryptParams(n=2**15))
    assert not ks.initialized


def test_a_raised_limit_unseals_a_store_made_with_that_cost(storage: Storage) -> None:
    cost = ScryptParams(n=2**15, r=8, p=1)
    Keystore(storage, scrypt_limit=cost).initialize_with_passphrase(PASSPHRASE, scrypt=cost)
    with pytest.raises(UnsealError, match="scrypt_limit"):
        Keystore(storage, scrypt_limit=FAST_SCRYPT).unseal(PASSPHRASE)
    raised = Keystore(storage, scrypt_limit=cost)
    raised.unseal(PASSPHRASE)
    assert not raised.sealed


@pytest.mark.parametrize("limit", [object(), (2**17, 8, 1), None])
def test_limit_must_be_scrypt_params(storage: Storage, limit: object) -> None:
    with pytest.raises(SecretumVaultError):
        Keystore(storage, scrypt_limit=untyped(limit))


_UNSEAL_UNDER_A_MEMORY_CAP = textwrap.dedent(
    """
    import resource, sys
    from secretumvault.errors import SecretumVaultError
    from secretumvault.keystore import Keystore, ScryptParams, SQLiteStorage
    cap = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    limit = ScryptParams(n=2**20, r=8, p=1) if sys.argv[2] == "raised" else Keystore.DEFAULT_SCRYPT_LIMIT
    ks = Keystore(SQLiteStorage(sys.argv[1]), scrypt_limit=limit)
    try:
        ks.unseal("correct horse battery staple")
    except SecretumVaultError as exc:
        print(type(exc).__name__, exc)
        sys.exit(3)
    """
)


def _unseal_in_capped_process(path: Path, limit: str) -> subprocess.CompletedProcess[str]:
    package_root = str(Path(secretumvault.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    # 1 GiB of scrypt (n=2**20, r=8) cannot fit under this cap; the interpreter and libraries do.
    cap = 768 * 2**20
    return subprocess.run(
        [sys.executable, "-c", _UNSEAL_UNDER_A_MEMORY_CAP, str(path), limit, str(cap)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_AS"), reason="needs RLIMIT_AS to cap memory")
def test_tampered_cost_cannot_make_unseal_allocate(tmp_path: Path) -> None:
    path = tmp_path / "vault.db"
    storage = SQLiteStorage(path)
    Keystore(storage).initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    _raise_stored_cost(storage, n=2**20)  # 1 GiB per attempt; r=32 would make it 4 GiB
    storage.close()
    result = _unseal_in_capped_process(path, "default")
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("UnsealError") and "scrypt_limit" in result.stdout


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_AS"), reason="needs RLIMIT_AS to cap memory")
def test_scrypt_out_of_memory_is_a_keystore_error(tmp_path: Path) -> None:
    path = tmp_path / "vault.db"
    storage = SQLiteStorage(path)
    Keystore(storage).initialize_with_passphrase(PASSPHRASE, scrypt=FAST_SCRYPT)
    _raise_stored_cost(storage, n=2**20)
    storage.close()
    # The limit raised on purpose, but the memory is not there: an error of ours, not MemoryError.
    result = _unseal_in_capped_process(path, "raised")
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("KeystoreError") and "memory" in result.stdout
    assert issubclass(KeystoreError, SecretumVaultError)
