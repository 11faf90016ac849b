"""``python -m secretumvault``: the same command as ``secretumvault``."""

import sys

from .cli import main

sys.exit(main())
