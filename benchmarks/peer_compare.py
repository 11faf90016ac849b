"""Compare SecretumVault with the C floor and its peers (same as ``secretumvault bench``).

    python benchmarks/peer_compare.py [--quick] [--json] [--plot FILE.png]

Set OQS_INSTALL_PATH to a shared liboqs 0.16.0 prefix to include liboqs-python.
"""

from __future__ import annotations

import sys

from secretumvault.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
