"""Where the native core should release the GIL: the measurements behind its policy.

    python benchmarks/bench_gil.py [--quick] [--json]

Two threads: one runs a pure-Python busy loop, the other calls the library.
For each operation it reports the median (and 90th percentile) latency of one
call alone and beside the busy thread, and how far the busy thread got while
the calls ran (its loop rate against running alone).

* "single" is the call as the library makes it (short calls keep the GIL);
* "batch of 1" is the same work through the batch API, which releases the GIL
  once: the cost of a release for a short call (the convoy);
* the verify sweep grows the batch to find where releasing starts to pay;
* the 2-thread rows show what releasing buys: two threads calling batches at once.

No assertions: a script, not a test (tests never assert wall-clock times).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial

from secretumvault import pqc

Op = Callable[[], object]


@dataclass
class Row:
    name: str
    idle_us: float  # median latency, no other thread
    busy_us: float  # median latency beside the busy thread
    busy_p90_us: float
    busy_thread_rate: float  # busy loop's progress during the calls, 1.0 = as if alone

    @property
    def slowdown(self) -> float:
        return self.busy_us / self.idle_us


class BusyThread:
    """A pure-Python loop on its own thread, counting its iterations."""

    def __init__(self) -> None:
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        stop = self._stop
        while not stop.is_set():
            for _ in range(1000):
                n += 1
            self.count = n

    @contextmanager
    def running(self) -> Iterator[BusyThread]:
        self._thread.start()
        time.sleep(0.02)  # let it reach its loop
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def _busy_rate_alone(seconds: float) -> float:
    """Iterations per second of the busy loop with nothing else running."""
    busy = BusyThread()
    with busy.running():
        start_count, start = busy.count, time.perf_counter()
        time.sleep(seconds)
        return (busy.count - start_count) / (time.perf_counter() - start)


def _latencies(op: Op, seconds: float) -> list[float]:
    """Back-to-back calls for ``seconds`` (many switch intervals), each one timed, in µs."""
    out: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(out) < 10:
        t0 = time.perf_counter_ns()
        op()
        out.append((time.perf_counter_ns() - t0) / 1000)
    return out


def measure(name: str, op: Op, seconds: float, alone_rate: float) -> Row:
    op()  # warm up
    idle = _latencies(op, seconds)
    busy = BusyThread()
    with busy.running():
        c0, t0 = busy.count, time.perf_counter()
        loaded = _latencies(op, seconds)
        rate = (busy.count - c0) / (time.perf_counter() - t0) / alone_rate
    deciles = statistics.quantiles(loaded, n=10) if len(loaded) >= 10 else [max(loaded)] * 9
    return Row(name, statistics.median(idle), statistics.median(loaded), deciles[8], rate)


def two_thread_speedup(op: Op, rounds: int) -> float:
    """Throughput of two threads each running ``op`` ``rounds`` times, against one thread."""
    start = time.perf_counter()
    for _ in range(2 * rounds):
        op()
    one = time.perf_counter() - start
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        for _ in range(rounds):
            op()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return one / (time.perf_counter() - start)


def _verify_each(items: list[tuple[pqc.SigPublicKey, bytes, bytes, bytes]]) -> None:
    for key, signature, message, context in items:
        key.verify(signature, message, context)


def operations() -> Iterator[tuple[str, Op]]:
    """(name, op) for every row of the report."""
    kem = pqc.Kem("ML-KEM-768", backend="oqs")
    kp = kem.generate_keypair()
    ct = kp.public_key.encapsulate().ciphertext
    dsa65, dsa87 = pqc.Signature("ML-DSA-65", backend="oqs"), pqc.Signature("ML-DSA-87", backend="oqs")
    s65, s87 = dsa65.generate_keypair(), dsa87.generate_keypair()
    yield "ML-KEM-768 encapsulate, single", kp.public_key.encapsulate
    yield "ML-KEM-768 encapsulate, batch of 1", partial(kem.encapsulate_batch, [kp.public_key])
    yield "ML-KEM-768 decapsulate, single", partial(kp.secret_key.decapsulate, ct)
    yield "ML-KEM-768 decapsulate, batch of 1", partial(kem.decapsulate_batch, kp.secret_key, [ct])
    yield "ML-DSA-87 sign 32 B, single", partial(s87.secret_key.sign, b"m" * 32)
    # The same verification with the GIL kept (single call, below RELEASE_GIL_FROM)
    # and released (batch of 1), as the message, and so the work, grows.
    for size in (32, 64 << 10, 1 << 20, 3 << 20, 4 << 20):
        item = (s65.public_key, s65.secret_key.sign(b"m" * size), b"m" * size, b"")
        label = f"{size} B" if size < 1024 else f"{size >> 10} KiB"
        yield f"ML-DSA-65 verify {label}, single", partial(_verify_each, [item])
        yield f"ML-DSA-65 verify {label}, batch of 1", partial(dsa65.verify_batch, [item])
    item = (s65.public_key, s65.secret_key.sign(b"m"), b"m", b"")
    for n in (16, 256, 1000):
        yield f"ML-DSA-65 verify x{n}, one batch (releases once)", partial(dsa65.verify_batch, [item] * n)
        yield f"ML-DSA-65 verify x{n}, n single calls (keep it)", partial(_verify_each, [item] * n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seconds = 0.3 if args.quick else 1.0
    alone = _busy_rate_alone(0.5)
    rows = [measure(name, op, seconds, alone) for name, op in operations()]

    dsa65 = pqc.Signature("ML-DSA-65", backend="oqs")
    kp = dsa65.generate_keypair()
    sig = kp.secret_key.sign(b"m")
    batch = [(kp.public_key, sig, b"m", b"")] * 1000
    kem = pqc.Kem("ML-KEM-768", backend="oqs")
    pks = [kem.generate_keypair().public_key] * 1000
    rounds = 3 if args.quick else 8
    speedups = {
        "verify_batch x1000": two_thread_speedup(lambda: dsa65.verify_batch(batch), rounds),
        "encapsulate_batch x1000": two_thread_speedup(lambda: kem.encapsulate_batch(pks), rounds),
    }
    machine = f"{platform.machine()} {platform.processor() or ''} Python {sys.version.split()[0]}"
    if args.json:
        payload = {
            "machine": machine,
            "switch_interval_ms": sys.getswitchinterval() * 1000,
            "rows": [asdict(r) | {"slowdown": r.slowdown} for r in rows],
            "two_thread_speedup": speedups,
        }
        print(json.dumps(payload, indent=2))
        return 0
    print(f"{machine}; switch interval {sys.getswitchinterval() * 1000:.1f} ms")
    print(f"{'operation':<52} {'idle µs':>9} {'busy µs':>10} {'p90 µs':>10} {'x idle':>7} {'busy thr':>8}")
    for r in rows:
        print(
            f"{r.name:<52} {r.idle_us:>9.1f} {r.busy_us:>10.1f} {r.busy_p90_us:>10.1f} "
            f"{r.slowdown:>7.1f} {r.busy_thread_rate:>8.2f}"
        )
    for name, speedup in speedups.items():
        print(f"two threads, {name}: {speedup:.2f}x one thread")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
