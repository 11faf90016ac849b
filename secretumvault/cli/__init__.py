"""The ``secretumvault`` command (also ``python -m secretumvault``).

User mistakes (a missing file, a bad key, a signature that does not verify)
end as one line on stderr and a non-zero exit code, never a traceback.
Secrets are written only to files or pipes the user names, never to a
terminal by default.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from secretumvault import __version__
from secretumvault.cli._io import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, settings
from secretumvault.cli.engines import add_engine_commands
from secretumvault.cli.keys import add_key_commands
from secretumvault.cli.operator import add_operator_commands
from secretumvault.errors import SecretumVaultError

# -- commands ---------------------------------------------------------------------


def cmd_info(args: argparse.Namespace) -> int:
    from secretumvault import pqc
    from secretumvault.pqc.backends import oqs

    config = settings(args)
    native = oqs.build_info()
    info: dict[str, Any] = {
        "version": __version__,
        "backends": pqc.available_backends(),
        "default_backend": pqc.get_default_backend(),
        "hybrid_mode": config.hybrid_mode,
        "liboqs": native,
        "kem_algorithms": pqc.kem_algorithms(),
        "signature_algorithms": pqc.signature_algorithms(),
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return EXIT_OK
    print(f"secretumvault {__version__}")
    print(f"backends:            {', '.join(info['backends'])} (default: {info['default_backend']})")
    if native.get("available"):
        print(f"liboqs:              {native['liboqs_version']} ({native['liboqs_origin']})")
        print(f"CPU features:        {', '.join(native['cpu_features']) or 'none detected'}")
    else:
        print(f"liboqs:              not available ({native.get('reason')}); running on openssl")
    print(f"KEMs:                {', '.join(info['kem_algorithms'])}")
    print(f"signatures:          {', '.join(info['signature_algorithms'])}")
    print(f"hybrid mode:         {'on' if config.hybrid_mode else 'off'}")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from secretumvault.bench import report as bench_report

    return bench_report.run(quick=args.quick, as_json=args.json, plot=args.plot)


# -- parser -----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", help="TOML configuration file (see README)")
    common.add_argument(
        "--backend", choices=["oqs", "openssl", "auto"], help="override the configured backend"
    )

    parser = argparse.ArgumentParser(prog="secretumvault", description="Post-quantum secrets from the shell.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", parents=[common], help="version, backends, liboqs build, algorithms")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    add_key_commands(sub, common)

    p = sub.add_parser("bench", help="compare with the C floor and peer libraries")
    p.add_argument("--quick", action="store_true", help="short loops: finishes in well under a minute")
    p.add_argument("--json", action="store_true", help="machine-readable results on stdout")
    p.add_argument("--plot", metavar="FILE.png", help="also draw a chart (needs matplotlib)")
    p.set_defaults(func=cmd_bench)

    add_engine_commands(sub, common)  # init, unseal, transit, pki: over the local store
    add_operator_commands(sub, common)  # operator rekey
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"secretumvault: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SecretumVaultError as exc:
        print(f"secretumvault: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("secretumvault: interrupted", file=sys.stderr)
        return 130
