"""How thorough a test run is: fast by default, thorough where SECRETUMVAULT_TEST_THOROUGH=1 (CI sets it).

The hypothesis profiles ("fast", "thorough") are registered in tests/conftest.py.
Property tests with a large count of their own write ``max_examples=examples(10_000)``:
the full count in a thorough run, a twentieth (at least 25) by default.
"""

from __future__ import annotations

import os

THOROUGH = os.environ.get("SECRETUMVAULT_TEST_THOROUGH", "") not in ("", "0")
SKIP_REASON = "slow: runs where SECRETUMVAULT_TEST_THOROUGH=1 (CI sets it in .ci/run)"


def examples(thorough: int) -> int:
    return thorough if THOROUGH else max(25, thorough // 20)
