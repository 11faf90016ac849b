"""The benchmark report's tables keep each row whole when stdout is a file or a pipe."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from rich.console import Console
from rich.table import Table

from secretumvault import bench
from secretumvault.bench import report

Render = Callable[[list[bench.Result], dict[tuple[str, str, str], float]], Table]
CONTENDERS = (bench.FLOOR, "secretumvault[oqs]", "secretumvault[openssl]", "kyber-py / dilithium-py")


def _results() -> tuple[list[bench.Result], dict[tuple[str, str, str], float]]:
    results = [
        bench.Result(name, alg, op, 12_345_678.0 * (i + 1))
        for i, name in enumerate(CONTENDERS)
        for alg, op in bench.OPERATIONS
    ]
    ratios = {(r.contender, r.algorithm, r.operation): 123.45 for r in results}
    return results, ratios


def _words_intact(text: str) -> bool:
    """Every contender name and column heading on one line (rich breaks them when squeezed)."""
    headings = [f"{alg.split('-')[1]} {op}" for alg, op in bench.OPERATIONS]
    lines = text.splitlines()
    return all(any(word in line for line in lines) for word in (*CONTENDERS, *headings))


def test_a_file_or_pipe_gets_unwrapped_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()  # not a terminal, as a redirect or a pipe
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.delenv("COLUMNS", raising=False)
    table = report.render_table(*_results())
    report.output_console().print(table)
    text = out.getvalue()
    assert _words_intact(text)
    assert max(len(line) for line in text.splitlines()) > 80  # it really is wider than rich's default

    squeezed = io.StringIO()  # the control: rich's own default for a non-terminal breaks them
    Console(file=squeezed, width=80).print(table)
    assert not _words_intact(squeezed.getvalue())


def test_columns_still_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", io.StringIO())
    monkeypatch.setenv("COLUMNS", "100")
    assert report.output_console().width == 100


@pytest.mark.parametrize(
    ("render", "alg", "op"),
    [
        (report.render_fips204_table, *bench.FIPS204_OPERATIONS[0]),
        (report.render_slh_table, *bench.SLH_OPERATIONS[0]),
    ],
)
def test_cells_show_microseconds_and_ratio_or_a_dash(render: Render, alg: str, op: str) -> None:
    """One measured cell (12.3 µs, 4.56x the floor); every other cell of the table is a dash."""
    measured = bench.Result("secretumvault[oqs]", alg, op, 12_345.0)
    table = render([measured], {("secretumvault[oqs]", alg, op): 4.56})
    cells = [cell for column in table.columns[1:] for cell in column.cells]
    assert cells.count("12.3 (4.56x)") == 1
    assert all(cell == "—" for cell in cells if cell != "12.3 (4.56x)")
    assert len(cells) > 1


def test_ratios_are_the_paired_medians_not_a_ratio_of_medians() -> None:
    """A contender's ratio comes from its own runs against the floor's in the same repeats
    (``Result.ratio_to_floor``), which a burst of load cannot skew the way it skews one median."""
    results = [
        bench.Result(bench.FLOOR, "ML-KEM-768", "keygen", 10_000.0),
        bench.Result("secretumvault[oqs]", "ML-KEM-768", "keygen", 13_000.0, ratio_to_floor=1.04),
        bench.Result("pqcrypto", "ML-KEM-768", "keygen", None, "not installed"),
    ]
    assert bench.ratios_to_floor(results) == {
        (bench.FLOOR, "ML-KEM-768", "keygen"): 1.0,
        ("secretumvault[oqs]", "ML-KEM-768", "keygen"): 1.04,
    }
