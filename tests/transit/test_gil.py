"""Single transit calls keep the GIL (the README's GIL policy), once the key is cached.

A call that releases the GIL, even for a microsecond, hands it to any thread
waiting for it; beside a busy thread, or with two threads calling transit,
every such call then waits for the other thread's switch interval (issue 15
measured two threads at half the throughput of one). pybase64, tried for the
``vault:`` text, releases it on every call and brought that back.

The check counts hand-overs, not time: with the switch interval set very
long, a thread waiting for the GIL gets it only when the running thread
releases it on its own. A watcher thread counts each time it gets it. A
control that surely releases the GIL (``os.urandom``) must be seen; if even it
is not, the machine cannot show a hand-over and the test skips saying so.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

import pytest

from secretumvault.transit import Transit

_CALLS = 2000


def _gil_handovers(work: Callable[[], object]) -> int:
    """How often a waiting thread got the GIL while ``work`` ran."""
    count = 0
    stop = False
    started = threading.Event()

    def watcher() -> None:
        nonlocal count
        started.set()
        while not stop:
            count += 1
            time.sleep(0)  # hands the GIL straight back

    previous = sys.getswitchinterval()
    sys.setswitchinterval(60.0)  # no forced switch while work() runs
    thread = threading.Thread(target=watcher, daemon=True)
    try:
        thread.start()
        started.wait()
        time.sleep(0.01)  # the watcher is now waiting for the GIL
        before = count
        for _ in range(_CALLS):
            work()
        handovers = count - before
    finally:
        stop = True
        sys.setswitchinterval(previous)
    thread.join()
    return handovers


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="a hand-over is seen only with a second CPU core")
@pytest.mark.skipif(
    not getattr(sys, "_is_gil_enabled", lambda: True)(),
    reason="free-threaded build: there is no GIL to hand over",
)
@pytest.mark.parametrize("key_type", ["ml-kem-768", "aes256-gcm96", "hmac"])
def test_single_transit_calls_keep_the_gil(transit: Transit, key_type: str) -> None:
    transit.create_key("k", key_type)
    data = os.urandom(1024)
    calls: dict[str, Callable[[], object]]
    if key_type == "hmac":
        tag = transit.hmac("k", data)
        calls = {
            "hmac": lambda: transit.hmac("k", data),
            "verify": lambda: transit.verify_hmac("k", data, tag),
        }
    else:
        ciphertext = transit.encrypt("k", data)
        calls = {
            "encrypt": lambda: transit.encrypt("k", data),
            "decrypt": lambda: transit.decrypt("k", ciphertext),
        }
    for call in calls.values():
        call()  # the key is read from the store and cached: that read may release the GIL
    control = _gil_handovers(lambda: os.urandom(12))
    if control == 0:
        pytest.skip("even os.urandom, which releases the GIL, showed no hand-over here")
    if key_type == "aes256-gcm96":
        # Its nonce comes from os.urandom per message (issue 24: no nonce pool), which releases
        # the GIL like the control; a release that short costs nothing measurable beside a busy
        # thread (the budget's busy-thread line, secretumvault bench).
        del calls["encrypt"]
    seen = {name: _gil_handovers(call) for name, call in calls.items()}
    assert seen == dict.fromkeys(calls, 0), f"transit released the GIL (os.urandom control: {control})"
