"""Creating files that may hold secrets: exclusively, 0600 unless told otherwise, never through a link.

The one place the library creates such a file; the command line's outputs,
the SQLite store's files and the audit log all go through it.
``O_EXCL`` makes the creation fail on any existing path, a symbolic link
(even a dangling one) included, so nothing planted at the path is ever
followed or written into.
"""

from __future__ import annotations

import os

__all__ = ["PRIVATE_MODE", "create_new_file"]

PRIVATE_MODE = 0o600
_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def create_new_file(path: str, mode: int = PRIVATE_MODE, *, append: bool = False) -> int:
    """A new file at ``path`` (mode less the umask), open for writing; its descriptor.

    FileExistsError if anything is at ``path`` already; other OSErrors as the system gives them.
    """
    return os.open(path, _FLAGS | (os.O_APPEND if append else 0), mode)
