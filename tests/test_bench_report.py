"""The benchmark report's tables keep each row whole when stdout is a file or a pipe."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from secretumvault import bench
from secretumvault.bench import report

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
