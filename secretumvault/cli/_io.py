"""What every command shares: exit codes, the usage error, settings, and file I/O.

Secrets are written only to files or pipes the user names, never to a
terminal by default.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from secretumvault.config import Settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command-line mistake; reported as one line with exit code 2."""


def settings(args: argparse.Namespace) -> Settings:
    """The settings of ``-c FILE`` (or the defaults), applied to the process."""
    from secretumvault.config import Settings

    loaded = Settings.load(args.config) if args.config else Settings.defaults()
    loaded.apply()
    return loaded


def read_input(path: str, what: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path!r}: {exc.strerror}") from None


def write_output(path: str, data: bytes, what: str, *, secret: bool = False) -> None:
    if path == "-":
        if secret and sys.stdout.isatty():
            raise UsageError(f"refusing to print the {what} to a terminal; name a file or pipe it")
        out: BinaryIO = sys.stdout.buffer
        out.write(data)
        out.flush()
        return
    target = Path(path)
    try:
        if secret:
            # Created private before any byte is written.
            target.touch(mode=0o600, exist_ok=True)
            target.chmod(0o600)
        target.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {what} {path!r}: {exc.strerror}") from None


def load_key(path: str, backend: str | None, operation: str, role: str) -> Any:
    """The key in ``path``, which must offer ``operation`` (e.g. "encapsulate"); ``role`` names it."""
    from secretumvault.encoding import keyfile

    key = keyfile.load(read_input(path, "key file"), backend)
    if not hasattr(key, operation):
        raise UsageError(f"{path!r} holds a {key.algorithm} key, not a {role}")
    return key
