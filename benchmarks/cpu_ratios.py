"""The native core against its C floor in CPU time, for machines shared with other work.

    python benchmarks/cpu_ratios.py [--repeats N]

``secretumvault bench`` times both sides by the wall clock, which a loaded
machine stretches unevenly. This script runs the same operations and the same
C loops (secretumvault.bench) but reads this thread's CPU time around each
run, which excludes the time the thread spends waiting for a core. It
reports the median ratio per operation, secretumvault[oqs] over the C floor.
"""

from __future__ import annotations

import argparse
import statistics
import time

from secretumvault import bench
from secretumvault.pqc.backends import oqs


def cpu_ns_per_call(run: bench.Op, calls: int) -> float:
    start = time.thread_time_ns()
    for _ in range(calls):
        run()
    return (time.thread_time_ns() - start) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    make = bench.CONTENDERS["secretumvault[oqs]"]()
    print(f"{'operation':<28} {'C floor µs':>10} {'oqs µs':>9} {'ratio':>6}")
    for alg, op in (*bench.OPERATIONS, *bench.FIPS204_OPERATIONS):
        fn = make(alg, op)
        calls = max(20, int(0.05e9 / max(cpu_ns_per_call(fn, 3), 1.0)))
        floors, ours, ratios = [], [], []
        for _ in range(args.repeats):  # interleaved, so a burst of load hits both sides
            start = time.thread_time_ns()
            oqs.c_floor(alg, op, calls)  # runs on this thread: its CPU time is counted
            floor = (time.thread_time_ns() - start) / calls
            own = cpu_ns_per_call(fn, calls)
            floors.append(floor)
            ours.append(own)
            ratios.append(own / floor)
        name = f"{alg.split('-')[1]} {op}"
        print(
            f"{name:<28} {statistics.median(floors) / 1000:>10.1f} {statistics.median(ours) / 1000:>9.1f} "
            f"{statistics.median(ratios):>6.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
