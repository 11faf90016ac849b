"""Several server processes on one port that are sealed and unsealed together.

The parent (the supervisor) forks the workers and keeps one socketpair to
each. It relays messages between them and never decrypts one: the payloads are
AES-256-GCM under a relay key the parent makes before the first fork (every
worker inherits it in memory; it is never written anywhere), with the frame's
header as associated data, so a payload cannot be replayed as another kind or
request. See docs/design.md, "Workers", for what an attacker with the pipe or a
core dump gets.

What travels (worker -> parent -> every other worker, each answers ACK; the
parent answers DONE to the sender once all live workers did, and only then does
the sender answer its HTTP client, so the next request finds every worker in
the same state wherever the kernel sends it):

* SHARE: an unseal share that left the store sealed (progress is the same in
  every worker);
* ROOT: the root key, from the worker whose unseal completed (the other workers
  unseal with it: a passphrase is run through scrypt once, not once per worker);
* SEAL, RESET: ``sys/seal`` and ``sys/unseal`` with ``reset=true``.

A restarted worker sends WANT before it listens; the parent asks the other
workers, and the first unsealed one answers ROOT_FOR (the root key, encrypted
as above), or every one answers NONE and it starts sealed.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secretumvault.errors import SecretumVaultError
from secretumvault.server.errors import HttpError, bad_request
from secretumvault.server.state.core import ServerCore

__all__ = ["Relay", "RelayKey", "WorkerCore", "supervise"]

# Message kinds (one byte in the clear header, so the parent can route without decrypting).
SHARE, ROOT, SEAL, RESET, ACK, DONE, WANT, ROOT_FOR, NONE, READY = range(1, 11)
_BROADCASTS = frozenset({SHARE, ROOT, SEAL, RESET})
_HEADER = struct.Struct(">IBQH")  # body length, kind, request id, worker slot
_LABEL = b"secretumvault worker relay v1\x00"
_NONCE = 12
#: How long a worker waits for every other worker to apply a relayed change (a passphrase
#: store's first unseal runs scrypt once; a worker stuck this long is not waited for).
RELAY_TIMEOUT = 30.0
#: How long a restarted worker waits for a sibling's root key before it listens sealed.
WANT_TIMEOUT = 10.0
_MAX_BODY = 1 << 16


class RelayKey:
    """The relay's AES-256-GCM key, made before the first fork; repr never shows it."""

    __slots__ = ("_aead",)

    def __init__(self) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))

    def __repr__(self) -> str:
        return "RelayKey(<hidden>)"

    def seal(self, header: bytes, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE)  # fresh per message: a 96-bit random nonce under a per-run key
        return nonce + self._aead.encrypt(nonce, plaintext, _LABEL + header)

    def open(self, header: bytes, body: bytes) -> bytes:
        try:
            return self._aead.decrypt(body[:_NONCE], body[_NONCE:], _LABEL + header)
        except InvalidTag:
            raise SecretumVaultError("a worker relay message failed authentication") from None


def _frame(kind: int, request: int, slot: int, body: bytes) -> bytes:
    return _HEADER.pack(len(body), kind, request, slot) + body


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _read_frame(sock: socket.socket) -> tuple[int, int, int, bytes, bytes] | None:
    """(kind, request, slot, header-for-AAD, body), or None at end of stream."""
    head = _recv_exact(sock, _HEADER.size)
    if head is None:
        return None
    length, kind, request, slot = _HEADER.unpack(head)
    if length > _MAX_BODY:
        raise SecretumVaultError("a worker relay message is too long")
    body = _recv_exact(sock, length) if length else b""
    if body is None:
        return None
    return kind, request, slot, head[4:], body


def _aad(kind: int, request: int, slot: int) -> bytes:
    return _HEADER.pack(0, kind, request, slot)[4:]


# -- the worker's side -------------------------------------------------------------------------


class WorkerCore(ServerCore):
    """A worker's core: its seal changes are relayed to the other workers (once ``relay`` is set)."""

    relay: Relay | None = None

    def unseal(self, key: str, migrate: bool = False) -> dict[str, Any]:
        if migrate:
            # Migration progress is not relayed: the shares would land on different workers.
            raise bad_request(
                "a seal migration runs in a server with one worker: restart it with workers = 1 "
                "(or --workers 1), migrate, then restart it with more"
            )
        try:
            status = super().unseal(key)
        except SecretumVaultError:
            # A Shamir share that failed here fails the same way in every worker (a repeat, a
            # foreign share, or a set that does not rebuild the key, which discards them all):
            # relay it so progress stays the same everywhere. A wrong passphrase is not relayed
            # (that would run scrypt in every worker for nothing).
            if self.relay is not None and self.keystore.initialized and self.seal_config()[0] == "shamir":
                self.relay.broadcast(SHARE, key.encode())
            raise
        if self.relay is not None:
            if status["sealed"]:
                self.relay.broadcast(SHARE, key.encode())
            else:  # unsealed now (or already): the others take the root key, not the shares
                self.relay.broadcast(ROOT, self.keystore.export_root_key())
        return status

    def initialize(self, shares: int, threshold: int, root_token: str | None = None) -> dict[str, Any]:
        answer = super().initialize(shares, threshold, root_token)
        # With an auto seal the store is unsealed now: the others take the root key at once
        # instead of waiting for their next auto-unseal retry (up to AUTO_UNSEAL_MAX_DELAY).
        if self.relay is not None and not self.sealed:
            self.relay.broadcast(ROOT, self.keystore.export_root_key())
        return answer

    def seal(self) -> None:
        super().seal()
        if self.relay is not None:
            self.relay.broadcast(SEAL, b"")

    def reset_unseal(self) -> dict[str, Any]:
        status = super().reset_unseal()
        if self.relay is not None:
            self.relay.broadcast(RESET, b"")
        return status

    # What another worker relayed: applied here only, never relayed again.

    def apply_share(self, key: str) -> None:
        if self.sealed and self.keystore.initialized:
            # The sender checked it; a repeat (or a share while a migration is pending) is refused here.
            with contextlib.suppress(SecretumVaultError, HttpError):
                super().unseal(key)

    def apply_root_key(self, root_key: bytes) -> None:
        if self.sealed:
            with self._seal_lock:
                self.keystore.unseal_with_root_key(root_key)

    def apply_seal(self) -> None:
        super().seal()

    def apply_reset(self) -> None:
        super().reset_unseal()


class Relay:
    """A worker's end of its socketpair to the parent, with a thread that applies what arrives."""

    def __init__(self, sock: socket.socket, key: RelayKey, slot: int, core: WorkerCore) -> None:
        self._sock = sock
        self._key = key
        self._slot = slot
        self._core = core
        self._send_lock = threading.Lock()
        self._waiting: dict[int, threading.Event] = {}
        self._want: tuple[threading.Event, list[bytes | None]] | None = None
        self._sealed_since_want = False

    def _send(self, kind: int, request: int, payload: bytes, slot: int | None = None) -> None:
        where = self._slot if slot is None else slot
        body = self._key.seal(_aad(kind, request, where), payload)
        with self._send_lock:
            self._sock.sendall(_frame(kind, request, where, body))

    @staticmethod
    def _request_id() -> int:
        return int.from_bytes(os.urandom(8), "big")  # unique across restarts of a slot

    def broadcast(self, kind: int, payload: bytes) -> None:
        """Send to every other worker; return once each applied it (or RELAY_TIMEOUT passed)."""
        request = self._request_id()
        done = threading.Event()
        self._waiting[request] = done
        try:
            self._send(kind, request, payload)
            if not done.wait(RELAY_TIMEOUT):
                print(
                    "secretumvault server: a worker did not confirm a seal change in time",
                    file=sys.stderr,
                    flush=True,
                )
        finally:
            self._waiting.pop(request, None)

    def ready(self) -> None:
        self._send(READY, 0, b"")

    def fetch_root_key(self) -> bytes | None:
        """A restarted worker: a sibling's root key, or None if none is unsealed (or none answers)."""
        done = threading.Event()
        result: list[bytes | None] = [None]
        self._want = (done, result)
        self._send(WANT, self._request_id(), b"")
        done.wait(WANT_TIMEOUT)
        self._want = None
        return None if self._sealed_since_want else result[0]

    def start(self) -> None:
        threading.Thread(target=self._run, name="worker-relay", daemon=True).start()

    def _run(self) -> None:
        try:
            while True:
                frame = _read_frame(self._sock)
                if frame is None:
                    break
                self._handle(*frame)
        except (OSError, SecretumVaultError) as exc:
            print(f"secretumvault server: worker relay stopped: {exc}", file=sys.stderr, flush=True)
        # The parent is gone: stop this worker the way SIGTERM does (uvicorn shuts down cleanly).
        os.kill(os.getpid(), signal.SIGTERM)

    def _handle(self, kind: int, request: int, slot: int, aad: bytes, body: bytes) -> None:
        payload = self._key.open(aad, body)
        core = self._core
        if kind == DONE:
            event = self._waiting.get(request)
            if event is not None:
                event.set()
            return
        if kind in (ROOT_FOR, NONE):
            want = self._want
            if want is not None:
                want[1][0] = payload if kind == ROOT_FOR else None
                want[0].set()
            return
        if kind == WANT:  # a restarted worker (``slot``) asks for the root key
            if core.sealed:
                self._send(NONE, request, b"", slot)
            else:
                with contextlib.suppress(SecretumVaultError):  # sealed meanwhile
                    self._send(ROOT_FOR, request, core.keystore.export_root_key(), slot)
                    return
                self._send(NONE, request, b"", slot)
            return
        try:
            if kind == SHARE:
                core.apply_share(payload.decode())
            elif kind == ROOT:
                core.apply_root_key(payload)
            elif kind == SEAL:
                self._sealed_since_want = True
                core.apply_seal()
            elif kind == RESET:
                core.apply_reset()
        except SecretumVaultError as exc:  # e.g. the store changed under us: stay as we are, say why
            print(
                f"secretumvault server: a relayed seal change failed here: {exc}", file=sys.stderr, flush=True
            )
        finally:
            self._send(ACK, request, b"")


# -- the parent's side ---------------------------------------------------------------------------


class _Worker:
    def __init__(self, slot: int, pid: int, sock: socket.socket, started: float) -> None:
        self.slot = slot
        self.pid = pid
        self.sock = sock
        self.started = started
        self.ready = False


def supervise(
    workers: int,
    run_worker: Callable[[socket.socket, RelayKey, int, bool], None],
    ready: Callable[[], None],
) -> int:
    """Fork ``workers`` processes running ``run_worker(sock, key, slot, restarted)``; relay between
    them, restart any that dies, forward SIGINT/SIGTERM; the exit status once all have stopped."""
    key = RelayKey()
    live: dict[int, _Worker] = {}  # by slot
    stopping = False
    announced = False
    failures: dict[int, int] = {}  # slot -> quick deaths in a row, for the restart backoff
    respawn_at: dict[int, float] = {}
    # request -> (sender slot, slots still to answer); for WANT: also whether it was answered.
    pending: dict[int, tuple[int, set[int]]] = {}
    wants: dict[int, tuple[int, set[int]]] = {}
    status = 0

    def spawn(slot: int, restarted: bool) -> None:
        parent_end, child_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                parent_end.close()
                for other in live.values():
                    other.sock.close()
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # until uvicorn takes them over
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                run_worker(child_end, key, slot, restarted)
            except BaseException as exc:  # said below; the process exits with 1
                code = 1
                # Its type and message only (the library's messages carry no secrets), so an
                # operator sees why; a stop by signal is no failure to report.
                if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    print(
                        f"secretumvault server: worker {os.getpid()} failed: {type(exc).__name__}: {exc}",
                        file=sys.stderr,
                    )
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        child_end.close()
        live[slot] = _Worker(slot, pid, parent_end, time.monotonic())

    def send(worker: _Worker, kind: int, request: int, slot: int, body: bytes) -> None:
        with contextlib.suppress(OSError):  # it died: reaped below
            worker.sock.sendall(_frame(kind, request, slot, body))

    def done(request: int) -> None:
        sender, _ = pending.pop(request)
        if sender in live:
            aad = _aad(DONE, request, sender)
            send(live[sender], DONE, request, sender, key.seal(aad, b""))

    def route(worker: _Worker, kind: int, request: int, slot: int, aad: bytes, body: bytes) -> None:
        nonlocal announced
        if kind == READY:
            worker.ready = True
            if not announced and all(w.ready for w in live.values()) and len(live) == workers:
                announced = True
                ready()
        elif kind in _BROADCASTS:
            targets = {w.slot for w in live.values() if w.slot != worker.slot}
            pending[request] = (worker.slot, targets)
            for target in targets:
                send(live[target], kind, request, slot, body)  # as it came: same header, same AAD
            if not targets:
                done(request)
        elif kind == ACK:
            if request in pending:
                pending[request][1].discard(worker.slot)
                if not pending[request][1]:
                    done(request)
        elif kind == WANT:
            targets = {w.slot for w in live.values() if w.slot != worker.slot}
            wants[request] = (worker.slot, targets)
            for target in targets:
                send(live[target], WANT, request, slot, body)  # the header names the asker
            if not targets:
                answer_want(request, None)
        elif kind in (ROOT_FOR, NONE) and request in wants:
            targets = wants[request][1]
            targets.discard(worker.slot)
            if kind == ROOT_FOR:
                answer_want(request, (kind, body))
            elif not targets:
                answer_want(request, None)

    def answer_want(request: int, answer: tuple[int, bytes] | None) -> None:
        asker, _ = wants.pop(request)
        if asker not in live:
            return
        if answer is None:
            aad = _aad(NONE, request, asker)
            send(live[asker], NONE, request, asker, key.seal(aad, b""))
        else:  # forwarded as it came: the sibling encrypted it with the asker's slot in the header
            kind, body = answer
            send(live[asker], kind, request, asker, body)

    def forget(slot: int) -> None:
        for request, (sender, targets) in list(pending.items()):
            targets.discard(slot)
            if sender == slot:
                pending.pop(request)
            elif not targets:
                done(request)
        for request, (asker, targets) in list(wants.items()):
            targets.discard(slot)
            if asker == slot:
                wants.pop(request)
            elif not targets:
                answer_want(request, None)

    def on_signal(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for worker in live.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signum)

    for slot in range(workers):
        spawn(slot, restarted=False)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    while live or (respawn_at and not stopping):
        # Reap: a worker that died is restarted (after a backoff if it keeps dying), unless stopping.
        while True:
            try:
                pid, code = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
            dead = next((w for w in live.values() if w.pid == pid), None)
            if dead is None:
                continue
            del live[dead.slot]
            dead.sock.close()
            forget(dead.slot)
            exit_code = os.waitstatus_to_exitcode(code)
            if stopping:
                status = status or int(exit_code != 0)
            elif not announced:  # not all came up: stop the others rather than serve half-started
                print(
                    f"secretumvault server: worker {dead.pid} stopped ({exit_code}) before every worker "
                    "was ready; stopping the server",
                    file=sys.stderr,
                    flush=True,
                )
                status = 1
                on_signal(signal.SIGTERM, None)
            else:
                quick = time.monotonic() - dead.started < 5.0
                failures[dead.slot] = failures.get(dead.slot, 0) + 1 if quick else 0
                delay = min(30.0, 0.5 * (2 ** failures[dead.slot]) - 0.5) if quick else 0.0
                print(
                    f"secretumvault server: worker {dead.pid} stopped ({exit_code}); restarting it"
                    + (f" in {delay:g} s" if delay else ""),
                    file=sys.stderr,
                    flush=True,
                )
                respawn_at[dead.slot] = time.monotonic() + delay
        now = time.monotonic()
        for slot, when in list(respawn_at.items()):
            if stopping:
                respawn_at.clear()
            elif when <= now:
                del respawn_at[slot]
                spawn(slot, restarted=True)
        socks = {w.sock: w for w in live.values()}
        try:
            readable, _, _ = select.select(list(socks), [], [], 0.2)
        except InterruptedError:
            continue
        for sock in readable:
            worker = socks[sock]
            if worker.slot not in live:
                continue
            try:
                frame = _read_frame(sock)
            except (OSError, SecretumVaultError):
                frame = None
            if frame is None:
                continue  # it is exiting; waitpid reaps it
            route(worker, *frame)
    return status
