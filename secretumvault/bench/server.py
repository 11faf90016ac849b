"""The server against its framework floor: transit encrypt over HTTP, against a bare Starlette route.

The floor is a Starlette app with one route, ``POST /v1/transit/encrypt/{name}``,
that decodes the JSON body, calls ``Transit.encrypt`` directly on a SQLite
keystore and answers ``{"data": {"ciphertext": ...}}``: no token, policy,
mount table, audit or Vault error handling. It runs on the same uvicorn (h11,
the same event loop choice) as ``secretumvault server --dev`` with one worker.
Both are driven by the same client: keep-alive connections on loopback, each
sending a fixed number of 1 KiB ML-KEM-768 encryptions one after another. The
two take turns, round after round; reported are the median requests per
second of each, the median per-round ratio, and the CPU time each server
process spent per request (from /proc, which other load on the machine
inflates far less than wall time).

Run as ``python -m secretumvault.bench.server PORT`` it serves the floor.
Used by ``secretumvault bench`` and ``benchmarks/bench_server.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from secretumvault.bench._http import build_request, read_response

__all__ = ["ServerResult", "floor_app", "run"]

KEY = "bench"
PLAINTEXT = bytes(1024)
_START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ServerResult:
    clients: int
    requests: int  # per round and server
    server_rps: float
    floor_rps: float
    ratio: float  # median over rounds of server / floor requests per second
    server_cpu_us: float | None  # CPU time of the server process per request (None: no /proc)
    floor_cpu_us: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def floor_app(transit: Any) -> Any:
    """The framework floor: one Starlette route calling ``transit.encrypt``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def encrypt(request: Request) -> JSONResponse:
        body = await request.json()
        ciphertext = transit.encrypt(request.path_params["name"], base64.b64decode(body["plaintext"]))
        return JSONResponse({"data": {"ciphertext": ciphertext}})

    return Starlette(routes=[Route("/v1/transit/encrypt/{name}", encrypt, methods=["POST"])])


def _serve_floor(port: int) -> None:
    import uvicorn

    from secretumvault.bench.transit import open_transit

    with open_transit() as transit:
        transit.create_key(KEY, "ml-kem-768")
        config = uvicorn.Config(
            floor_app(transit),
            host="127.0.0.1",
            port=port,
            http="h11",  # what secretumvault server runs (its listener wraps uvicorn's h11)
            loop="auto",
            lifespan="off",
            access_log=False,
            log_level="warning",
        )
        uvicorn.Server(config).run()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quiet_process(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _wait_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the benchmark server exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the benchmark server did not start listening in time")


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _post(path: str, port: int, token: str, body: bytes) -> bytes:
    return build_request("POST", path, "127.0.0.1", port, token, body)


async def _client(port: int, payload: bytes, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            writer.write(payload)
            status, _ = await read_response(reader)
            if status not in (200, 204):
                raise RuntimeError(f"the benchmark server answered {status}")
    finally:
        writer.close()


def _drive(port: int, payload: bytes, clients: int, per_client: int) -> float:
    """Seconds for ``clients`` connections each to send ``per_client`` requests."""

    async def go() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(_client(port, payload, per_client) for _ in range(clients)))
        return time.perf_counter() - started

    return asyncio.run(go())


def run(quick: bool = False, clients: int = 8) -> ServerResult:
    """The server's requests per second over the framework floor's (about 15 s, 5 s with ``quick``).

    Many short rounds, each server in turn: a burst of load from the machine's other
    tenants then moves a few paired rounds, not the median of their ratios."""
    per_client = 50 if quick else 80
    rounds = 9 if quick else 25
    token = "hvs." + secrets.token_urlsafe(24)
    server_port, floor_port = _free_port(), _free_port()
    server_argv = [
        *(sys.executable, "-m", "secretumvault", "server", "--dev", "--dev-root-token", token),
        *("--address", f"127.0.0.1:{server_port}", "--workers", "1"),
    ]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        server = _quiet_process(server_argv)
        processes.append(server)
        floor = _quiet_process([sys.executable, "-m", "secretumvault.bench.server", str(floor_port)])
        processes.append(floor)
        _wait_listening(server, server_port)
        _wait_listening(floor, floor_port)
        create = json.dumps({"type": "ml-kem-768"}).encode()
        asyncio.run(_client(server_port, _post(f"/v1/transit/keys/{KEY}", server_port, token, create), 1))
        body = json.dumps({"plaintext": base64.b64encode(PLAINTEXT).decode()}).encode()
        targets = {
            "server": (server, server_port, _post(f"/v1/transit/encrypt/{KEY}", server_port, token, body)),
            "floor": (floor, floor_port, _post(f"/v1/transit/encrypt/{KEY}", floor_port, "", body)),
        }
        for _, port, payload in targets.values():
            _drive(port, payload, clients, 20)  # warm: key caches, first-request imports
        rates: dict[str, list[float]] = {name: [] for name in targets}
        cpu: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(rounds):
            for name, (process, port, payload) in targets.items():
                before = _cpu_seconds(process.pid)
                seconds = _drive(port, payload, clients, per_client)
                after = _cpu_seconds(process.pid)
                rates[name].append(clients * per_client / seconds)
                if before is not None and after is not None:
                    cpu[name].append((after - before) / (clients * per_client) * 1e6)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    ratios = [s / f for s, f in zip(rates["server"], rates["floor"], strict=True)]
    return ServerResult(
        clients,
        clients * per_client,
        statistics.median(rates["server"]),
        statistics.median(rates["floor"]),
        statistics.median(ratios),
        statistics.fmean(cpu["server"]) if cpu["server"] else None,  # all rounds: a round is a few
        statistics.fmean(cpu["floor"]) if cpu["floor"] else None,  # clock ticks of CPU time
    )


if __name__ == "__main__":
    _serve_floor(int(sys.argv[1]))
