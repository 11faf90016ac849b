"""What the store-using commands share: unseal material, the opened store, and their parsers.

There is no server: each command opens the local store (``[storage]`` in the
configuration, or the SQLite file named by ``--store``), unseals it for this
process only, does one thing and exits; the keys are forgotten with the
process. Unseal material is read from ``--passphrase-file``/``--share-file``
or from ``SECRETUMVAULT_PASSPHRASE``/``SECRETUMVAULT_SHARES``, never from a
plain command-line value, which any user could read in ``ps``.

The engines (keystore, transit, pki) are imported inside the commands, so
building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from secretumvault.cli._io import UsageError, read_input, settings
from secretumvault.cli._messages import plural
from secretumvault.errors import NotInitialized, UnsealError

if TYPE_CHECKING:
    from typing import Any, TypeVar

    from secretumvault.keystore import Keystore, Storage

    _Parser = TypeVar("_Parser", bound=argparse.ArgumentParser)

__all__ = [
    "PASSPHRASE_ENV",
    "SHARES_ENV",
    "IntermixedParser",
    "add_command",
    "opened_keystore",
    "passphrase_from_file",
    "store_parent",
    "unseal_material",
    "unseal_parent",
    "unsealed_keystore",
]

PASSPHRASE_ENV = "SECRETUMVAULT_PASSPHRASE"  # noqa: S105 - the variable's name, not a passphrase
SHARES_ENV = "SECRETUMVAULT_SHARES"

_NO_MATERIAL = (
    "the store is sealed and no unseal material was given: use --passphrase-file FILE or "
    f"--share-file FILE, or set {PASSPHRASE_ENV} or {SHARES_ENV}"
)
# Compiled (and cached by re) on first use rather than at every start of the command.
_SHARE_SEPARATORS = r"[,\s]+"

#: What a store-using command gets: a passphrase (bytes) or the shares given.
UnsealMaterial = bytes | tuple[str, ...]


# -- unseal material ------------------------------------------------------------------


def _read_secret_file(path: str, what: str) -> bytes:
    if path == "-":
        raise UsageError(f"the {what} must be a file, not stdin (stdin may carry the command's input)")
    return read_input(path, what)


def passphrase_from_file(path: str) -> bytes:
    """The file's bytes without one trailing line ending, as ``echo`` or an editor leaves it."""
    data = _read_secret_file(path, "passphrase file")
    for ending in (b"\r\n", b"\n"):
        if data.endswith(ending):
            return data[: -len(ending)]
    return data


def _split_shares(text: str, source: str) -> tuple[str, ...]:
    shares = tuple(share for share in re.split(_SHARE_SEPARATORS, text) if share)
    if not shares:
        raise UnsealError(f"{source} holds no unseal shares")
    return shares


def _shares_from_file(path: str) -> tuple[str, ...]:
    try:
        text = _read_secret_file(path, "share file").decode("ascii")
    except UnicodeDecodeError:
        raise UnsealError(f"share file {path!r} is not unseal shares (they are ASCII text)") from None
    return _split_shares(text, f"share file {path!r}")


def unseal_material(args: argparse.Namespace) -> UnsealMaterial:
    """From --passphrase-file or --share-file (exclusive), else from the environment."""
    if args.passphrase_file is not None:
        return passphrase_from_file(args.passphrase_file)
    if args.share_file is not None:
        return _shares_from_file(args.share_file)
    passphrase, shares = os.environ.get(PASSPHRASE_ENV), os.environ.get(SHARES_ENV)
    if passphrase and shares:
        raise UsageError(f"both {PASSPHRASE_ENV} and {SHARES_ENV} are set; unset the one this store lacks")
    if passphrase:
        return os.fsencode(passphrase)
    if shares:
        return _split_shares(shares, SHARES_ENV)
    raise UnsealError(_NO_MATERIAL)


def _unseal(keystore: Keystore, material: UnsealMaterial) -> None:
    """Unseal with a passphrase, or with shares until the threshold is reached."""
    if isinstance(material, bytes):
        keystore.unseal(material)
        return
    provided, threshold = 0, 0
    for share in material:
        progress = keystore.unseal_share(share)
        if not progress.sealed:
            return
        provided, threshold = progress.provided, progress.threshold
    raise UnsealError(
        f"only {plural(provided, 'distinct unseal share')} {'was' if provided == 1 else 'were'} given "
        f"and this store needs {threshold}; give more"
    )


# -- opening the store ------------------------------------------------------------------


def _open_storage(args: argparse.Namespace, *, create: bool) -> Storage:
    """The configured storage, or the SQLite file of --store. Only ``init`` may create a file."""
    from secretumvault.keystore import open_storage

    config = settings(args)
    if args.store is None and config.storage.backend == "postgresql":
        return open_storage("postgresql", dsn=config.storage.dsn)
    path = args.store if args.store is not None else config.storage.path
    if not path:
        raise UsageError("--store needs a file name")
    if not create and not os.path.exists(path):
        # A UsageError, not NotInitialized: the path may be the mistake, and the message says so.
        raise UsageError(f"no store at {path!r}: run `secretumvault init` first, or name it with --store")
    return open_storage("sqlite", path=path)


@contextmanager
def opened_keystore(args: argparse.Namespace, *, create: bool = False) -> Iterator[Keystore]:
    from secretumvault.keystore import Keystore

    storage = _open_storage(args, create=create)
    try:
        yield Keystore(storage)
    finally:
        storage.close()


@contextmanager
def unsealed_keystore(args: argparse.Namespace) -> Iterator[Keystore]:
    """The store, unsealed for this process only.

    A missing store is reported as missing and an uninitialised one as such,
    before any question of unseal material.
    """
    with opened_keystore(args) as keystore:
        if not keystore.initialized:
            raise NotInitialized("this store is not initialised: run `secretumvault init` first")
        _unseal(keystore, unseal_material(args))
        try:
            yield keystore
        finally:
            keystore.seal()


# -- parsers ------------------------------------------------------------------------------------


class IntermixedParser(argparse.ArgumentParser):
    """A leaf command whose options may come between its positionals.

    Plain argparse fills an optional positional (``[INPUT]``) from the first run
    of positionals, so ``transit encrypt NAME --associated-data X FILE`` would
    reject FILE. Intermixed parsing reads the options first, then the
    positionals. It calls ``parse_known_args`` itself, hence the guard.
    """

    _intermixing = False

    # Any: one signature that serves each of typeshed's overloads (namespace or not).
    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        if self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


# The parents are never parsed; they are IntermixedParser only so that typeshed accepts
# them as parents of IntermixedParser commands.
def store_parent(common: argparse.ArgumentParser) -> IntermixedParser:
    parent = IntermixedParser(add_help=False, parents=[common])
    parent.add_argument(
        "--store", metavar="PATH", help="SQLite store file (instead of [storage] in the configuration)"
    )
    return parent


def unseal_parent(store: IntermixedParser) -> IntermixedParser:
    parent = IntermixedParser(add_help=False, parents=[store])
    material = parent.add_mutually_exclusive_group()
    material.add_argument(
        "--passphrase-file", metavar="FILE", help=f"file holding the passphrase (else ${PASSPHRASE_ENV})"
    )
    material.add_argument(
        "--share-file", metavar="FILE", help=f"unseal shares, one per line (else ${SHARES_ENV})"
    )
    return parent


def add_command(
    sub: argparse._SubParsersAction[_Parser],
    name: str,
    parent: _Parser,
    func: Callable[[argparse.Namespace], int],
    text: str,
) -> _Parser:
    parser = sub.add_parser(name, parents=[parent], help=text, description=text)
    parser.set_defaults(func=func)
    return parser
