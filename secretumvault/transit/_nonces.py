"""Random 96-bit AEAD nonces without a system call per message.

``os.urandom`` releases the GIL around ``getrandom()``. For a 12-byte read the
release costs more than the read: it wakes any thread waiting for the GIL and
often hands the GIL over, so two threads encrypting with one key got less done
than one (issue 15). Nonces are therefore read from ``os.urandom`` in blocks and
handed out one at a time. The randomness is the same (the OS CSPRNG) and so is
the bound for random nonces (SP 800-38D: at most 2**32 messages per key); nonces
are not secret, they travel in the clear beside the ciphertext.

Uniqueness: a block is a ``collections.deque`` and ``popleft()`` is atomic, with the
GIL and without it (free-threaded builds lock the deque for the call; a shared
list iterator is not safe there: two threads can get the same item), so two
threads never get the same nonce; two threads refilling at once each draw their
own block, and the nonces left in the block that loses are dropped, never handed out. A forked child
must never use the parent's block (both would encrypt under the same keys): the
block is dropped in the child (``os.register_at_fork``) and, for a fork that
bypasses that hook, each block remembers the process id it was drawn in.
"""

from __future__ import annotations

import os
from collections import deque

__all__ = ["NONCE_SIZE", "random_nonce"]

NONCE_SIZE = 12
_PER_BLOCK = 64  # 768 bytes per getrandom() call

# (process id the block was drawn in, the nonces of the block not handed out yet)
_block: tuple[int, deque[bytes]] = (-1, deque())


def random_nonce() -> bytes:
    """A fresh random ``NONCE_SIZE``-byte nonce, never handed out before in this process."""
    pid, nonces = _block
    try:
        nonce = nonces.popleft()
    except IndexError:  # used up (or the empty start): one getrandom() for the next block
        return _new_block()
    if pid != os.getpid():
        return _new_block()
    return nonce


def _new_block() -> bytes:
    global _block
    randomness = os.urandom(NONCE_SIZE * _PER_BLOCK)
    nonces = [randomness[i : i + NONCE_SIZE] for i in range(0, len(randomness), NONCE_SIZE)]
    _block = (os.getpid(), deque(nonces[1:]))
    return nonces[0]


def _drop_block() -> None:
    global _block
    _block = (-1, deque())


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_block)
