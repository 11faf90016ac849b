"""Key commands over key files: keygen, encapsulate, decapsulate, sign, verify."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from secretumvault.cli._io import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    check_output,
    load_key,
    read_input,
    refuse_foreign,
    settings,
    write_output,
)
from secretumvault.cli._messages import article

if TYPE_CHECKING:
    from typing import Any, TypeAlias

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def _algorithm_factory(args: argparse.Namespace) -> Any:
    """The KEM or signature scheme of --algorithm (any case), or the configured default."""
    from secretumvault import hybrid, pqc
    from secretumvault.encoding import keyfile

    config = settings(args)
    config.crypto_policy()  # enforces [crypto.oqs] enable_pqc before any key is made
    backend = args.backend or config.crypto_backend
    if args.algorithm is None:
        policy = hybrid.CryptoPolicy(hybrid_mode=config.hybrid_mode, backend=backend)
        return policy.signature() if args.signature else policy.kem()
    name = keyfile.canonical_name(args.algorithm)
    if name is None:
        raise UsageError(
            f"unknown algorithm {args.algorithm!r} for --algorithm; KEMs: "
            f"{', '.join(keyfile.KEM_ALGORITHMS)}; signatures: {', '.join(keyfile.SIGNATURE_ALGORITHMS)}"
        )
    if args.signature and name in keyfile.KEM_ALGORITHMS:
        raise UsageError(f"--signature asks for a signature key pair, but {name} is a KEM; drop one")
    if name in hybrid.KEM_ALGORITHMS:
        return hybrid.HybridKem(name, backend)
    if name in hybrid.SIGNATURE_ALGORITHMS:
        return hybrid.HybridSignature(name, backend)
    if name in keyfile.KEM_ALGORITHMS:
        return pqc.Kem(name, backend)
    return pqc.Signature(name, backend)


def cmd_keygen(args: argparse.Namespace) -> int:
    from secretumvault.encoding import keyfile

    if os.path.abspath(args.public) == os.path.abspath(args.secret):
        raise UsageError("--public and --secret must be different files")
    # Both paths are checked before a key is made, so a refusal leaves no half pair behind.
    check_output(args.public, "--public", replace=args.force)
    check_output(args.secret, "--secret", replace=args.force)
    factory = _algorithm_factory(args)
    pair = factory.generate_keypair()
    secret = keyfile.dump(pair.secret_key)
    write_output(args.secret, secret, "secret key", option="--secret", secret=True, replace=args.force)
    try:
        write_output(
            args.public, keyfile.dump(pair.public_key), "public key", option="--public", replace=args.force
        )
    except UsageError:
        if args.secret != "-":  # noqa: S105 - "-" is stdout, not a password
            os.unlink(args.secret)  # just created by us: a secret key without its public key is no use
        raise
    print(f"{factory.name} key pair: public {args.public}, secret {args.secret}", file=sys.stderr)
    return EXIT_OK


def cmd_encapsulate(args: argparse.Namespace) -> int:
    settings(args)
    key = load_key(args.public, args.backend, "encapsulate", "KEM public key")
    check_output(args.shared_secret, "--shared-secret", replace=True)
    check_output(args.ciphertext, "--ciphertext", replace=True)
    # Refused before the shared secret is written, so a refusal leaves nothing behind.
    if args.ciphertext == "-" and sys.stdout.isatty():
        raise UsageError("refusing to print the ciphertext to a terminal; give --ciphertext FILE, or pipe it")
    enc = key.encapsulate()
    write_output(
        args.shared_secret, enc.shared_secret, "shared secret", option="--shared-secret", secret=True
    )
    write_output(args.ciphertext, enc.ciphertext, "ciphertext", option="--ciphertext", binary=True)
    return EXIT_OK


def cmd_decapsulate(args: argparse.Namespace) -> int:
    settings(args)
    key = load_key(args.secret, args.backend, "decapsulate", "KEM secret key")
    ciphertext = read_input(args.ciphertext, "ciphertext")
    refuse_foreign(ciphertext, args.ciphertext, f"{article(key.algorithm)} {key.algorithm} ciphertext")
    check_output(args.shared_secret, "--shared-secret", replace=True)
    shared_secret = key.decapsulate(ciphertext)
    write_output(args.shared_secret, shared_secret, "shared secret", option="--shared-secret", secret=True)
    return EXIT_OK


def cmd_sign(args: argparse.Namespace) -> int:
    settings(args)
    key = load_key(args.secret, args.backend, "sign", "signing key")
    check_output(args.signature, "--signature", replace=True)
    signature = key.sign(read_input(args.input, "message"), os.fsencode(args.context))
    write_output(args.signature, signature, "signature", option="--signature", binary=True)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from secretumvault.errors import InvalidSignature

    settings(args)
    key = load_key(args.public, args.backend, "verify", "verification key")
    signature = read_input(args.signature, "signature")
    refuse_foreign(signature, args.signature, f"{article(key.algorithm)} {key.algorithm} signature")
    try:
        key.verify(signature, read_input(args.input, "message"), os.fsencode(args.context))
    except InvalidSignature:
        print(f"secretumvault: {key.algorithm} signature does NOT verify", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{key.algorithm} signature OK", file=sys.stderr)
    return EXIT_OK


def add_key_commands(sub: _Subparsers, common: argparse.ArgumentParser) -> None:
    """Register keygen, encapsulate, decapsulate, sign and verify."""
    p = sub.add_parser("keygen", parents=[common], help="generate a key pair into two new files")
    p.add_argument(
        "-a",
        "--algorithm",
        help="e.g. ML-KEM-768, ML-DSA-65, X25519-ML-KEM-768, any case (default: configured)",
    )
    p.add_argument("--signature", action="store_true", help="with no --algorithm: a signature key pair")
    p.add_argument("--public", required=True, help="public key file")
    p.add_argument("--secret", required=True, help="secret key file (created mode 0600)")
    p.add_argument("--force", action="store_true", help="replace existing key files")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("encapsulate", parents=[common], help="make a shared secret for a KEM public key")
    p.add_argument("--public", required=True, help="KEM public key file")
    p.add_argument("--ciphertext", default="-", help="ciphertext output (default: stdout, never a terminal)")
    p.add_argument("--shared-secret", required=True, help="shared secret output (file or - for a pipe)")
    p.set_defaults(func=cmd_encapsulate)

    p = sub.add_parser("decapsulate", parents=[common], help="recover a shared secret with a KEM secret key")
    p.add_argument("--secret", required=True, help="KEM secret key file")
    p.add_argument("--ciphertext", default="-", help="ciphertext input (default: stdin)")
    p.add_argument("--shared-secret", required=True, help="shared secret output (file or - for a pipe)")
    p.set_defaults(func=cmd_decapsulate)

    p = sub.add_parser("sign", parents=[common], help="sign a file or stdin")
    p.add_argument("--secret", required=True, help="signing key file")
    p.add_argument("--context", default="", help="FIPS 204 context string (at most 255 bytes)")
    p.add_argument("--signature", default="-", help="signature output (default: stdout, never a terminal)")
    p.add_argument("input", nargs="?", default="-", help="message file (default: stdin)")
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("verify", parents=[common], help="verify a signature; exit 1 if it does not verify")
    p.add_argument("--public", required=True, help="verification key file")
    p.add_argument("--signature", required=True, help="signature file")
    p.add_argument("--context", default="", help="FIPS 204 context string used when signing")
    p.add_argument("input", nargs="?", default="-", help="message file (default: stdin)")
    p.set_defaults(func=cmd_verify)
