"""How long the command line takes to start, against the bare interpreter.

Measured where users see it: each command is a fresh process, started the
way a user starts it (the ``secretumvault`` script beside this interpreter,
else ``python -m secretumvault``). The budget: ``--version`` and ``--help``
within 1.6x of ``python -c pass``, and ``transit encrypt`` on a store sealed
with shares within 4x. The commands take turns within each
round, so a burst of load on the machine lands on all of them; the median of
the rounds is reported. The script pip writes imports ``re`` before our code
runs (pypa/pip#13165), so ``--version`` is also timed through ``python -m``,
which shows the package's own share. Bytecode is cached as on a user's
machine: the warm-up run writes it even where PYTHONDONTWRITEBYTECODE is set.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

__all__ = ["GOALS", "measure", "summary"]

INTERPRETER = "python -c pass"
_MODULE_VERSION = "python -m secretumvault --version"
#: Largest acceptable ratio to the bare interpreter, per command.
GOALS = {"--version": 1.6, "--help": 1.6, "transit encrypt": 4.0}
_DROPPED = ("SECRETUMVAULT_PASSPHRASE", "SECRETUMVAULT_SHARES", "PYTHONDONTWRITEBYTECODE")


def _launcher() -> list[str]:
    script = shutil.which("secretumvault", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "secretumvault"]


def _environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in _DROPPED}


def _run(argv: list[str], *, stdout: Any = subprocess.DEVNULL) -> float:
    """Seconds ``argv`` took; a command that fails is an error, never a timing."""
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and command, fixed arguments
        argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, env=_environment(), check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[-4:])} exited {done.returncode}: {done.stderr.decode(errors='replace')}"
        )
    return elapsed


def _prepare_store(launcher: list[str], directory: str) -> list[str]:
    """A store sealed with 3 shares (any 2 unseal it), one ml-kem-768 key; the encrypt command."""
    store, shares, message = (os.path.join(directory, name) for name in ("vault.db", "shares.txt", "message"))
    with open(shares, "wb") as out:
        _run([*launcher, "init", "--store", store, "--shares", "3", "--threshold", "2"], stdout=out)
    unseal = ["--store", store, "--share-file", shares]
    _run([*launcher, "transit", "create", "k", "--type", "ml-kem-768", *unseal])
    with open(message, "wb") as out:
        out.write(b"x" * 1024)
    return [*launcher, "transit", "encrypt", "k", message, *unseal]


def measure(*, quick: bool = False, rounds: int | None = None) -> dict[str, Any]:
    """Median start times (ms) and their ratios to the bare interpreter, with the goals."""
    launcher = _launcher()
    rounds = rounds or (5 if quick else 21)
    with tempfile.TemporaryDirectory() as directory:
        commands = {
            INTERPRETER: [sys.executable, "-c", "pass"],
            "--version": [*launcher, "--version"],
            "--help": [*launcher, "--help"],
            "transit encrypt": _prepare_store(launcher, directory),
        }
        if launcher[0] != sys.executable:
            commands[_MODULE_VERSION] = [sys.executable, "-m", "secretumvault", "--version"]
        for argv in commands.values():
            _run(argv)  # warm: bytecode written, files in the page cache
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, argv in commands.items():
                samples[name].append(_run(argv))
    medians = {name: statistics.median(times) * 1000 for name, times in samples.items()}
    bare = medians[INTERPRETER]
    return {
        "launcher": " ".join(os.path.basename(part) for part in launcher),
        "rounds": rounds,
        "interpreter_ms": round(bare, 2),
        "commands": [
            {"command": name, "ms": round(ms, 2), "ratio": round(ms / bare, 2), "goal": GOALS.get(name)}
            for name, ms in medians.items()
            if name != INTERPRETER
        ],
    }


def summary(result: dict[str, Any]) -> str:
    """A few lines for the terminal report."""
    head = f"CLI start ({result['launcher']}, median of {result['rounds']} runs)"
    lines = [f"{head}: {INTERPRETER} {result['interpreter_ms']:.1f} ms"]
    for row in result["commands"]:
        verdict = (
            ""
            if row["goal"] is None
            else (" ok" if row["ratio"] <= row["goal"] else f" (goal {row['goal']}x)")
        )
        lines.append(f"  {row['command']:<34} {row['ms']:7.1f} ms  {row['ratio']:.2f}x{verdict}")
    return "\n".join(lines)
