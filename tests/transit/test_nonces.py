"""Random AEAD nonces drawn in blocks: every nonce distinct, across threads and across fork()."""

from __future__ import annotations

import os
import threading
from collections import deque

import pytest

from secretumvault.transit import _nonces
from secretumvault.transit._nonces import NONCE_SIZE, random_nonce


def test_nonces_have_the_right_size_and_never_repeat_across_blocks() -> None:
    nonces = [random_nonce() for _ in range(10 * 64 + 7)]  # several refills
    assert all(type(n) is bytes and len(n) == NONCE_SIZE for n in nonces)
    assert len(set(nonces)) == len(nonces)


def test_threads_never_get_the_same_nonce() -> None:
    results: list[list[bytes]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def draw(out: list[bytes]) -> None:
        start.wait()
        for _ in range(3000):
            out.append(random_nonce())

    threads = [threading.Thread(target=draw, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [nonce for out in results for nonce in out]
    assert len(every) == 12000
    assert len(set(every)) == len(every)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_never_hands_out_the_parents_next_nonces() -> None:
    random_nonce()  # the parent now holds a block with 63 nonces left
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its first nonces, then exit without running pytest's cleanup
        try:
            os.write(write_end, b"".join(random_nonce() for _ in range(64)))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    parent = [random_nonce() for _ in range(64)]
    child_nonces = {child[i : i + NONCE_SIZE] for i in range(0, len(child), NONCE_SIZE)}
    assert len(child_nonces) == 64
    assert not child_nonces & set(parent)


def test_a_block_drawn_in_another_process_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork that bypassed os.register_at_fork: the block's process id differs from ours."""
    inherited = [bytes([n]) * NONCE_SIZE for n in range(8)]
    monkeypatch.setattr(_nonces, "_block", (os.getpid() + 1, deque(inherited)))
    drawn = [random_nonce() for _ in range(8)]
    assert not set(drawn) & set(inherited)
    assert len(set(drawn)) == 8
