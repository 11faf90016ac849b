"""``secretumvault server``: the command-line entry of the HTTP server.

The whole wiring into the command line is :func:`add_server_command`; the
server package itself is imported only when the command runs.

::

    secretumvault server --dev [--address 127.0.0.1:8200] [--dev-root-token TOKEN] [--workers N]
    secretumvault server -c config.toml      # [server] and [storage]; starts sealed
    secretumvault server --dev -c server.toml   # dev store, the file's [server] settings (no [storage])
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from secretumvault.errors import ConfigError

__all__ = ["add_server_command", "run"]


def add_server_command(subparsers: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``server`` to a command line's subparsers; ``common`` gives ``-c/--config`` and ``--backend``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "server",
        parents=[common],
        help="the Vault-compatible HTTP server (needs the 'server' extra)",
        description=(
            "-c FILE: a configuration with [server] and [storage]; the server starts sealed. "
            "--dev -c FILE: a dev server with the file's [server] settings."
        ),
    )
    parser.add_argument("--dev", action="store_true", help="temporary store, initialised and unsealed")
    parser.add_argument("--address", help="host:port to listen on (default 127.0.0.1:8200)")
    parser.add_argument("--dev-root-token", help="the dev server's root token (default: random)")
    parser.add_argument(
        "--workers",
        type=int,
        help="server processes on the port, unsealed together (default: [server] workers, else 1)",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the server needs the 'server' extra: pip install 'secretumvault[server]'"
        ) from None
    from secretumvault.config import Settings
    from secretumvault.keystore import open_storage
    from secretumvault.server.config import MAX_WORKERS, ServerSettings, parse_address
    from secretumvault.server.run import make_dev_store, serve
    from secretumvault.server.tls import key_exchange_banner

    config = getattr(args, "config", None)  # the common options are absent when not given
    backend = getattr(args, "backend", None)
    if not args.dev and not config:
        raise ConfigError("give --dev, -c CONFIG, or both (a dev server with the file's [server] settings)")
    if args.dev_root_token and not args.dev:
        raise ConfigError("--dev-root-token goes with --dev")
    if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
        raise ConfigError(f"--workers must be from 1 to {MAX_WORKERS}")
    settings = Settings.load(config) if config else Settings.defaults()
    if args.dev and settings.storage != Settings.defaults().storage:
        raise ConfigError(f"{config}: --dev uses a temporary store; remove [storage] from the file")
    settings.apply()
    server = ServerSettings.from_table(settings.server, config or "--dev")
    if args.address:
        host, port = parse_address(args.address, "--address")
        server = dataclasses.replace(server, host=host, port=port)
    if args.workers is not None:
        server = dataclasses.replace(server, workers=args.workers)
    tls_line = key_exchange_banner(server)

    if args.dev:
        dev = make_dev_store(args.dev_root_token, backend)

        def announce(where: str) -> None:
            print(
                "WARNING! dev mode is enabled! The store is temporary, already unsealed, and gone "
                "when the server stops. Never use it for real secrets.\n"
                f"Store: {dev.directory} (deleted when the server stops)\n\n"
                f"Listening on: {where}\n"
                f"{tls_line}"
                f"    $ export VAULT_ADDR='{where}'\n\n"
                f"Unseal Key: {dev.unseal_key}\n"
                f"Root Token: {dev.root_token}\n\n"
                "Mounted: transit/ (transit), pki/ (pki), secret/ (kv version 2)",
                flush=True,
            )

        return serve(
            server,
            lambda: open_storage(path=dev.path),
            workers=server.workers,
            dev=dev,
            backend=backend,
            announce=announce,
        )

    storage_settings = settings.storage
    from secretumvault.keystore.seals import configured_seals

    # [seal]: auto-unseal at start (None: by hand); a seal marked disabled = true is the store's old
    # one, which a migration (sys/unseal with migrate=true) moves it off, as Vault's.
    seal, old_seal = configured_seals(settings.seal_tables, config or "-c")

    def make_storage() -> Any:
        return open_storage(**storage_settings.open_arguments())  # with [storage] max_connections etc.

    def announce_sealed(where: str) -> None:
        workers = f" ({server.workers} workers, unsealed together)" if server.workers > 1 else ""
        how = "sys/init, sys/unseal" if seal is None else f"it unseals itself with its {seal.seal_type} seal"
        if old_seal is not None:
            how += (
                f"; while the store is on its disabled {old_seal.seal_type} seal, sys/unseal with "
                "migrate=true moves it off"
            )
        print(
            f"secretumvault server listening on {where}; it starts sealed ({how}){workers}\n{tls_line}",
            end="",
            flush=True,
        )

    return serve(
        server,
        make_storage,
        workers=server.workers,
        backend=backend,
        announce=announce_sealed,
        seal=seal,
        old_seal=old_seal,
    )
