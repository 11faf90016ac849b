"""HTTP server load: transit encrypt of 1 KiB with ml-kem-768, over keep-alive connections on loopback.

    python benchmarks/bench_server.py [--requests 6000] [--mode production|dev] [--json]

Starts ``secretumvault server -c`` (production: a SQLite store, initialised
and unsealed with one ``sys/unseal`` sent to whichever worker gets it, which
unseals them all) or ``--dev``, with 1 and then 2 worker processes, and
drives each with 1, 8 and 32 concurrent clients. Each client holds one
keep-alive connection and sends a fixed number of requests one after
another (bounded loops: the run always ends), so the load generator's own
cost stays small: it is asyncio with pre-built HTTP/1.1 requests, on the
same machine, and so shares its cores with the server. Reported: requests
per second, the p50 and p99 latency each client saw, and the CPU time the
server processes spent per request (from /proc: a measure of the server's
cost that other load on the machine does not inflate much). The in-process
line is the same encryption called directly on a Transit (no HTTP).

The "framework floor" line (``secretumvault.bench.server``): a bare Starlette
route on the same uvicorn calling ``Transit.encrypt`` directly, taking turns
with ``server --dev`` (one worker) under 8 clients. The budget (issue 24):
the server at least 0.9x its requests per second.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from secretumvault.bench._http import build_request, read_response

PLAINTEXT = os.urandom(1024)
KEY = "bench"
CLIENT_COUNTS = (1, 8, 32)
WORKER_COUNTS = (1, 2)


@dataclass
class Result:
    label: str
    workers: int
    clients: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    #: CPU time the server processes spent per request (Linux /proc), or None where unknown.
    server_cpu_us: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _start(workers: int, token: str, config: Path | None) -> tuple[subprocess.Popen[str], str, int]:
    mode = ["-c", str(config)] if config is not None else ["--dev", "--dev-root-token", token]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "secretumvault",
            "server",
            *mode,
            "--address",
            "127.0.0.1:0",
            "--workers",
            str(workers),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("Listening on: ") or " listening on " in line:
            url = line.split("istening on")[1].strip(": ").split(";")[0].strip()
            return process, url.rsplit(":", 1)[0].split("//")[1], int(url.rsplit(":", 1)[1])
        if not line:
            break
    process.kill()
    raise RuntimeError("the server did not start")


def _server_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of the server process and its live workers, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    try:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry) == pid or int(fields[1]) == pid:  # fields[1] is the parent pid
                total += (int(fields[11]) + int(fields[12])) / ticks
    except OSError:
        return None
    return total


async def _client(host: str, port: int, payload: bytes, count: int, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(payload)
            status, _ = await read_response(reader)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"the server answered {status}")
    finally:
        writer.close()


async def _load(host: str, port: int, payload: bytes, clients: int, total: int) -> tuple[float, list[float]]:
    per_client = max(1, total // clients)
    latencies: list[float] = []
    # Warm every connection and worker first (key caches, first-request imports).
    await asyncio.gather(*(_client(host, port, payload, 20, []) for _ in range(clients)))
    started = time.perf_counter()
    await asyncio.gather(*(_client(host, port, payload, per_client, latencies) for _ in range(clients)))
    return time.perf_counter() - started, latencies


def _call(host: str, port: int, method: str, path: str, token: str, body: bytes) -> dict[str, object]:
    """One request on a new connection (so the kernel may give it to any worker); its JSON body."""

    async def run() -> dict[str, object]:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(build_request(method, path, host, port, token, body))
        status, data = await read_response(reader)
        writer.close()
        if status not in (200, 204):
            raise RuntimeError(f"{method} {path}: the server answered {status}")
        return dict(json.loads(data)) if data else {}

    return asyncio.run(run())


def _prepare_production(host: str, port: int) -> str:
    """Initialise (one share), unseal with one request, mount transit; the root token."""
    init = _call(host, port, "PUT", "/v1/sys/init", "", b'{"secret_shares":1,"secret_threshold":1}')
    keys, token = init["keys"], str(init["root_token"])
    assert isinstance(keys, list)
    _call(host, port, "PUT", "/v1/sys/unseal", "", json.dumps({"key": keys[0]}).encode())
    _call(host, port, "POST", "/v1/sys/mounts/transit", token, b'{"type":"transit"}')
    return token


def bench_http(workers: int, total: int, mode: str) -> list[Result]:
    token = "hvs." + secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as directory:
        config = None
        if mode == "production":
            config = Path(directory) / "server.toml"
            config.write_text(f'[storage]\npath = "{Path(directory) / "store.db"}"\n')
        process, host, port = _start(workers, token, config)
        try:
            if config is not None:
                token = _prepare_production(host, port)
            return _bench_running(process, host, port, token, workers, total, mode)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _bench_running(
    process: subprocess.Popen[str], host: str, port: int, token: str, workers: int, total: int, mode: str
) -> list[Result]:
    results = []
    label = "HTTP -c" if mode == "production" else "HTTP --dev"
    _call(host, port, "POST", f"/v1/transit/keys/{KEY}", token, b'{"type":"ml-kem-768"}')
    body = json.dumps({"plaintext": base64.b64encode(PLAINTEXT).decode()}).encode()
    payload = build_request("POST", f"/v1/transit/encrypt/{KEY}", host, port, token, body)
    for clients in CLIENT_COUNTS:
        cpu_before = _server_cpu_seconds(process.pid)
        seconds, latencies = asyncio.run(_load(host, port, payload, clients, total))
        cpu_after = _server_cpu_seconds(process.pid)
        cpu = None
        if cpu_before is not None and cpu_after is not None:
            warmup = 20 * clients  # _load's warm-up requests are included in the CPU reading
            cpu = (cpu_after - cpu_before) / (len(latencies) + warmup) * 1e6
        results.append(Result(label, workers, clients, len(latencies), seconds, latencies, cpu))
    return results


def bench_in_process(total: int) -> Result:
    from secretumvault.keystore import Keystore, ScryptParams, SQLiteStorage
    from secretumvault.transit import Transit

    with tempfile.TemporaryDirectory() as directory:
        storage = SQLiteStorage(Path(directory) / "bench.db")
        keystore = Keystore(storage)
        keystore.initialize_with_passphrase("bench", scrypt=ScryptParams(n=2**14))
        keystore.unseal("bench")
        transit = Transit(keystore)
        transit.create_key(KEY, type="ml-kem-768")
        for _ in range(50):
            transit.encrypt(KEY, PLAINTEXT)
        latencies = []
        started = time.perf_counter()
        for _ in range(total):
            t = time.perf_counter()
            transit.encrypt(KEY, PLAINTEXT)
            latencies.append((time.perf_counter() - t) * 1000)
        seconds = time.perf_counter() - started
        storage.close()
    return Result("in-process Transit.encrypt", 0, 1, total, seconds, latencies, seconds / total * 1e6)


def _table(results: list[Result]) -> str:
    lines = [
        "| path | server workers | clients | req/s | p50 ms | p99 ms | server CPU µs/req |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        workers = "-" if r.workers == 0 else str(r.workers)
        lines.append(
            f"| {r.label} | {workers} | {r.clients} | {r.rate:,.0f} "
            f"| {r.percentile(50):.2f} | {r.percentile(99):.2f} "
            f"| {'-' if r.server_cpu_us is None else f'{r.server_cpu_us:,.0f}'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000, help="requests per measurement (default 6000)")
    parser.add_argument("--json", action="store_true", help="results as JSON")
    parser.add_argument(
        "--mode",
        choices=("production", "dev"),
        default="production",
        help="server -c with a store unsealed by one sys/unseal (default), or --dev",
    )
    args = parser.parse_args(argv)
    if not 100 <= args.requests <= 1_000_000:
        parser.error("--requests must be from 100 to 1,000,000")
    from secretumvault.bench.server import run as framework_floor

    results = [bench_in_process(args.requests)]
    for workers in WORKER_COUNTS:
        results.extend(bench_http(workers, args.requests, args.mode))
    floor = framework_floor()
    if args.json:
        print(
            json.dumps(
                {
                    "results": [
                        r.__dict__ | {"rate": r.rate, "p50": r.percentile(50), "p99": r.percentile(99)}
                        for r in results
                    ],
                    "framework_floor": floor.as_dict(),
                },
                default=str,
            )
        )
    else:
        print(
            f"transit encrypt, 1 KiB, ml-kem-768 - {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}"
        )
        print(_table(results))
        print(
            f"framework floor ({floor.clients} clients, 1 worker): bare Starlette route "
            f"{floor.floor_rps:,.0f} req/s, server --dev {floor.server_rps:,.0f} req/s: "
            f"{floor.ratio:.2f}x (budget >= 0.9x); server CPU µs/request "
            f"{floor.server_cpu_us or 0:,.0f} vs {floor.floor_cpu_us or 0:,.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
