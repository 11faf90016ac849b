"""Peer comparison: ML-KEM-768 and ML-DSA-65 per operation, across implementations
(and SLH-DSA-SHA2-128s/128f against their C floor).

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
import importlib.util
import io
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import partial
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
MU = b"\x00" * 64  # FIPS 204 external mu
DIGEST = b"\x00" * 64  # a SHA-512 digest, for HashML-DSA
FLOOR = "C floor (liboqs)"

#: The FIPS 204 paths beyond liboqs's API (mldsa-native's entry points), each
#: against the same calls looped in C; peers do not offer them.
FIPS204_OPERATIONS = (
    (SIG, "keygen_seed"),
    (SIG, "sign_deterministic"),
    (SIG, "sign_mu"),
    (SIG, "verify_mu"),
    (SIG, "sign_prehashed"),
    (SIG, "verify_prehashed"),
    (SIG, "load_expanded"),
)
#: Contenders measured on FIPS204_OPERATIONS.
FIPS204_CONTENDERS = ("secretumvault[oqs]", "secretumvault[openssl]")
#: One composite ML-DSA row (draft-ietf-lamps-pq-composite-sigs-19, hybrid.composite): ML-DSA-65
#: plus ECDSA P-256 through pyca, measured on FIPS204_CONTENDERS. No C floor: half of it is OpenSSL.
COMPOSITE = "MLDSA65-ECDSA-P256-SHA512"
COMPOSITE_OPERATIONS = ((COMPOSITE, "sign"),)

#: SLH-DSA (FIPS 205), "s" (small signatures, slow signing) and "f" (fast), against the C
#: floor over the same slhdsa-c calls (csrc/sv_floor.c); the openssl backend has no SLH-DSA.
SLH_SIGS = ("SLH-DSA-SHA2-128s", "SLH-DSA-SHA2-128f")
SLH_OPERATIONS = tuple(
    (alg, op) for alg in SLH_SIGS for op in ("keygen_seed", "sign", "sign_deterministic", "verify")
)
SLH_CONTENDERS = ("secretumvault[oqs]",)


@dataclass(frozen=True)
class Result:
    contender: str
    algorithm: str
    operation: str
    ns_per_op: float | None  # None when the contender could not run it
    note: str = ""
    #: Median over repeats of this contender's time / the C floor's time in the same repeat
    #: (None for the floor itself, or without one).
    ratio_to_floor: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Each contender maps (algorithm, operation) to a zero-argument callable doing one
# operation on prepared inputs, or raises Unavailable naming why it cannot.
class Unavailable(Exception):
    pass


Op = Callable[[], object]


def _pick(ops: dict[str, Op], op: str) -> Op:
    if op not in ops:
        raise Unavailable(f"does not offer {op}")
    return ops[op]


def _secretumvault(backend: str) -> Callable[[str, str], Op]:
    from secretumvault import errors, pqc

    if backend not in pqc.available_backends():
        raise Unavailable(f"backend {backend!r} not available")

    def make(alg: str, op: str) -> Op:
        if alg == COMPOSITE:
            from secretumvault.hybrid import CompositeSignature

            # A fixed key, as for ML-DSA: an all-zero ML-DSA seed and a P-256 scalar of 1.
            p256_key = (
                bytes.fromhex("30310201010420")
                + (1).to_bytes(32, "big")
                + bytes.fromhex("a00a06082a8648ce3d030107")
            )
            composite = CompositeSignature(alg, backend).secret_key_from_bytes(bytes(32) + p256_key)
            return _pick({"sign": partial(composite.sign, MESSAGE)}, op)
        if alg == KEM:
            kem = pqc.Kem(alg, backend=backend)
            kp = kem.generate_keypair()
            ct = kp.public_key.encapsulate().ciphertext
            return _pick(
                {
                    "keygen": kem.generate_keypair,
                    "encaps": kp.public_key.encapsulate,
                    "decaps": partial(kp.secret_key.decapsulate, ct),
                },
                op,
            )
        scheme = pqc.Signature(alg, backend=backend)
        if alg in SLH_SIGS:  # the C floor's inputs: an all-zero 48-byte seed, a 32-byte message
            seed = bytes(48)
            slh_pk, slh_sk = scheme.keypair_from_seed(seed)
            return _pick(
                {
                    "keygen_seed": partial(scheme.keypair_from_seed, seed),
                    "sign": partial(slh_sk.sign, MESSAGE),
                    "sign_deterministic": partial(slh_sk.sign, MESSAGE, deterministic=True),
                    "verify": partial(slh_pk.verify, slh_sk.sign(MESSAGE), MESSAGE),
                },
                op,
            )
        # The inputs the C floor uses (csrc/sv_floor.c): all-zero seed, message, mu and digest.
        pk, sk = scheme.keypair_from_seed(bytes(32))
        hashml_sig = sk.sign_prehashed(DIGEST, "sha512")
        ops: dict[str, Op] = {
            "keygen": scheme.generate_keypair,
            "sign": partial(sk.sign, MESSAGE),
            "verify": partial(pk.verify, sk.sign(MESSAGE), MESSAGE),
            "keygen_seed": partial(scheme.keypair_from_seed, bytes(32)),
            "sign_mu": partial(sk.sign_mu, MU),
            "verify_mu": partial(pk.verify_mu, sk.sign_mu(MU), MU),
            "sign_prehashed": partial(sk.sign_prehashed, DIGEST, "sha512"),
            "verify_prehashed": partial(pk.verify_prehashed, hashml_sig, DIGEST, "sha512"),
        }
        try:  # pyca/cryptography signs hedged only and keeps seeds only
            sk.sign(MESSAGE, deterministic=True)
            ops["sign_deterministic"] = partial(sk.sign, MESSAGE, deterministic=True)
            ops["load_expanded"] = partial(scheme.secret_key_from_bytes, sk.to_bytes())
        except errors.UnsupportedAlgorithm:
            pass
        return _pick(ops, op)

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
            return _pick(
                {
                    "keygen": kem.generate_keypair,
                    "encaps": partial(kem.encap_secret, pk),
                    "decaps": partial(kem.decap_secret, ct),
                },
                op,
            )
        signer = oqs.Signature(alg)
        pk = signer.generate_keypair()
        sig = signer.sign(MESSAGE)
        return _pick(
            {
                "keygen": signer.generate_keypair,
                "sign": partial(signer.sign, MESSAGE),
                "verify": partial(signer.verify, MESSAGE, sig, pk),
            },
            op,
        )

    return make


def _explicit_key_peer(kem: Any, sig: Any, ciphertext_index: int) -> Callable[[str, str], Op]:
    """Peers whose functions take the keys as arguments: keygen() -> (pk, sk), encaps(pk), ..."""

    def make(alg: str, op: str) -> Op:
        if alg == KEM:
            pk, sk = kem.keygen()
            ct = kem.encaps(pk)[ciphertext_index]
            return _pick(
                {
                    "keygen": kem.keygen,
                    "encaps": partial(kem.encaps, pk),
                    "decaps": partial(kem.decaps, sk, ct),
                },
                op,
            )
        pk, sk = sig.keygen()
        signature = sig.sign(sk, MESSAGE)
        return _pick(
            {
                "keygen": sig.keygen,
                "sign": partial(sig.sign, sk, MESSAGE),
                "verify": partial(sig.verify, pk, MESSAGE, signature),
            },
            op,
        )

    return make


def _pqcrypto() -> Callable[[str, str], Op]:
    if importlib.util.find_spec("pqcrypto") is None:
        raise Unavailable("not installed (pip install pqcrypto)")
    from pqcrypto.kem import ml_kem_768
    from pqcrypto.sign import ml_dsa_65

    return _explicit_key_peer(ml_kem_768, ml_dsa_65, ciphertext_index=0)  # encaps -> (ct, ss)


def _pure_python() -> Callable[[str, str], Op]:
    if importlib.util.find_spec("kyber_py") is None or importlib.util.find_spec("dilithium_py") is None:
        raise Unavailable("not installed (pip install kyber-py dilithium-py)")
    from dilithium_py.ml_dsa import ML_DSA_65
    from kyber_py.ml_kem import ML_KEM_768

    return _explicit_key_peer(ML_KEM_768, ML_DSA_65, ciphertext_index=1)  # encaps -> (ss, ct)


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
    from secretumvault.errors import SecretumVaultError
    from secretumvault.pqc.backends import oqs as native

    if not native.is_available():
        raise Unavailable("native core not built")
    if alg == COMPOSITE:
        raise Unavailable("no C floor: the classical half runs in OpenSSL through pyca/cryptography")
    floor = partial(native.c_floor, alg, op)
    try:
        floor(1)
    except SecretumVaultError as exc:  # e.g. a liboqs without mldsa-native's entry points
        raise Unavailable(str(exc)) from None
    return floor


def result_count() -> int:
    """How many Results :func:`run` yields."""
    ours = len(FIPS204_OPERATIONS) + len(COMPOSITE_OPERATIONS)
    return (
        len(OPERATIONS) * (1 + len(CONTENDERS))
        + ours * (1 + len(FIPS204_CONTENDERS))
        + len(SLH_OPERATIONS) * (1 + len(SLH_CONTENDERS))
    )


def run(quick: bool = False) -> Iterator[Result]:
    """Yield one Result per (contender, operation), the C floor first.

    The peer comparison (OPERATIONS, every contender) comes first, then the
    FIPS 204 paths (FIPS204_OPERATIONS, our two backends), then the composite row, then SLH-DSA
    (SLH_OPERATIONS, the native core). Contenders take
    turns within every repeat, so a burst of load on the machine lands on
    all of them rather than on whichever ran at that moment. A contender's
    ratio to the C floor is the median of its per-repeat ratios: each compares
    two runs a few milliseconds apart, and many short repeats keep a burst of
    load to a few of them.
    """
    budget_ns = (0.01 if quick else 0.02) * 1e9
    repeats = 15 if quick else 45
    repeats_ns = 2 * repeats * budget_ns * 2  # every repeat's turns, with room for a third contender
    makers: dict[str, Callable[[str, str], Op] | None] = {}
    reasons: dict[str, str] = {}
    for name, factory in CONTENDERS.items():
        try:
            makers[name] = factory()
        except Unavailable as exc:
            makers[name], reasons[name] = None, str(exc)
    plan = [(alg, op, tuple(CONTENDERS)) for alg, op in OPERATIONS]
    plan += [(alg, op, FIPS204_CONTENDERS) for alg, op in FIPS204_OPERATIONS]
    plan += [(alg, op, FIPS204_CONTENDERS) for alg, op in COMPOSITE_OPERATIONS]
    plan += [(alg, op, SLH_CONTENDERS) for alg, op in SLH_OPERATIONS]
    for alg, op, contenders in plan:
        runners: dict[str, Callable[[], float]] = {}
        why = dict(reasons)
        try:
            floor = _floor_runner(alg, op)
            runners[FLOOR] = partial(floor, max(1, int(budget_ns / max(floor(3), 1.0))))
        except Unavailable as exc:
            why[FLOOR] = str(exc)
        for name in contenders:
            make = makers[name]
            if make is None:
                continue
            try:
                fn = make(alg, op)
            except Unavailable as exc:
                why[name] = str(exc)
                continue
            # Pure-Python peers take milliseconds per call: a smaller budget keeps
            # the comparison short without changing what is measured.
            share = 0.2 if name == "kyber-py/dilithium-py" else 1.0
            runners[name] = partial(_python_run, fn, _calibrate(fn, budget_ns * share))
        samples: dict[str, list[float]] = {name: [] for name in runners}
        started = time.perf_counter_ns()
        for done in range(repeats):
            for name, runner in runners.items():
                samples[name].append(runner())
            # Slow operations (SLH-DSA "s" signs in half a second) get fewer repeats, never under 5.
            if done >= 4 and time.perf_counter_ns() - started > repeats_ns:
                break
        floor_samples = samples.get(FLOOR)
        for name in (FLOOR, *contenders):
            if name not in samples:
                yield Result(name, alg, op, None, why.get(name, "unavailable"))
                continue
            ratio = None
            if floor_samples is not None and name != FLOOR:
                ratio = statistics.median(t / f for t, f in zip(samples[name], floor_samples, strict=True))
            yield Result(name, alg, op, statistics.median(samples[name]), ratio_to_floor=ratio)


def ratios_to_floor(results: list[Result]) -> dict[tuple[str, str, str], float]:
    """(contender, algorithm, operation) -> its ratio to the C floor (the floor itself: 1)."""
    out = {}
    for r in results:
        if r.contender == FLOOR and r.ns_per_op is not None:
            out[(r.contender, r.algorithm, r.operation)] = 1.0
        elif r.ratio_to_floor is not None:
            out[(r.contender, r.algorithm, r.operation)] = r.ratio_to_floor
    return out
