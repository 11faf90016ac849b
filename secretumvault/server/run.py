"""Starting the server: the listening socket, uvicorn, worker processes, dev mode.

With ``workers`` > 1 the parent reserves the port and forks; each worker
opens its own storage and keystore and its own SO_REUSEPORT socket on that
port, served with uvicorn. Seal state is per process, so the workers relay
their unseal, seal and reset to each other through the parent (workers.py):
one ``sys/unseal`` sequence sent to any of them unseals them all, and a worker
that dies is restarted and takes the root key from an unsealed sibling.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from secretumvault.keystore import Storage, open_storage
from secretumvault.keystore.seal import KeyWrapper
from secretumvault.server.app import create_app
from secretumvault.server.config import DEFAULT_MAX_CONNECTIONS, ServerSettings
from secretumvault.server.listener import ListenerLimits, protocol_class
from secretumvault.server.state.core import ServerCore
from secretumvault.server.tls import configure_context
from secretumvault.server.workers import Relay, RelayKey, WorkerCore, supervise

__all__ = ["DevStore", "make_dev_store", "serve"]

_BACKLOG = 2048
# Descriptors kept out of max_connections: the store, the audit files, the listening socket,
# the standard streams and the event loop's own.
_RESERVED_FDS = 64


@dataclass
class DevStore:
    """A temporary, initialised store, and what unseals it (kept in memory only)."""

    directory: str
    path: str
    root_token: str = field(repr=False)
    unseal_key: str = field(repr=False)


def make_dev_store(root_token: str | None, backend: str | None) -> DevStore:
    """A fresh SQLite store in a private temporary directory, with transit/, pki/ and secret/ mounted."""
    directory = tempfile.mkdtemp(prefix="secretumvault-dev-")  # 0700
    path = os.path.join(directory, "dev.db")
    core = ServerCore(open_storage(path=path), backend=backend)
    try:
        init = core.initialize(1, 1, root_token=root_token)
        core.unseal(init["keys_base64"][0])
        core.mounts.enable("transit", "transit", "transit (dev)", {})
        core.mounts.enable("pki", "pki", "pki (dev)", {})
        core.mounts.enable("secret", "kv", "key/value secrets (dev)", {"version": "2"})
    finally:
        core.close()
    return DevStore(directory, path, init["root_token"], init["keys_base64"][0])


def _bind(host: str, port: int, *, listen: bool = True, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(_BACKLOG)
    return sock


def raise_descriptor_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one (connections are descriptors); the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20  # Linux refuses more than fs.nr_open, 1048576 by default
    if soft == resource.RLIM_INFINITY or soft >= hard:
        return soft if soft != resource.RLIM_INFINITY else hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        return soft  # not allowed here (a container's policy): max_connections is cut to fit below
    return hard


def connection_cap(settings: ServerSettings, descriptors: int) -> int:
    """max_connections for ``descriptors`` open files: a burst of accepts (up to the backlog)
    lands before any connection is refused, so the cap leaves room for it and for the store."""
    room = max(1, descriptors - min(_BACKLOG, descriptors // 2) - _RESERVED_FDS)
    wanted = settings.max_connections
    if wanted is None:
        return min(DEFAULT_MAX_CONNECTIONS, room)
    if wanted > room:
        print(
            f"secretumvault server: max_connections = {wanted} does not fit in the open-file limit "
            f"({descriptors}, with the accept backlog and the store's files); using {room}",
            file=sys.stderr,
            flush=True,
        )
        return room
    return wanted


def _uvicorn_config(app: Any, settings: ServerSettings, max_connections: int) -> Any:
    import uvicorn

    limits = ListenerLimits(
        http_read_header_timeout=settings.http_read_header_timeout,
        http_read_timeout=settings.http_read_timeout,
        max_request_duration=settings.max_request_duration,
        max_connections=max_connections,
    )
    config = uvicorn.Config(
        app,
        # h11, not httptools: llhttp rejects the LIST method, which hvac and other Vault clients send.
        # The listener module adds Vault's read timeouts and the connection cap to uvicorn's h11.
        http=protocol_class(limits),
        backlog=_BACKLOG,  # asyncio listens again with this; connection_cap counts on it
        loop="auto",  # uvloop where installed (the server extra brings it), else asyncio
        lifespan="off",
        access_log=False,  # request lines may carry names or query strings; nothing of a request is logged
        log_level="warning",
        server_header=False,
        ssl_certfile=settings.tls_cert_file,
        ssl_keyfile=settings.tls_key_file,
        # http_idle_timeout; typed int, but uvicorn only hands it to loop.call_later, which takes float.
        timeout_keep_alive=settings.http_idle_timeout,  # type: ignore[arg-type]
        # On stop, wait this long for open connections (a TLS close can otherwise take 30 s).
        timeout_graceful_shutdown=5,
    )
    if settings.tls:  # uvicorn builds the context in load(); [server] tls_min_version and tls_groups
        config.load()
        assert config.ssl is not None
        configure_context(config.ssl, settings.tls_min_version, settings.tls_groups)
    return config


def _stopped(_signum: int, _frame: Any) -> None:
    """The stop signal, re-raised by uvicorn after a graceful shutdown: nothing left to do."""


def _serve_one(
    sock: socket.socket | None,
    settings: ServerSettings,
    make_storage: Callable[[], Storage],
    dev: DevStore | None,
    backend: str | None,
    worker: tuple[socket.socket, RelayKey, int, bool] | None = None,
    seal: KeyWrapper | None = None,
    old_seal: KeyWrapper | None = None,
) -> None:
    """Serve in this process. ``worker``: a forked worker's (socketpair end, relay key, slot,
    restarted), so its seal state follows the other workers' (see workers.py)."""
    import uvicorn

    relay: Relay | None = None
    core: ServerCore
    if worker is None:
        core = ServerCore(make_storage(), backend=backend, dev=dev is not None)
    else:
        core = worker_core = WorkerCore(make_storage(), backend=backend, dev=dev is not None)
        relay = Relay(worker[0], worker[1], worker[2], worker_core)
        relay.start()  # from now on this worker follows the others' seal, unseal and reset
    core.pq_defaults = settings.pq_defaults
    try:
        restarted = worker is not None and worker[3]
        if dev is not None and not restarted:
            core.unseal(dev.unseal_key)  # before the relay is attached: nothing to tell the others
        core.old_seal = old_seal  # the store's seal marked disabled: a migration (sys/unseal migrate)
        core.auto_seal = seal
        if relay is not None:
            assert isinstance(core, WorkerCore)
            if restarted:  # the others may be unsealed: take the root key from one (encrypted)
                root_key = relay.fetch_root_key()
                if root_key is not None:
                    core.apply_root_key(root_key)
            if seal is not None and core.sealed:
                # One attempt before this worker listens, so the kernel does not hand it
                # connections it would answer 503 while the others serve; retries follow below.
                core.try_auto_unseal()
            core.relay = relay
        if seal is not None:  # auto-unseal in every worker: a thread, retried with backoff; sealed till then
            core.start_auto_unseal(seal)
        if sock is None:  # a forked worker: its own socket on the shared port, balanced by the kernel
            sock = _bind(settings.host, settings.port, reuse_port=True)
        app = create_app(core, settings=settings)
        if relay is not None:  # listening and unsealed: connections queue until uvicorn accepts them
            relay.ready()
        # Everything made so far lives as long as the process: keep it out of every
        # later garbage collection, which shortens the pauses requests wait behind.
        gc.collect()
        gc.freeze()
        # uvicorn re-raises the SIGINT/SIGTERM that stopped it once it has shut down; with the
        # default handlers that would kill the process before the cleanup below (and the dev
        # store's removal) runs. These handlers let the shutdown finish normally.
        signal.signal(signal.SIGINT, _stopped)
        signal.signal(signal.SIGTERM, _stopped)
        config = _uvicorn_config(app, settings, connection_cap(settings, raise_descriptor_limit()))
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        core.close()


def serve(
    settings: ServerSettings,
    make_storage: Callable[[], Storage],
    *,
    workers: int = 1,
    dev: DevStore | None = None,
    backend: str | None = None,
    announce: Callable[[str], None] | None = None,
    seal: KeyWrapper | None = None,
    old_seal: KeyWrapper | None = None,
) -> int:
    """Serve until interrupted; the exit status.

    Several workers each listen on their own SO_REUSEPORT socket, so the kernel
    spreads connections between them (one shared socket would let whichever
    worker wakes first take every connection of a burst). The parent holds the
    port with a bound socket that does not listen, so it gets no connections.
    """
    sock = _bind(settings.host, settings.port, listen=workers == 1, reuse_port=workers > 1)
    port = sock.getsockname()[1]

    def ready() -> None:
        if announce is not None:
            announce(settings.url(port))

    try:
        if workers == 1:
            ready()
            _serve_one(sock, settings, make_storage, dev, backend, seal=seal, old_seal=old_seal)
            return 0
        forked = dataclasses.replace(settings, port=port)
        return _serve_forked(forked, make_storage, dev, backend, workers, ready, seal, old_seal)
    finally:
        sock.close()
        if dev is not None:
            shutil.rmtree(dev.directory, ignore_errors=True)


def _serve_forked(
    settings: ServerSettings,
    make_storage: Callable[[], Storage],
    dev: DevStore | None,
    backend: str | None,
    workers: int,
    ready: Callable[[], None],
    seal: KeyWrapper | None = None,
    old_seal: KeyWrapper | None = None,
) -> int:
    def run_worker(pair: socket.socket, key: RelayKey, slot: int, restarted: bool) -> None:
        _serve_one(None, settings, make_storage, dev, backend, (pair, key, slot, restarted), seal, old_seal)

    return supervise(workers, run_worker, ready)
