"""Peer comparison: ML-KEM-768 and ML-DSA-65 per operation, across implementations.

Contenders, each measured the same way (calibrated loops, several repeats,
median per-operation time):

* ``C floor``: a C loop over the same liboqs calls, compiled into our extension;
* ``secretumvault[oqs]`` and ``secretumvault[openssl]``: our two backends;
* peers where installed: liboqs-python (ctypes over liboqs), pqcrypto
  (PQClean), kyber-py/dilithium-py (pure Python).

Used by ``secretumvault bench`` and ``benchmarks/peer_compare.py``. Nothing
here is imported by the rest of the package.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

KEM = "ML-KEM-768"
SIG = "ML-DSA-65"
OPERATIONS = (
    (KEM, "keygen"),
    (KEM, "encaps"),
    (KEM, "decaps"),
    (SIG, "keygen"),
    (SIG, "sign"),
    (SIG, "verify"),
)
MESSAGE = b"\x00" * 32
FLOOR = "C floor (liboqs)"


@dataclass(frozen=True)
class Result:
    contender: str
    algorithm: str
    operation: str
    ns_per_op: float | None  # None when the contender could not run it
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Each contender maps (algorithm, operation) to a zero-argument callable doing one
# operation on prepared inputs, or raises Unavailable naming why it cannot.
class Unavailable(Exception):
    pass


Op = Callable[[], object]


def _secretumvault(backend: str) -> Callable[[str, str], Op]:
    from secretumvault import pqc

    if backend not in pqc.available_backends():
        raise Unavailable(f"backend {backend!r} not available")

    def make(alg: str, op: str) -> Op:
        if alg == KEM:
            kem = pqc.Kem(alg, backend=backend)
            kp = kem.generate_keypair()
            ct = kp.public_key.encapsulate().ciphertext
            ops: dict[str, Op] = {
                "keygen": kem.generate_keypair,
                "encaps": kp.public_key.encapsulate,
                "decaps": lambda: kp.secret_key.decapsulate(ct),
            }
            return ops[op]
        scheme = pqc.Signature(alg, backend=backend)
        skp = scheme.generate_keypair()
        sig = skp.secret_key.sign(MESSAGE)
        sig_ops: dict[str, Op] = {
            "keygen": scheme.generate_keypair,
            "sign": lambda: skp.secret_key.sign(MESSAGE),
            "verify": lambda: skp.public_key.verify(sig, MESSAGE),
        }
        return sig_ops[op]

    return make


def _liboqs_python() -> Callable[[str, str], Op]:
    # liboqs-python tries to download and build liboqs when it finds none; only
    # import it when a shared liboqs is known to be present.
    path = os.environ.get("OQS_INSTALL_PATH")
    if importlib.util.find_spec("oqs") is None:
        raise Unavailable("not installed (pip install liboqs-python)")
    if not path or not any(os.path.exists(os.path.join(path, d, "liboqs.so")) for d in ("lib", "lib64")):
        raise Unavailable("needs a shared liboqs: set OQS_INSTALL_PATH to its prefix")
    # liboqs-python prints a banner on import; keep --json output clean.
    with contextlib.redirect_stdout(io.StringIO()):
        import oqs

    def make(alg: str, op: str) -> Op:
        if alg == KEM:
            kem = oqs.KeyEncapsulation(alg)
            pk = kem.generate_keypair()
            ct, _ = kem.encap_secret(pk)
            ops: dict[str, Op] = {
                "keygen": kem.generate_keypair,
                "encaps": lambda: kem.encap_secret(pk),
                "decaps": lambda: kem.decap_secret(ct),
            }
            return ops[op]
        signer = oqs.Signature(alg)
        pk = signer.generate_keypair()
        sig = signer.sign(MESSAGE)
        sig_ops: dict[str, Op] = {
            "keygen": signer.generate_keypair,
            "sign": lambda: signer.sign(MESSAGE),
            "verify": lambda: signer.verify(MESSAGE, sig, pk),
        }
        return sig_ops[op]

    return make


def _pqcrypto() -> Callable[[str, str], Op]:
    if importlib.util.find_spec("pqcrypto") is None:
        raise Unavailable("not installed (pip install pqcrypto)")
    from pqcrypto.kem import ml_kem_768
    from pqcrypto.sign import ml_dsa_65

    def make(alg: str, op: str) -> Op:
        if alg == KEM:
            pk, sk = ml_kem_768.keygen()
            ct, _ = ml_kem_768.encaps(pk)
            ops: dict[str, Op] = {
                "keygen": ml_kem_768.keygen,
                "encaps": lambda: ml_kem_768.encaps(pk),
                "decaps": lambda: ml_kem_768.decaps(sk, ct),
            }
            return ops[op]
        pk, sk = ml_dsa_65.keygen()
        sig = ml_dsa_65.sign(sk, MESSAGE)
        sig_ops: dict[str, Op] = {
            "keygen": ml_dsa_65.keygen,
            "sign": lambda: ml_dsa_65.sign(sk, MESSAGE),
            "verify": lambda: ml_dsa_65.verify(pk, MESSAGE, sig),
        }
        return sig_ops[op]

    return make


def _pure_python() -> Callable[[str, str], Op]:
    if importlib.util.find_spec("kyber_py") is None or importlib.util.find_spec("dilithium_py") is None:
        raise Unavailable("not installed (pip install kyber-py dilithium-py)")
    from dilithium_py.ml_dsa import ML_DSA_65
    from kyber_py.ml_kem import ML_KEM_768

    def make(alg: str, op: str) -> Op:
        if alg == KEM:
            ek, dk = ML_KEM_768.keygen()
            _, ct = ML_KEM_768.encaps(ek)
            ops: dict[str, Op] = {
                "keygen": ML_KEM_768.keygen,
                "encaps": lambda: ML_KEM_768.encaps(ek),
                "decaps": lambda: ML_KEM_768.decaps(dk, ct),
            }
            return ops[op]
        pk, sk = ML_DSA_65.keygen()
        sig = ML_DSA_65.sign(sk, MESSAGE)
        sig_ops: dict[str, Op] = {
            "keygen": ML_DSA_65.keygen,
            "sign": lambda: ML_DSA_65.sign(sk, MESSAGE),
            "verify": lambda: ML_DSA_65.verify(pk, MESSAGE, sig),
        }
        return sig_ops[op]

    return make


CONTENDERS: dict[str, Callable[[], Callable[[str, str], Op]]] = {
    "secretumvault[oqs]": lambda: _secretumvault("oqs"),
    "secretumvault[openssl]": lambda: _secretumvault("openssl"),
    "liboqs-python": _liboqs_python,
    "pqcrypto": _pqcrypto,
    "kyber-py/dilithium-py": _pure_python,
}


def _calibrate(op: Op, budget_ns: float) -> int:
    """Loop count so that one timed run of ``op`` takes about ``budget_ns``."""
    start = time.perf_counter_ns()
    op()
    single = max(time.perf_counter_ns() - start, 1)
    return max(1, int(budget_ns / single))


def _python_run(op: Op, n: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(n):
        op()
    return (time.perf_counter_ns() - t0) / n


def _floor_runner(alg: str, op: str) -> Callable[[int], float]:
    from secretumvault.pqc.backends import oqs as native

    if not native.is_available():
        raise Unavailable("native core not built")
    return functools.partial(native.c_floor, alg, op)


def run(quick: bool = False) -> Iterator[Result]:
    """Yield one Result per (contender, operation), the C floor first.

    Contenders take turns within every repeat, so a burst of load on the
    machine lands on all of them rather than on whichever ran at that moment.
    """
    budget_ns = (0.05 if quick else 0.15) * 1e9
    repeats = 3 if quick else 9
    makers: dict[str, Callable[[str, str], Op] | None] = {}
    reasons: dict[str, str] = {}
    for name, factory in CONTENDERS.items():
        try:
            makers[name] = factory()
        except Unavailable as exc:
            makers[name], reasons[name] = None, str(exc)
    for alg, op in OPERATIONS:
        runners: dict[str, Callable[[], float]] = {}
        try:
            floor = _floor_runner(alg, op)
            n_floor = max(1, int(budget_ns / max(floor(3), 1.0)))
            runners[FLOOR] = functools.partial(floor, n_floor)
        except Unavailable as exc:
            reasons[FLOOR] = str(exc)
        for name, make in makers.items():
            if make is None:
                continue
            fn = make(alg, op)
            # Pure-Python peers take milliseconds per call: a smaller budget keeps
            # the comparison short without changing what is measured.
            share = 0.2 if name == "kyber-py/dilithium-py" else 1.0
            n = _calibrate(fn, budget_ns * share)
            runners[name] = functools.partial(_python_run, fn, n)
        samples: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(repeats):
            for name, runner in runners.items():
                samples[name].append(runner())
        for name in (FLOOR, *CONTENDERS):
            if name in samples:
                yield Result(name, alg, op, statistics.median(samples[name]))
            else:
                yield Result(name, alg, op, None, reasons.get(name, "unavailable"))


def ratios_to_floor(results: list[Result]) -> dict[tuple[str, str, str], float]:
    """(contender, algorithm, operation) -> time / C-floor time."""
    floor = {(r.algorithm, r.operation): r.ns_per_op for r in results if r.contender == FLOOR}
    out = {}
    for r in results:
        base = floor.get((r.algorithm, r.operation))
        if r.ns_per_op is not None and base:
            out[(r.contender, r.algorithm, r.operation)] = r.ns_per_op / base
    return out
