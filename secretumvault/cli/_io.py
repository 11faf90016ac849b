"""What every command shares: exit codes, the usage error, settings, and file I/O.

Every file the command line writes goes through :func:`write_output`. It never
follows a symbolic link at the output path, never writes into a file it did
not create, and never changes the mode of one: a new file is created
exclusively, and a file that may be replaced is written to a new temporary
file beside it, then renamed over it (rename replaces a link, never its
target). Secrets and binary data are never written to a terminal.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from secretumvault._files import create_new_file

if TYPE_CHECKING:
    import argparse
    from typing import Any

    from secretumvault.config import Settings

#: 0 success; 1 a signature that does not verify, and nothing else; 2 any other error.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

_SECRET_MODE, _PUBLIC_MODE = 0o600, 0o666  # the umask still applies to the second


class UsageError(Exception):
    """A command-line mistake; reported as one line with exit code 2."""


# -- settings ---------------------------------------------------------------------------


def settings(args: argparse.Namespace) -> Settings:
    """The settings of ``-c FILE`` (or the defaults), applied to the process once."""
    cached: Settings | None = getattr(args, "_settings", None)
    if cached is not None:
        return cached
    from secretumvault.cli._messages import redact_later
    from secretumvault.config import Settings

    loaded = Settings.load(args.config) if args.config else Settings.defaults()
    if loaded.storage.dsn:
        redact_later(*dsn_secrets(loaded.storage.dsn))
    loaded.apply()
    args._settings = loaded
    return loaded


def dsn_secrets(dsn: str) -> list[str]:
    """The parts of a PostgreSQL DSN no message may show: the DSN and its password, however written.

    A password with an unencoded ``%``, ``@``, ``/`` or space confuses URL
    parsers, so every plausible reading is taken, encoded and decoded.
    """
    import re
    from urllib.parse import unquote

    _, _, rest = dsn.partition("://")
    userinfo = rest.rpartition("@")[0]  # up to the last "@": the password may hold "@" or "/"
    passwords = [userinfo.partition(":")[2]] if ":" in userinfo else []
    passwords += re.findall(r"password=([^&\s]*)", dsn)
    passwords += [unquote(item) for item in passwords]
    # Drivers quote pieces of a malformed password ("invalid percent-encoded token: ...").
    pieces = [piece for item in passwords for piece in re.split(r"[\s%]+", item) if len(piece) >= 4]
    found = [dsn, unquote(dsn), *passwords, *pieces]
    return [item for item in found if item]


# -- input --------------------------------------------------------------------------------


def read_input(path: str, what: str) -> bytes:
    """A file's bytes, or stdin's for ``-``; stdin must be a pipe or a file, never the terminal."""
    if path == "-":
        stdin = sys.stdin
        if stdin is None or stdin.isatty():
            raise UsageError(
                f"the {what} would be read from the terminal; name a file, "
                f"or pipe it in (for example: cat FILE | secretumvault ...)"
            )
        return stdin.buffer.read()
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from None


def refuse_foreign(data: bytes, path: str, expected: str, *, key_file: bool = False) -> None:
    """A UsageError when ``data`` is plainly another known format (a PEM, a ``vault:`` string, ...)."""
    from secretumvault.cli._formats import looks_like

    found = looks_like(data, key_file=key_file)
    if found is not None:
        where = "stdin" if path == "-" else repr(path)
        raise UsageError(f"{where} holds {found}, not {expected}")


def load_key(path: str, backend: str | None, operation: str, role: str) -> Any:
    """The key in ``path``, which must offer ``operation`` (e.g. "encapsulate"); ``role`` names it."""
    from secretumvault.cli._messages import article
    from secretumvault.encoding import keyfile
    from secretumvault.errors import InvalidKey

    data = read_input(path, "key file")
    try:
        key = keyfile.load(data, backend)
    except InvalidKey:
        refuse_foreign(data, path, f"a SecretumVault {role} file", key_file=True)
        raise
    if not hasattr(key, operation):
        raise UsageError(f"{path!r} holds {article(key.algorithm)} {key.algorithm} key, not a {role}")
    return key


# -- output ---------------------------------------------------------------------------------


def check_output(path: str, option: str, *, replace: bool) -> None:
    """Refuse an output path that cannot or must not be written, before any work is done.

    The write itself stays safe if the path changes after this check.
    """
    import stat

    if path == "-":
        return
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        parent = os.path.dirname(path) or "."
        if not os.path.isdir(parent):
            raise UsageError(f"{option} {path!r}: directory {parent!r} does not exist") from None
        return
    except OSError as exc:
        raise UsageError(f"{option} {path!r}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(
            f"{option} {path!r} is a symbolic link; refusing to write through it: name the file itself"
        )
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{option} {path!r} is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{option} {path!r} is not a regular file; name a file, or use - and redirect")
    if not replace:
        raise UsageError(f"{option} {path!r} exists; add --force to replace it")


def write_output(
    path: str,
    data: bytes,
    what: str,
    *,
    option: str,
    secret: bool = False,
    binary: bool = False,
    replace: bool = True,
) -> None:
    """Write ``data`` to ``path`` (``-``: stdout), never through a link and never over another's file.

    ``secret``: created mode 0600. ``secret`` or ``binary``: refused on a
    terminal. ``replace=False``: an existing path is an error (keygen without --force).
    """
    if path == "-":
        if (secret or binary) and sys.stdout.isatty():
            shown = "print the " + what
            raise UsageError(f"refusing to {shown} to a terminal; give {option} FILE, or pipe it")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    check_output(path, option, replace=replace)
    mode = _SECRET_MODE if secret else _PUBLIC_MODE
    try:
        if replace:
            _write_then_rename(path, data, mode)
        else:
            _create_exclusively(path, data, mode)
    except FileExistsError:
        raise UsageError(f"{option} {path!r} exists; add --force to replace it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {what} {path!r} ({option}): {exc.strerror or exc}") from None


def _create_exclusively(path: str, data: bytes, mode: int) -> None:
    """A new file only: fails on any existing path, a symbolic link (even a dangling one) included."""
    fd = create_new_file(path, mode)
    try:
        _write_all(fd, data)
    except BaseException:
        os.close(fd)
        os.unlink(path)  # ours: created by the open above
        raise
    os.close(fd)


def _write_then_rename(path: str, data: bytes, mode: int) -> None:
    import secrets

    directory, name = os.path.split(path)
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(8)}.tmp")
    _create_exclusively(temporary, data, mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)
