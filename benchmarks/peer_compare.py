"""Compare SecretumVault with the C floor and its peers; print a table (or JSON).

    python benchmarks/peer_compare.py [--quick] [--json]

Set OQS_INSTALL_PATH to a shared liboqs 0.16.0 prefix to include liboqs-python.
The same comparison runs as ``secretumvault bench``.
"""

from __future__ import annotations

import argparse
import json
import platform

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from secretumvault import bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short loops (well under a minute)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()

    console = Console(stderr=args.json)
    results = []
    with console.status("benchmarking...") as status:
        for result in bench.run(quick=args.quick):
            status.update(f"{result.contender}: {result.algorithm} {result.operation}")
            results.append(result)
    ratios = bench.ratios_to_floor(results)
    if args.json:
        print(
            json.dumps(
                [
                    r.as_dict() | {"ratio_to_floor": ratios.get((r.contender, r.algorithm, r.operation))}
                    for r in results
                ],
                indent=2,
            )
        )
        return
    machine = platform.processor() or platform.machine()
    table = Table(title=f"{bench.KEM} / {bench.SIG}, µs per operation (ratio to C floor), {machine}")
    table.add_column("contender")
    columns = [f"{alg.split('-')[1]} {op}" for alg, op in bench.OPERATIONS]
    for col in columns:
        table.add_column(col, justify="right")
    for contender in dict.fromkeys(r.contender for r in results):
        cells = []
        for alg, op in bench.OPERATIONS:
            r = next(r for r in results if (r.contender, r.algorithm, r.operation) == (contender, alg, op))
            ratio = ratios.get((contender, alg, op))
            cells.append(
                "—"
                if r.ns_per_op is None
                else f"{r.ns_per_op / 1000:.1f} ({ratio:.2f}x)"
                if ratio
                else f"{r.ns_per_op / 1000:.1f}"
            )
        table.add_row(escape(contender), *cells)
    console.print(table)
    for r in results:
        if r.ns_per_op is None and r.operation == "keygen" and r.algorithm == bench.KEM:
            console.print(f"[dim]{escape(r.contender)}: {escape(r.note)}[/dim]")


if __name__ == "__main__":
    main()
