"""Key commands over key files: keygen, encapsulate, decapsulate, sign, verify."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from secretumvault.cli._io import EXIT_FAILURE, EXIT_OK, load_key, read_input, settings, write_output
from secretumvault.errors import InvalidSignature

if TYPE_CHECKING:
    from typing import TypeAlias

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def cmd_keygen(args: argparse.Namespace) -> int:
    from secretumvault import hybrid, pqc
    from secretumvault.encoding import keyfile
    from secretumvault.pqc.params import KEM_PARAMS

    config = settings(args)
    policy = config.crypto_policy()  # enforces [crypto.oqs] enable_pqc before any key is made
    backend = args.backend or config.crypto_backend
    if args.backend:
        policy = hybrid.CryptoPolicy(hybrid_mode=config.hybrid_mode, backend=backend)
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
    write_output(args.public, keyfile.dump(pair.public_key), "public key")
    write_output(args.secret, keyfile.dump(pair.secret_key), "secret key", secret=True)
    print(f"{factory.name} key pair: public {args.public}, secret {args.secret}", file=sys.stderr)
    return EXIT_OK


def cmd_encapsulate(args: argparse.Namespace) -> int:
    settings(args)
    key = load_key(args.public, args.backend, "encapsulate", "KEM public key")
    enc = key.encapsulate()
    write_output(args.shared_secret, enc.shared_secret, "shared secret", secret=True)
    write_output(args.ciphertext, enc.ciphertext, "ciphertext")
    return EXIT_OK


def cmd_decapsulate(args: argparse.Namespace) -> int:
    settings(args)
    key = load_key(args.secret, args.backend, "decapsulate", "KEM secret key")
    shared_secret = key.decapsulate(read_input(args.ciphertext, "ciphertext"))
    write_output(args.shared_secret, shared_secret, "shared secret", secret=True)
    return EXIT_OK


def cmd_sign(args: argparse.Namespace) -> int:
    settings(args)
    key = load_key(args.secret, args.backend, "sign", "signing key")
    signature = key.sign(read_input(args.input, "input"), args.context.encode())
    write_output(args.signature, signature, "signature")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    settings(args)
    key = load_key(args.public, args.backend, "verify", "verification key")
    signature = read_input(args.signature, "signature")
    try:
        key.verify(signature, read_input(args.input, "input"), args.context.encode())
    except InvalidSignature:
        print(f"secretumvault: {key.algorithm} signature does NOT verify", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{key.algorithm} signature OK", file=sys.stderr)
    return EXIT_OK


def add_key_commands(sub: _Subparsers, common: argparse.ArgumentParser) -> None:
    """Register keygen, encapsulate, decapsulate, sign and verify."""
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
