"""Busy-thread slowdown: the latency of one call while another thread runs plain Python.

Two threads: one loops over pure-Python work, the other calls the library.
For each operation the median latency of single calls is measured idle and
then beside the busy thread; the slowdown is busy / idle. A native call that
releases the GIL must wait for the busy thread's switch interval (5 ms) to get
it back, so a short call can become hundreds of times slower.

Operations: ``encapsulate()`` (one short native call) and ``transit.encrypt``
of 1 KiB under an ml-kem-768 key. Also the two-thread throughput of single
ML-DSA-65 ``sign``, single ML-KEM-768 ``encapsulate`` and ``transit.encrypt``
(two threads each calling it, against one thread doing the same number of calls
alone): below 1.0 means two threads get less done than one; on a free-threaded
build (3.14t, row marked) single calls can reach 2.0.
Bounded: a fixed number of calls, each phase capped in time, and the busy
thread always stopped.
"""

from __future__ import annotations

import functools
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["LoadResult", "busy_slowdown", "run", "two_thread_speedup"]

_CALLS = 400
_CALLS_QUICK = 100
_PHASE_LIMIT_S = 10.0
_BATCH = 100


@dataclass(frozen=True)
class LoadResult:
    """Busy-thread rows: median latencies idle and busy. "two threads" rows: mean time per call
    with one thread (``idle_median_ns``) and with two (``busy_median_ns``), medians over the
    rounds, and the speedup (median of the per-round ratios)."""

    operation: str
    idle_median_ns: float
    busy_median_ns: float
    slowdown: float  # busy / idle; for "two threads" rows: throughput of two threads / of one
    calls: int
    # "two threads" rows only: CPU time of one thread / of two for the same calls, and the
    # two threads' CPU time / wall time (≈1: only one core was free for them).
    cpu_ratio: float | None = None
    two_thread_cpu_per_wall: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _median_latency(op: Callable[[], object], calls: int) -> tuple[float, int]:
    samples: list[float] = []
    deadline = time.perf_counter() + _PHASE_LIMIT_S
    while len(samples) < calls and time.perf_counter() < deadline:
        start = time.perf_counter_ns()
        op()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples), len(samples)


def _busy_python(stop: threading.Event) -> None:
    while not stop.is_set():
        total = 0
        for value in range(1000):  # pure Python: holds the GIL except at switch points
            total += value * value


def busy_slowdown(name: str, op: Callable[[], object], calls: int) -> LoadResult:
    """Median latency of ``op`` idle and beside a busy pure-Python thread."""
    op()  # warm up
    idle, _ = _median_latency(op, calls)
    stop = threading.Event()
    busy = threading.Thread(target=_busy_python, args=(stop,), daemon=True)
    busy.start()
    try:
        time.sleep(0.01)  # let it get going
        loaded, done = _median_latency(op, calls)
    finally:
        stop.set()
        busy.join()
    return LoadResult(name, idle, loaded, loaded / idle, done)


def two_thread_speedup(name: str, op: Callable[[], object], calls: int, rounds: int = 5) -> LoadResult:
    """Calls per second with two threads each calling ``op``, over one thread alone.

    ``rounds`` interleaved rounds (one thread, then two), so load from other
    processes lands on both; the median of the per-round ratios is reported. Also
    the ratio of CPU time (one thread's over two threads', for the same calls: 1.0
    means two threads waste no CPU on GIL hand-offs) and the two threads' CPU time
    over wall time (about 1 when only one core was free for them, so the wall-time
    ratio cannot exceed 1 whatever the code does).
    """

    def work() -> None:
        for _ in range(calls):
            op()

    def one_thread() -> None:
        work()
        work()

    def two_threads() -> None:
        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def timed(run: Callable[[], None]) -> tuple[int, float]:
        cpu = time.process_time()
        start = time.perf_counter_ns()
        run()
        return time.perf_counter_ns() - start, time.process_time() - cpu

    op()
    ones: list[tuple[int, float]] = []
    twos: list[tuple[int, float]] = []
    for _ in range(rounds):
        ones.append(timed(one_thread))
        twos.append(timed(two_threads))
    speedup = statistics.median(one[0] / two[0] for one, two in zip(ones, twos, strict=True))
    cpu_ratio = statistics.median(one[1] / two[1] for one, two in zip(ones, twos, strict=True) if two[1] > 0)
    cpu_per_wall = statistics.median(two[1] / (two[0] / 1e9) for two in twos)
    return LoadResult(
        f"two threads: {name}",
        statistics.median(one[0] for one in ones) / (2 * calls),
        statistics.median(two[0] for two in twos) / (2 * calls),
        speedup,
        2 * calls * rounds,
        cpu_ratio,
        cpu_per_wall,
    )


def _build() -> str:
    """Which CPython ran the row: the GIL's state decides what two threads can do."""
    return "" if getattr(sys, "_is_gil_enabled", lambda: True)() else " (free-threaded, GIL off)"


def run(quick: bool = False, backend: str | None = None) -> list[LoadResult]:
    from secretumvault import pqc
    from secretumvault.bench.transit import PLAINTEXT_SIZE, open_transit

    calls = _CALLS_QUICK if quick else _CALLS
    public_key = pqc.Kem("ML-KEM-768", backend=backend).generate_keypair().public_key
    results = [busy_slowdown("ML-KEM-768 encapsulate", public_key.encapsulate, calls)]
    # Single native calls from two threads: 1.0x is the ceiling with the GIL (they keep it);
    # on a free-threaded build (3.14t) they run on both cores.
    secret_key = pqc.Signature("ML-DSA-65", backend=backend).generate_keypair().secret_key
    rounds = 3 if quick else 5
    results.append(
        two_thread_speedup(f"ML-DSA-65 sign{_build()}", lambda: secret_key.sign(b"m"), calls // 4, rounds)
    )
    results.append(
        two_thread_speedup(f"ML-KEM-768 encapsulate{_build()}", public_key.encapsulate, calls * 2, rounds)
    )
    with open_transit(backend) as transit:
        transit.create_key("bench-load", "ml-kem-768")
        plaintext = bytes(PLAINTEXT_SIZE)

        def encrypt() -> object:
            return transit.encrypt("bench-load", plaintext)

        results.append(busy_slowdown("transit.encrypt ml-kem-768 1 KiB", encrypt, calls))
        results.append(
            two_thread_speedup("transit.encrypt ml-kem-768 1 KiB", encrypt, calls * 2, 3 if quick else 5)
        )
        batch = [plaintext] * _BATCH

        def encrypt_batch() -> object:
            return transit.encrypt_batch("bench-load", batch)

        # The budget line: batches release the GIL in their native loop, so two threads can overlap.
        results.append(
            two_thread_speedup(
                f"transit.encrypt_batch ml-kem-768 1 KiB x{_BATCH}",
                encrypt_batch,
                calls // 20,
                3 if quick else 5,
            )
        )
    # What two threads get on this machine with no GIL at all: liboqs's C loop of as many
    # encapsulations as a batch holds, in each thread. Cores that share execution units, or a
    # host that lends fewer cycles than it shows cores, hold this below 2.
    c_loop = _c_loop()
    if c_loop is not None:
        results.append(two_thread_speedup(C_LOOP, c_loop, calls // 20, 3 if quick else 5))
    return results


#: The operation name of the C-loop row.
C_LOOP = f"liboqs C loop, ML-KEM-768 encapsulate x{_BATCH} (no GIL)"


def _c_loop() -> Callable[[], object] | None:
    from secretumvault.pqc.backends import oqs

    if not oqs.is_available():
        return None
    return functools.partial(oqs.c_floor, "ML-KEM-768", "encaps", _BATCH)
