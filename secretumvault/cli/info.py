"""``info`` (what this installation and configuration use) and ``bench`` (speed against the C floor)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from secretumvault import __version__
from secretumvault.cli._io import EXIT_OK, UsageError, settings

if TYPE_CHECKING:
    from typing import TypeAlias

    from secretumvault.config import Settings

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def backend_in_use(args: argparse.Namespace, config: Settings) -> str:
    """--backend, else the configured backend; an unavailable one is a usage error naming the fix."""
    from secretumvault import pqc

    backend: str = args.backend or config.crypto_backend
    if backend != "auto" and backend not in pqc.available_backends():
        why = _native_problem() if backend == "oqs" else "pyca/cryptography is missing or too old"
        raise UsageError(f"--backend {backend} is not available here: {why}")
    return backend


def _algorithms(backend: str) -> tuple[list[str], list[str]]:
    """KEMs and signature schemes ``backend`` provides, hybrid ones included."""
    from secretumvault import hybrid, pqc
    from secretumvault.errors import SecretumVaultError

    kems, signatures = pqc.kem_algorithms(backend), pqc.signature_algorithms(backend)
    for name in hybrid.KEM_ALGORITHMS:
        try:
            hybrid.HybridKem(name, backend)
            kems.append(name)
        except SecretumVaultError:
            pass
    for name in hybrid.SIGNATURE_ALGORITHMS:
        try:
            hybrid.HybridSignature(name, backend)
            signatures.append(name)
        except SecretumVaultError:
            pass
    return kems, signatures


def _keygen_defaults(config: Settings, backend: str) -> dict[str, str] | None:
    from secretumvault import hybrid

    if not config.enable_pqc:
        return None
    policy = hybrid.CryptoPolicy(hybrid_mode=config.hybrid_mode, backend=backend)
    return {"kem": policy.kem().name, "signature": policy.signature().name}


def _storage(config: Settings) -> dict[str, Any]:
    if config.storage.backend == "postgresql":
        return {"backend": "postgresql"}  # the DSN may hold a password
    return {"backend": "sqlite", "path": config.storage.path}


def _tls(config: Settings) -> dict[str, Any]:
    """Which key exchange the server's TLS offers, as the OpenSSL linked here answers."""
    from secretumvault.server.tls import key_exchange

    groups = config.server.get("tls_groups")
    return key_exchange(groups if isinstance(groups, str) else None)


def cmd_info(args: argparse.Namespace) -> int:
    from secretumvault import pqc
    from secretumvault.pqc.backends import oqs

    config = settings(args)
    backend = backend_in_use(args, config)
    kems, signatures = _algorithms(backend)
    native = oqs.build_info()
    if not native.get("available"):
        native["reason"] = _native_problem()
    info: dict[str, Any] = {
        "version": __version__,
        "config": args.config,
        "backend": backend,
        "backend_source": "--backend" if args.backend else "configured",
        "backends": pqc.available_backends(),
        "default_backend": backend,
        "liboqs": native,
        "kem_algorithms": kems,
        "signature_algorithms": signatures,
        "hybrid_mode": config.hybrid_mode,
        "enable_pqc": config.enable_pqc,
        "keygen_defaults": _keygen_defaults(config, backend),
        "storage": _storage(config),
        "tls": _tls(config),
    }
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(_text(info))
    return EXIT_OK


def _text(info: dict[str, Any]) -> str:
    source = {"--backend": "from --backend", "configured": "configured"}
    backend = info["backend"]
    if backend == "auto":
        order = ", else ".join(info["backends"])
        shown = f"auto ({source[info['backend_source']]}): {order}, the first that offers the algorithm"
    else:
        shown = f"{backend} ({source[info['backend_source']]})"
    native = info["liboqs"]
    if native.get("available"):
        features = ", ".join(native["cpu_features"]) or "none detected"
        liboqs = f"liboqs {native['liboqs_version']} ({native['liboqs_origin']}); CPU features: {features}"
    else:
        liboqs = native["reason"]
    defaults = info["keygen_defaults"]
    storage = info["storage"]
    lines = [
        f"secretumvault {info['version']}",
        f"configuration:   {info['config'] or 'none (defaults)'}",
        f"backend:         {shown}",
        f"available:       {', '.join(info['backends']) or 'none'}",
        f"native core:     {liboqs}",
        f"KEMs:            {', '.join(info['kem_algorithms']) or 'none'}",
        f"signatures:      {', '.join(info['signature_algorithms']) or 'none'}",
        f"hybrid mode:     {'on' if info['hybrid_mode'] else 'off'}",
        "keygen makes:    "
        + (
            f"{defaults['kem']} (KEM), {defaults['signature']} (with --signature)"
            if defaults
            else "nothing: post-quantum cryptography is disabled (enable_pqc = false)"
        ),
        "storage:         "
        + (f"sqlite, {storage['path']}" if storage["backend"] == "sqlite" else "postgresql (DSN not shown)"),
        f"server TLS:      {info['tls']['openssl_version']}; key exchange "
        + (
            f"{info['tls']['key_exchange']}: post-quantum"
            if info["tls"]["post_quantum_key_exchange"]
            else f"{info['tls']['key_exchange']} only; with OpenSSL >= 3.5, e.g. Debian 13, "
            "clients get X25519MLKEM768"
        ),
    ]
    return "\n".join(lines)


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def cmd_bench(args: argparse.Namespace) -> int:
    # Checked before the benchmark runs, not after it.
    if args.plot and not _importable("matplotlib"):
        raise UsageError("--plot needs matplotlib: pip install 'secretumvault[plot]'")
    problem = _native_problem()
    if problem:
        print(f"secretumvault: {problem}; the C floor and the oqs backend are left out", file=sys.stderr)
    from secretumvault.bench import report as bench_report

    return bench_report.run(quick=args.quick, as_json=args.json, plot=args.plot)


def add_info_commands(sub: _Subparsers, common: argparse.ArgumentParser) -> None:
    """Register info and bench."""
    p = sub.add_parser(
        "info", parents=[common], help="version, backend and algorithms in use, liboqs build, storage"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("bench", help="compare with the C floor and peer libraries; CLI start time")
    p.add_argument("--quick", action="store_true", help="short loops: finishes in well under a minute")
    p.add_argument("--json", action="store_true", help="machine-readable results on stdout")
    p.add_argument("--plot", metavar="FILE.png", help="also draw a chart (needs matplotlib)")
    p.set_defaults(func=cmd_bench)


def _native_problem() -> str | None:
    """None when the native "oqs" backend works, else why not and what fixes it (the library's sentence)."""
    from secretumvault.pqc.backends import oqs

    return oqs.import_error()
