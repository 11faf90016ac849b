"""The ``secretumvault`` command (also ``python -m secretumvault``).

User mistakes (a missing file, a bad key, a wrong passphrase) end as one line
on stderr and exit code 2; a signature that does not verify is exit code 1
and nothing else is. Secrets are written only to files or pipes the user
names, never to a terminal.

Start-up is kept short: ``--version`` and ``--help`` are answered before
argparse is even imported, and a command builds and imports only its own
group of subcommands (see ``_GROUPS``); the others are listed by name only.
"""

from __future__ import annotations

import sys

from secretumvault import __version__
from secretumvault.cli._io import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError

TYPE_CHECKING = False  # typing costs milliseconds to import; the start of every command pays it
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

__all__ = ["EXIT_FAILURE", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]

#: A bug: an exception the command line does not expect. Never 1, which means "does not verify".
EXIT_INTERNAL = 70

EPILOG = """\
exit codes:
  0   success
  1   the signature does NOT verify (verify, transit verify), and nothing else
  2   usage or input error: a bad option, a missing or unreadable file, a file of
      the wrong kind, a wrong passphrase or share, a missing store, a refused request
  70  internal error (a bug): the traceback is printed; please report it
  130 interrupted (Ctrl-C)

Run `secretumvault info` to see which backend and algorithms you have.
Unseal material comes from --passphrase-file/--share-file or from
SECRETUMVAULT_PASSPHRASE/SECRETUMVAULT_SHARES, never from the command line.
"""

# Each group of commands: the module:function that registers it, and each command's one-line help.
# Only the group of the command being run is imported and built; the rest are listed by name.
_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "secretumvault.cli.info:add_info_commands",
        (
            ("info", "version, backend and algorithms in use, liboqs build, storage"),
            ("bench", "compare with the C floor and peer libraries; CLI start time"),
        ),
    ),
    (
        "secretumvault.cli.keys:add_key_commands",
        (
            ("keygen", "generate a key pair into two new files"),
            ("encapsulate", "make a shared secret for a KEM public key"),
            ("decapsulate", "recover a shared secret with a KEM secret key"),
            ("sign", "sign a file or stdin"),
            ("verify", "verify a signature; exit 1 if it does not verify"),
        ),
    ),
    (
        "secretumvault.cli.engines:add_store_commands",
        (
            ("init", "initialise a new store (once)"),
            ("unseal", "check that the unseal material opens the store"),
        ),
    ),
    (
        "secretumvault.cli.engines:add_transit_commands",
        (("transit", "named, versioned keys: encrypt, decrypt, sign, verify"),),
    ),
    (
        "secretumvault.cli.engines:add_pki_commands",
        (("pki", "certificate authorities, roles, issuance, revocation"),),
    ),
    (
        "secretumvault.cli.operator:add_operator_commands",
        (("operator", "store administration: rekey, migrate-seal"),),
    ),
    (
        "secretumvault.server.command:add_server_command",
        (("server", "the Vault-compatible HTTP server (needs the 'server' extra)"),),
    ),
)

# The top-level options; ``-c FILE`` and ``--backend`` also work after the command.
_GLOBAL_OPTIONS_WITH_VALUE = ("-c", "--config", "--backend")
_BACKENDS = ("oqs", "openssl", "auto")
_DESCRIPTION = "Post-quantum secrets from the shell."
_CONFIG_HELP = "TOML configuration file (before or after the command)"
_BACKEND_HELP = "override the configured crypto backend"
_USAGE = "usage: secretumvault [-h] [-c FILE] [--backend {oqs,openssl,auto}] [--version] COMMAND ..."


def _help_text() -> str:
    """``secretumvault --help`` without argparse, which alone costs more than the goal allows.

    It states what the argparse parser accepts; a test checks that the two agree.
    """
    commands = "\n".join(f"    {name:<20}{text}" for _, group in _GROUPS for name, text in group)
    options = "\n".join(
        f"  {flags:<22}{text}"
        for flags, text in (
            ("-h, --help", "show this help message and exit"),
            ("-c FILE, --config FILE", "\n" + " " * 24 + _CONFIG_HELP),
            ("--backend {oqs,openssl,auto}", "\n" + " " * 24 + _BACKEND_HELP),
            ("--version", "show program's version number and exit"),
        )
    )
    return (
        f"{_USAGE}\n\n{_DESCRIPTION}\n\npositional arguments:\n  COMMAND\n{commands}\n\n"
        f"options:\n{options}\n\n{EPILOG}"
    )


def _command_word(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (skipping top-level options), or None."""
    words = iter(argv)
    for word in words:
        if word in _GLOBAL_OPTIONS_WITH_VALUE:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _common_options(*, top_level: bool) -> argparse.ArgumentParser:
    import argparse

    # After the command, an option left out must not undo one given before it: SUPPRESS.
    default = None if top_level else argparse.SUPPRESS
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-c", "--config", metavar="FILE", default=default, help=_CONFIG_HELP)
    parser.add_argument("--backend", choices=_BACKENDS, default=default, help=_BACKEND_HELP)
    return parser


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the group of the command in it is built in full."""
    import argparse
    import importlib

    parser = argparse.ArgumentParser(
        prog="secretumvault",
        description=_DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options(top_level=True)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = _command_word(argv) if argv is not None else None
    common = _common_options(top_level=False)
    for target, commands in _GROUPS:
        if argv is None or wanted in {name for name, _ in commands}:
            module, _, function = target.partition(":")
            getattr(importlib.import_module(module), function)(sub, common)
        else:
            for name, text in commands:
                sub.add_parser(name, help=text, add_help=False)
    return parser


def _report(exc: BaseException) -> None:
    from secretumvault.cli._messages import for_cli

    message = str(exc) or type(exc).__name__
    print(f"secretumvault: error: {for_cli(message)}", file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit raises no second BrokenPipeError."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            return _run(arguments)
        finally:  # flushed here, not at exit (argparse's --help exits too), so a closed pipe is seen
            _forget_redactions()
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`... | head`): it has all it wanted, so this is no error, as for
        # `cat`. Whatever is still buffered goes to /dev/null, so the flush at exit raises nothing.
        _silence_stdout()
        return EXIT_OK


def _forget_redactions() -> None:
    """Secrets to hide are per command (imported only if a command used them: start-up stays lean)."""
    messages = sys.modules.get("secretumvault.cli._messages")
    if messages is not None:
        messages.forget_redactions()


def _run(arguments: list[str]) -> int:
    if arguments == ["--version"]:
        print(f"secretumvault {__version__}")
        return EXIT_OK
    if arguments in (["--help"], ["-h"]):
        sys.stdout.write(_help_text())
        return EXIT_OK
    from secretumvault.errors import SecretumVaultError

    args = build_parser(arguments).parse_args(arguments)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # an OSError, but not the user's mistake: main() ends quietly
        raise
    except (UsageError, SecretumVaultError, OSError) as exc:
        _report(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("secretumvault: interrupted", file=sys.stderr)
        return 130
    except Exception:
        import traceback

        traceback.print_exc()
        print("secretumvault: internal error (a bug): please report it with the traceback", file=sys.stderr)
        return EXIT_INTERNAL
