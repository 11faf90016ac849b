"""Run the peer comparison of :mod:`secretumvault.bench` and present it.

A progress bar while it runs, a table at the end with each contender's time
and its ratio to the C floor (rich), ``--json`` for machines, and an optional
PNG chart (matplotlib, the ``plot`` extra).
"""

from __future__ import annotations

import json
import os
import platform
import sys

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from secretumvault import bench
from secretumvault.bench import budget, cli_start, load
from secretumvault.bench import transit as bench_transit
from secretumvault.errors import UnsupportedAlgorithm

__all__ = ["output_console", "render_table", "run", "save_plot"]


def run(*, quick: bool, as_json: bool, plot: str | None) -> int:
    console = Console(stderr=True)
    total = bench.result_count()
    results: list[bench.Result] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("benchmarking", total=total)
        for result in bench.run(quick=quick):
            results.append(result)
            progress.update(task, advance=1, description=f"{result.algorithm} {result.operation}")
    ratios = bench.ratios_to_floor(results)
    start = cli_start.measure(quick=quick)
    extra = {  # transit against its floor; single calls beside a busy thread, two threads against one
        "transit": [result.as_dict() for result in bench_transit.run(quick)],
        "busy_thread": [result.as_dict() for result in load.run(quick)],
        "import_ms": budget.import_ms(5 if quick else 21),
        "server": _server(quick),
    }
    rows = [r.as_dict() | {"ratio_to_floor": ratios.get(_key(r))} for r in results]
    document = {"machine": _machine(), "quick": quick, "results": rows, "cli_start": start} | extra
    lines = budget.lines(document)
    if as_json:
        print(json.dumps(document | {"budget": [line.as_dict() for line in lines]}, indent=2))
    else:
        out = output_console()
        out.print(render_table(results, ratios))
        out.print(render_fips204_table(results, ratios))
        out.print(render_slh_table(results, ratios))
        out.print(escape(cli_start.summary(start)))
        out.print(bench_transit.render_table(extra))
        for r in results:
            if r.ns_per_op is None and (r.algorithm, r.operation) == bench.OPERATIONS[0]:
                out.print(f"[dim]{escape(r.contender)}: {escape(r.note)}[/dim]")
        out.print(budget.render(lines))
    if plot:
        save_plot(results, plot)
        console.print(f"chart written to {plot}")
    return 0


def _server(quick: bool) -> dict[str, object] | str:
    """The server against its framework floor, or why it was not measured."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return "needs the server extra: pip install 'secretumvault[server]'"
    from secretumvault.bench import server

    return server.run(quick).as_dict()


def _key(r: bench.Result) -> tuple[str, str, str]:
    return (r.contender, r.algorithm, r.operation)


def _machine() -> str:
    return f"{platform.machine()} {platform.processor() or ''} Python {sys.version.split()[0]}".strip()


def output_console() -> Console:
    """The report's console: a terminal's width, else wide enough that no table row wraps.

    Rich assumes 80 columns when stdout is a file or a pipe, and the tables are wider than that;
    a report kept in a file or read by a program needs each row on one line. COLUMNS still rules.
    """
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console()
    return Console(width=_UNWRAPPED_WIDTH)


_UNWRAPPED_WIDTH = 1000  # wider than any table the report prints


def render_table(results: list[bench.Result], ratios: dict[tuple[str, str, str], float]) -> Table:
    title = f"{bench.KEM} / {bench.SIG}: µs per operation (ratio to the C floor), {_machine()}"
    table = Table(title=title)
    table.add_column("contender", no_wrap=True)
    for alg, op in bench.OPERATIONS:
        table.add_column(f"{alg.split('-')[1]} {op}", justify="right")
    by_key = {_key(r): r for r in results}
    for contender in dict.fromkeys(r.contender for r in results):
        cells = []
        for alg, op in bench.OPERATIONS:
            r = by_key[(contender, alg, op)]
            ratio = ratios.get((contender, alg, op))
            if r.ns_per_op is None:
                cells.append("—")
            elif ratio is None:
                cells.append(_short(r.ns_per_op / 1000))
            else:
                cells.append(f"{_short(r.ns_per_op / 1000)}\n{_short(ratio, 2)}x")
        table.add_row(escape(contender), *cells)
    return table


def render_fips204_table(results: list[bench.Result], ratios: dict[tuple[str, str, str], float]) -> Table:
    """The FIPS 204 paths beyond liboqs's API, and one composite ML-DSA row: the C floor and our backends."""
    table = Table(title=f"{bench.SIG}, FIPS 204 paths: µs per operation (ratio to the C floor)")
    columns = (bench.FLOOR, *bench.FIPS204_CONTENDERS)
    table.add_column("operation", no_wrap=True)
    for name in columns:  # "secretumvault[oqs]" -> "oqs": the table fits 80 columns
        table.add_column(escape(name.removeprefix("secretumvault[").rstrip("]")), justify="right")
    by_key = {_key(r): r for r in results}
    for alg, op in (*bench.FIPS204_OPERATIONS, *bench.COMPOSITE_OPERATIONS):
        cells = [_cell(by_key.get((name, alg, op)), ratios.get((name, alg, op))) for name in columns]
        table.add_row(op if alg == bench.SIG else f"{alg} {op}", *cells)
    return table


def _cell(result: bench.Result | None, ratio: float | None) -> str:
    """µs per operation and the ratio to the floor, or a dash where it was not measured."""
    if result is None or result.ns_per_op is None:
        return "—"
    return _short(result.ns_per_op / 1000) + ("" if ratio is None else f" ({_short(ratio, 2)}x)")


def render_slh_table(results: list[bench.Result], ratios: dict[tuple[str, str, str], float]) -> Table:
    """SLH-DSA (FIPS 205): the native core against the same slhdsa-c calls looped in C."""
    table = Table(title="SLH-DSA (FIPS 205): µs per operation (ratio to the C floor)")
    columns = (bench.FLOOR, *bench.SLH_CONTENDERS)
    table.add_column("operation", no_wrap=True)
    for name in columns:
        table.add_column(escape(name.removeprefix("secretumvault[").rstrip("]")), justify="right")
    by_key = {_key(r): r for r in results}
    for alg, op in bench.SLH_OPERATIONS:
        cells = [_cell(by_key.get((name, alg, op)), ratios.get((name, alg, op))) for name in columns]
        table.add_row(f"{alg.removeprefix('SLH-DSA-')} {op}", *cells)
    return table


def _short(value: float, decimals: int = 1) -> str:
    """Few characters for a table cell: fewer decimals as the number grows."""
    if value >= 1000:
        return f"{value:.0f}"
    if value >= 100:
        return f"{value:.0f}" if decimals > 1 else f"{value:.1f}"
    return f"{value:.{decimals}f}"


def save_plot(results: list[bench.Result], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UnsupportedAlgorithm("--plot needs matplotlib: pip install 'secretumvault[plot]'") from None
    contenders = [
        c
        for c in dict.fromkeys(r.contender for r in results)
        if any(r.contender == c and r.ns_per_op for r in results)
    ]
    ops = [f"{alg}\n{op}" for alg, op in bench.OPERATIONS]
    by_key = {_key(r): r for r in results}
    fig, ax = plt.subplots(figsize=(12, 5.5))
    width = 0.8 / max(len(contenders), 1)
    for i, contender in enumerate(contenders):
        values = [(by_key[(contender, alg, op)].ns_per_op or 0) / 1000 for alg, op in bench.OPERATIONS]
        ax.bar([x + i * width for x in range(len(ops))], values, width, label=contender)
    ax.set_xticks([x + width * (len(contenders) - 1) / 2 for x in range(len(ops))], ops)
    ax.set_yscale("log")
    ax.set_ylabel("µs per operation (log scale; lower is faster)")
    ax.set_title(f"ML-KEM-768 / ML-DSA-65 per operation, {_machine()}")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
