"""Has any process written to these files since we last looked? (Linux inotify, through libc.)

The kernel queues an inotify event inside every ``write()`` to a watched file,
before that call returns to the writer, so an empty queue at time t proves that
no write to the files completed since the queue was last drained. SQLite commits
by writing frames to the ``-wal`` file, so this answers "was anything committed?"
in one ``poll()`` (about 0.4 µs) instead of a statement (``PRAGMA data_version``,
about 2.5 µs).

It says nothing about *when* a commit becomes visible: see
:meth:`secretumvault.keystore.sqlite.SQLiteStorage.change_counter` for how the
caller closes that gap.

That ``poll()`` is called through ``ctypes.PyDLL``, which keeps the GIL: it never
blocks (timeout 0). ``select.poll`` would release the GIL around it, and every
release wakes a thread waiting for the GIL and often hands it over; with two
threads making cache-checked calls those hand-offs cost more than the calls.

Kept under the performance budget (issue 24), measured on a shared 2-core VM,
Python 3.11, CPU time per call: this check 0.78 µs, ``PRAGMA data_version`` on
a pooled connection 6.8 µs (3.1 µs on a connection of its own). Every cached
transit call makes one; without the watch an ML-KEM-768 encryption of 1 KiB
went from 16.3 to 22.6 µs against a floor of about 17 µs wall, far past its
1.6x budget line. This module is the trick's one home; its fork handling is
below (``os.register_at_fork``) and tests/transit/test_cache.py tests it.

Linux only; :func:`open_watch` returns None wherever it cannot watch (another OS,
no inotify instances left, a file missing) and the caller falls back to asking
SQLite. A watch never survives into a forked child: the queue would be shared
with the parent, and a child draining it would hide writes from the parent.
"""

from __future__ import annotations

import os
import select
import struct
import sys
import weakref
from collections.abc import Callable, Sequence

__all__ = ["FileWatch", "open_watch"]

_IN_MODIFY = 0x00000002
_IN_ATTRIB = 0x00000004
_IN_DELETE_SELF = 0x00000400
_IN_MOVE_SELF = 0x00000800
_IN_Q_OVERFLOW = 0x00004000
_IN_IGNORED = 0x00008000
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_WATCHED = _IN_MODIFY | _IN_ATTRIB | _IN_DELETE_SELF | _IN_MOVE_SELF
# Events after which the watch no longer covers the file (replaced, gone, or events lost).
_LOST = _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_Q_OVERFLOW | _IN_IGNORED
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)

_open_watches: weakref.WeakSet[FileWatch] = weakref.WeakSet()


#: ``poll(fds, nfds, timeout)`` from libc, called with the GIL held (ctypes arguments).
_PollFunction = Callable[[object, object, object], int]


class FileWatch:
    """An inotify instance watching a few files. Not thread-safe: the caller holds a lock
    (except for :meth:`quiet`, which reads only and makes one C call)."""

    __slots__ = ("__weakref__", "_fd", "_nfds", "_poll", "_pollfd", "_timeout", "lost")

    def __init__(self, fd: int, poll: _PollFunction, pollfd: object, nfds: object, timeout: object) -> None:
        self._fd = fd
        self._poll = poll
        # ctypes values made once: byref(struct pollfd {fd, POLLIN}), c_ulong(1), c_int(0).
        # Passing ready-made ctypes objects is the cheapest ctypes call (about 0.4 µs).
        self._pollfd = pollfd
        self._nfds = nfds
        self._timeout = timeout
        self.lost = False  # once True, this watch proves nothing any more

    def quiet(self) -> bool:
        """True if no watched file was written since the last :meth:`drain`.

        poll() returns 0 only when no event is queued; an error (-1) counts as "not quiet".
        """
        return not self.lost and self._poll(self._pollfd, self._nfds, self._timeout) == 0

    def drain(self) -> None:
        """Consume every queued event; set :attr:`lost` if the watch stopped covering a file."""
        if self._fd < 0:
            self.lost = True
            return
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                self.lost = True
                return
            offset = 0
            while offset + _EVENT.size <= len(data):
                _, mask, _, length = _EVENT.unpack_from(data, offset)
                if mask & _LOST:
                    self.lost = True
                offset += _EVENT.size + length

    def close(self) -> None:
        self.lost = True
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:  # an unclosed storage must not leak the inotify instance
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def _forget_after_fork(self) -> None:
        # In a child: the parent still reads this queue. Never read or close it here.
        self.lost = True
        self._fd = -1


def _after_fork_in_child() -> None:
    for watch in list(_open_watches):
        watch._forget_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def open_watch(paths: Sequence[str]) -> FileWatch | None:
    """A watch on every file of ``paths``, or None if that cannot be had here."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        init, add = libc.inotify_init1, libc.inotify_add_watch
        # PyDLL: the call keeps the GIL (see the module docstring). Its own handle, so that
        # setting restype here cannot change a function object anyone else uses.
        poll = ctypes.PyDLL(None).poll
    except (OSError, AttributeError):
        return None
    add.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
    poll.restype = ctypes.c_int
    fd = init(_IN_NONBLOCK | _IN_CLOEXEC)
    if fd < 0:  # e.g. fs.inotify.max_user_instances reached
        return None

    class PollFd(ctypes.Structure):  # struct pollfd
        _fields_ = (("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short))

    pollfd = PollFd(fd, select.POLLIN, 0)
    watch = FileWatch(fd, poll, ctypes.byref(pollfd), ctypes.c_ulong(1), ctypes.c_int(0))
    for path in paths:
        if add(fd, os.fsencode(path), _WATCHED) < 0:
            watch.close()
            return None
    _open_watches.add(watch)
    return watch
