"""examples/hvac_quickstart.py (the README's hvac example) runs as written against a dev server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.server.conftest import start_dev_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hvac_quickstart.py"


def test_hvac_quickstart_runs_against_the_dev_server(tmp_path: Path) -> None:
    server = start_dev_server(tmp_path)
    try:
        env = {**os.environ, "VAULT_ADDR": server.url, "VAULT_TOKEN": server.root_token}
        result = subprocess.run(
            [sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith("vault:v1:") and lines[1].startswith("vault:v1:") and ":" in lines[2]
    finally:
        server.stop()
    # A stopped dev server exits cleanly and removes its temporary store.
    assert server.process.returncode == 0
    store = next(line for line in server.banner if line.startswith("Store: ")).split()[1]
    assert Path(store).name.startswith("secretumvault-dev-") and not Path(store).exists()
