"""``python -m secretumvault``: the same command as ``secretumvault``."""

import sys

from secretumvault.cli import main

sys.exit(main())
