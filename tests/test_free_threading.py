"""Free-threaded CPython (3.14t): the GIL stays off, and shared objects hold up under 8 threads.

The stress test runs on every build (with the GIL it checks the same results,
with less overlap); the import test needs a free-threaded interpreter.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import secretumvault
from secretumvault import pqc
from secretumvault.keystore import Keystore, SQLiteStorage
from secretumvault.pqc.backends import BACKENDS
from secretumvault.transit import Transit
from tests.keystore.conftest import unsealed_keystore

FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
_THREADS = 8
_ROUNDS = 25

# Imports every module of the package, then reports the GIL: a module (or a C extension
# it imports) that is not free-threading compatible turns it back on, with a RuntimeWarning.
_IMPORT_ALL = """
import importlib, pkgutil, sys, warnings
import secretumvault
warnings.simplefilter("error", RuntimeWarning)  # the warning CPython gives when it re-enables the GIL
names = sorted(m.name for m in pkgutil.walk_packages(secretumvault.__path__, "secretumvault."))
for name in names:
    importlib.import_module(name)
    if sys._is_gil_enabled():
        print("GIL enabled after", name)
        sys.exit(1)
from secretumvault.pqc.backends import _oqs  # the native core itself, not a fallback
print(len(names), sys._is_gil_enabled())
"""


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded CPython build (3.14t)")
def test_importing_every_module_leaves_the_gil_off() -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(secretumvault.__file__).parents[1])}
    # No PYTHON_GIL in env: the interpreter's default (off) is what is being tested.
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    count, enabled = done.stdout.split()
    server_modules = [
        m.name for m in pkgutil.walk_packages(secretumvault.__path__, "secretumvault.") if ".server" in m.name
    ]
    assert int(count) > 50 and server_modules  # every module was walked, the server's included
    assert enabled == "False"


@pytest.fixture
def keystore(tmp_path: Path) -> Iterator[Keystore]:
    storage = SQLiteStorage(tmp_path / "vault.db")
    try:
        yield unsealed_keystore(storage)
    finally:
        storage.close()


@pytest.mark.parametrize("backend", [b for b in ("oqs", "openssl") if b in BACKENDS])
def test_eight_threads_share_keys_a_keystore_and_a_transit_engine(keystore: Keystore, backend: str) -> None:
    """Every thread uses the same key objects, keystore and transit keys; every result is checked."""
    kem = pqc.Kem("ML-KEM-768", backend=backend).generate_keypair()
    sig = pqc.Signature("ML-DSA-65", backend=backend).generate_keypair()
    transit = Transit(keystore, backend=backend)
    transit.create_key("kem", "ml-kem-768")
    transit.create_key("aes", "aes256-gcm96")
    transit.create_key("dsa", "ml-dsa-65")
    keystore.put("shared/config", b"read by every thread")
    start = threading.Barrier(_THREADS)
    errors: list[BaseException] = []
    outputs: list[list[tuple[str, bytes, str]]] = [[] for _ in range(_THREADS)]

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(_ROUNDS):
                enc = kem.public_key.encapsulate()
                assert kem.secret_key.decapsulate(enc.ciphertext) == enc.shared_secret
                message = f"{worker}:{i}".encode()
                sig.public_key.verify(sig.secret_key.sign(message), message)
                keystore.put(f"threads/{worker}/{i}", message)
                assert keystore.get(f"threads/{worker}/{i}") == message
                assert keystore.get("shared/config") == b"read by every thread"
                for key in ("kem", "aes"):
                    text = transit.encrypt(key, message)
                    outputs[worker].append((key, message, text))
                    assert transit.decrypt(key, text) == message
                transit.verify("dsa", message, transit.sign("dsa", message))
        except BaseException as exc:  # reported below, with the thread's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    every = [item for out in outputs for item in out]
    assert len(every) == _THREADS * _ROUNDS * 2
    # Random nonces and KEM encapsulations: no two ciphertexts alike, and each still decrypts.
    assert len({text for _, _, text in every}) == len(every)
    for key, message, text in every[:: _THREADS + 1]:
        assert transit.decrypt(key, text) == message
    assert sorted(keystore.list("threads/")) == sorted(
        f"threads/{w}/{i}" for w in range(_THREADS) for i in range(_ROUNDS)
    )


def test_the_native_core_declares_free_threading_support() -> None:
    """The directive is in the source the wheels are built from (it decides the GIL on 3.14t)."""
    source = Path(__file__).parents[1] / "secretumvault" / "pqc" / "backends" / "_oqs.pyx"
    if not source.exists():
        pytest.skip("run from a checkout (the .pyx is not installed)")
    head = source.read_text().splitlines()[:3]
    assert "# cython: freethreading_compatible = True" in head
