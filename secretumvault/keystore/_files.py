"""The files of a SQLite store: created private (0600), never reached through a symlink.

SQLite creates a store's files with mode 0644 less the umask, and follows a
symlink at any of them. So before SQLite opens a store, this module

- creates the store file itself, exclusively and without following links, mode 0600;
- refuses a store path, or a ``-wal``/``-shm``/``-journal`` path beside it,
  that is a symlink (or not a regular file);
- creates an absent ``-wal`` and ``-shm`` file the same way, so SQLite opens
  those instead of creating its own.

SQLite gives a ``-wal``, ``-shm`` or ``-journal`` file it creates itself the
mode of the store file, so a store created here keeps every file 0600. An
existing store keeps the mode its owner gave it.

Files created here are only ever new ones (``O_EXCL``): opening and closing an
existing store file would drop this process's SQLite locks on it (POSIX locks
belong to the process, and any close releases them).

What no check before SQLite's own ``open()`` can exclude: someone who may
rename files in the store's directory swapping one in between. Keep the store
in a directory only its owner can write to.
"""

from __future__ import annotations

import os
import stat

from secretumvault._files import create_new_file
from secretumvault.errors import KeystoreError

__all__ = ["SIDE_SUFFIXES", "prepare_store_files"]

SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
_PRECREATED = ("-wal", "-shm")


def prepare_store_files(path: str) -> None:
    """Make ``path`` safe for SQLite to open; KeystoreError (nothing created) if it is not."""
    for suffix in SIDE_SUFFIXES:
        _check_existing(path + suffix)
    _create_or_check(path)
    for suffix in _PRECREATED:
        _create_or_check(path + suffix)


def _create_or_check(path: str) -> None:
    try:
        fd = create_new_file(path)
    except FileExistsError:  # also a symlink, even a dangling one: O_EXCL never follows
        _check_existing(path)
        return
    except OSError as exc:
        raise KeystoreError(f"cannot create SQLite store file {path!r}: {exc.strerror}") from None
    os.close(fd)


def _check_existing(path: str) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise KeystoreError(f"cannot inspect SQLite store file {path!r}: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise KeystoreError(
            f"refusing to open the store: {path!r} is a symbolic link; a store file is never "
            "followed through a link (someone may have planted it). Remove it, or name the real file"
        )
    if not stat.S_ISREG(info.st_mode):
        raise KeystoreError(f"refusing to open the store: {path!r} is not a regular file")
