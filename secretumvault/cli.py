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
from pathlib import Path
from typing import Any, BinaryIO

from . import __version__
from .errors import InvalidSignature, SecretumVaultError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command-line mistake; reported as one line with exit code 2."""


# -- helpers ----------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Any:
    from .config import Settings

    settings = Settings.load(args.config) if args.config else Settings.defaults()
    settings.apply()
    return settings


def _read(path: str, what: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path!r}: {exc.strerror}") from None


def _write(path: str, data: bytes, what: str, *, secret: bool = False) -> None:
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


def _load_key(path: str, backend: str | None, operation: str, role: str) -> Any:
    """The key in ``path``, which must offer ``operation`` (e.g. "encapsulate"); ``role`` names it."""
    from . import keyfile

    key = keyfile.load(_read(path, "key file"), backend)
    if not hasattr(key, operation):
        raise UsageError(f"{path!r} holds a {key.algorithm} key, not a {role}")
    return key


# -- commands ---------------------------------------------------------------------


def cmd_info(args: argparse.Namespace) -> int:
    from . import pqc
    from .backends import oqs

    settings = _settings(args)
    native = oqs.build_info()
    info = {
        "version": __version__,
        "backends": pqc.available_backends(),
        "default_backend": pqc.get_default_backend(),
        "hybrid_mode": settings.hybrid_mode,
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
    print(f"hybrid mode:         {'on' if settings.hybrid_mode else 'off'}")
    return EXIT_OK


def cmd_keygen(args: argparse.Namespace) -> int:
    from . import hybrid, keyfile, pqc
    from .algorithms import KEM_PARAMS

    settings = _settings(args)
    policy = settings.crypto_policy()  # enforces [crypto.oqs] enable_pqc before any key is made
    backend = args.backend or settings.crypto_backend
    if args.backend:
        policy = hybrid.CryptoPolicy(hybrid_mode=settings.hybrid_mode, backend=backend)
    name = args.algorithm
    factory: Any
    if name is None:
        factory = policy.signature() if args.signature else policy.kem()
    elif name in KEM_PARAMS:
        factory = pqc.Kem(name, backend)
    elif name in hybrid.KEM_ALGORITHMS:
        factory = hybrid.HybridKem(name, backend)
    elif name in hybrid.SIGNATURE_ALGORITHMS:
        factory = hybrid.HybridSignature(name, backend)
    else:
        factory = pqc.Signature(name, backend)  # raises UnsupportedAlgorithm for unknown names
    pair = factory.generate_keypair()
    _write(args.public, keyfile.dump(pair.public_key), "public key")
    _write(args.secret, keyfile.dump(pair.secret_key), "secret key", secret=True)
    print(f"{factory.name} key pair: public {args.public}, secret {args.secret}", file=sys.stderr)
    return EXIT_OK


def cmd_encapsulate(args: argparse.Namespace) -> int:
    _settings(args)
    key = _load_key(args.public, args.backend, "encapsulate", "KEM public key")
    enc = key.encapsulate()
    _write(args.shared_secret, enc.shared_secret, "shared secret", secret=True)
    _write(args.ciphertext, enc.ciphertext, "ciphertext")
    return EXIT_OK


def cmd_decapsulate(args: argparse.Namespace) -> int:
    _settings(args)
    key = _load_key(args.secret, args.backend, "decapsulate", "KEM secret key")
    shared_secret = key.decapsulate(_read(args.ciphertext, "ciphertext"))
    _write(args.shared_secret, shared_secret, "shared secret", secret=True)
    return EXIT_OK


def cmd_sign(args: argparse.Namespace) -> int:
    _settings(args)
    key = _load_key(args.secret, args.backend, "sign", "signing key")
    signature = key.sign(_read(args.input, "input"), args.context.encode())
    _write(args.signature, signature, "signature")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    _settings(args)
    key = _load_key(args.public, args.backend, "verify", "verification key")
    signature = _read(args.signature, "signature")
    try:
        key.verify(signature, _read(args.input, "input"), args.context.encode())
    except InvalidSignature:
        print(f"secretumvault: {key.algorithm} signature does NOT verify", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{key.algorithm} signature OK", file=sys.stderr)
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from . import bench_report

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

    p = sub.add_parser("keygen", parents=[common], help="generate a key pair into two files")
    p.add_argument(
        "-a", "--algorithm", help="e.g. ML-KEM-768, ML-DSA-65, X25519-ML-KEM-768 (default: configured)"
    )
    p.add_argument("--signature", action="store_true", help="with no --algorithm: a signature key pair")
    p.add_argument("--public", required=True, help="public key file")
    p.add_argument("--secret", required=True, help="secret key file (created mode 0600)")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("encapsulate", parents=[common], help="make a shared secret for a KEM public key")
    p.add_argument("--public", required=True, help="KEM public key file")
    p.add_argument("--ciphertext", default="-", help="ciphertext output (default: stdout)")
    p.add_argument("--shared-secret", required=True, help="shared secret output (file or - for a pipe)")
    p.set_defaults(func=cmd_encapsulate)

    p = sub.add_parser("decapsulate", parents=[common], help="recover a shared secret with a KEM secret key")
    p.add_argument("--secret", required=True, help="KEM secret key file")
    p.add_argument("--ciphertext", default="-", help="ciphertext input (default: stdin)")
    p.add_argument("--shared-secret", required=True, help="shared secret output (file or - for a pipe)")
    p.set_defaults(func=cmd_decapsulate)

    p = sub.add_parser("sign", parents=[common], help="sign a file or stdin")
    p.add_argument("--secret", required=True, help="signing key file")
    p.add_argument("--context", default="", help="FIPS 204 context string (UTF-8, at most 255 bytes)")
    p.add_argument("--signature", default="-", help="signature output (default: stdout)")
    p.add_argument("input", nargs="?", default="-", help="message file (default: stdin)")
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("verify", parents=[common], help="verify a signature; exit 1 if it does not verify")
    p.add_argument("--public", required=True, help="verification key file")
    p.add_argument("--signature", required=True, help="signature file")
    p.add_argument("--context", default="", help="FIPS 204 context string used when signing")
    p.add_argument("input", nargs="?", default="-", help="message file (default: stdin)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("bench", help="compare with the C floor and peer libraries")
    p.add_argument("--quick", action="store_true", help="short loops: finishes in well under a minute")
    p.add_argument("--json", action="store_true", help="machine-readable results on stdout")
    p.add_argument("--plot", metavar="FILE.png", help="also draw a chart (needs matplotlib)")
    p.set_defaults(func=cmd_bench)

    from .cli_engines import add_engine_commands  # init, unseal, transit, pki: over the local store

    add_engine_commands(sub, common)
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
