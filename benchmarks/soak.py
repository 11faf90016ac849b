"""Soak: a mixed load against one server for N minutes, reported minute by minute.

    python benchmarks/soak.py [--minutes 10] [--clients 16] [--config server.toml]

Without ``--config`` it starts ``secretumvault server --dev`` (SQLite in a
temporary folder); with one (for example PostgreSQL storage), it starts
``secretumvault server -c FILE``, initialises and unseals it. Each client is a
thread with one keep-alive connection that loops over the mix below until the
time is up (bounded: it always ends), all on loopback:

    transit AES-256-GCM and ML-KEM-768 encrypt + decrypt, ML-DSA-65 sign +
    verify, kv v2 write + read (a growing set of paths), PKI issue, token
    create + revoke

Each minute it prints the requests answered, the server's CPU time (and per
request), p50 and p99 per operation, the server's resident memory and open
descriptors, and any status >= 500. What to
look for (issue 29): the last minute keeps at least 0.9x the first minute's
requests, and kv write and token create stay within a p99 of 100 ms at 16
clients on SQLite. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import base64
import collections
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

PLAINTEXT = base64.b64encode(os.urandom(1024)).decode()


def _start(config: str | None, workdir: Path) -> tuple[subprocess.Popen[str], str, str]:
    token = "hvs." + secrets.token_urlsafe(24)
    args = ["-c", config] if config else ["--dev", "--dev-root-token", token]
    process = subprocess.Popen(
        [sys.executable, "-m", "secretumvault", "server", "--address", "127.0.0.1:0", *args],
        stdout=subprocess.PIPE,
        stderr=(workdir / "server.log").open("w"),
        text=True,
    )
    assert process.stdout is not None
    url = ""
    for _ in range(200):
        line = process.stdout.readline()
        # --dev prints "Listening on: URL"; -c prints "... listening on URL; it starts sealed ...".
        found = re.search(r"[Ll]istening on:? (https?://[^\s;]+)", line)
        if found:
            url = found.group(1)
            break
    if not url:
        process.kill()
        raise SystemExit("the server did not start; see " + str(workdir / "server.log"))
    for _ in range(200):
        try:
            requests.get(f"{url}/v1/sys/seal-status", timeout=5)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    if config:  # a fresh store: initialise, unseal, mount what the mix uses
        init = requests.put(f"{url}/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1}).json()
        requests.put(f"{url}/v1/sys/unseal", json={"key": init["keys"][0]})
        token = init["root_token"]
        for path, kind, options in (
            ("transit", "transit", {}),
            ("pki", "pki", {}),
            ("secret", "kv", {"version": "2"}),
        ):
            requests.post(
                f"{url}/v1/sys/mounts/{path}",
                headers={"X-Vault-Token": token},
                json={"type": kind, "options": options},
            )
    return process, url, token


def _prepare(url: str, token: str) -> None:
    headers = {"X-Vault-Token": token}
    for name, kind in (("aes", "aes256-gcm96"), ("kem", "ml-kem-768"), ("dsa", "ml-dsa-65")):
        requests.post(
            f"{url}/v1/transit/keys/{name}", headers=headers, json={"type": kind}
        ).raise_for_status()
    requests.post(
        f"{url}/v1/pki/root/generate/internal",
        headers=headers,
        json={"common_name": "soak root", "key_type": "ec", "ttl": "8760h"},
    ).raise_for_status()
    requests.post(
        f"{url}/v1/pki/roles/soak",
        headers=headers,
        json={"allowed_domains": "example.com", "allow_subdomains": True, "key_type": "ec", "max_ttl": "1h"},
    ).raise_for_status()


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: collections.Counter[str] = collections.Counter()

    def add(self, op: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[op].append(seconds * 1000)
            if status >= 500:
                self.errors[f"{op} {status}"] += 1

    def take(self) -> tuple[dict[str, list[float]], collections.Counter[str]]:
        with self.lock:
            taken, errors = self.latencies, self.errors
            self.latencies, self.errors = collections.defaultdict(list), collections.Counter()
        return taken, errors


def _client(url: str, token: str, recorder: Recorder, until: float, number: int) -> None:
    session = requests.Session()
    session.headers["X-Vault-Token"] = token
    counter = 0

    def call(op: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        response = session.request(method, f"{url}/v1/{path}", json=body, timeout=60)
        recorder.add(op, time.perf_counter() - started, response.status_code)
        return response.json() if response.content else {}

    while time.monotonic() < until:
        counter += 1
        for key in ("aes", "kem"):
            sealed = call(f"{key} encrypt", "POST", f"transit/encrypt/{key}", {"plaintext": PLAINTEXT})
            text = sealed.get("data", {}).get("ciphertext", "")
            call(f"{key} decrypt", "POST", f"transit/decrypt/{key}", {"ciphertext": text})
        signed = call("dsa sign", "POST", "transit/sign/dsa", {"input": PLAINTEXT[:64]})
        signature = signed.get("data", {}).get("signature", "")
        call("dsa verify", "POST", "transit/verify/dsa", {"input": PLAINTEXT[:64], "signature": signature})
        path = f"secret/data/soak/{number}/{counter % 500}"
        call("kv write", "POST", path, {"data": {"value": PLAINTEXT[:128]}})
        call("kv read", "GET", path)
        if counter % 4 == 0:
            call(
                "pki issue",
                "POST",
                "pki/issue/soak",
                {"common_name": f"c{counter}.example.com", "ttl": "10m"},
            )
        created = call("token create", "POST", "auth/token/create", {"policies": ["default"], "ttl": "10m"})
        child = created.get("auth", {}).get("client_token", "")
        call("token revoke", "POST", "auth/token/revoke", {"token": child})


def _proc(pid: int) -> tuple[float, int]:
    rss_kb = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def _cpu_seconds(pid: int) -> float:
    """The server's user + system CPU time so far: on a shared machine, CPU per request compares
    runs better than requests per minute, which follow whatever else the cores are running."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--config", help="a server config file (e.g. PostgreSQL storage); default: --dev")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        process, url, token = _start(options.config, Path(folder))
        try:
            _prepare(url, token)
            recorder = Recorder()
            until = time.monotonic() + max(1, round(options.minutes)) * 60
            clients = [
                threading.Thread(target=_client, args=(url, token, recorder, until, n), daemon=True)
                for n in range(options.clients)
            ]
            for thread in clients:
                thread.start()
            started = time.monotonic()
            totals: list[int] = []
            cpu = _cpu_seconds(process.pid)
            minutes = max(1, round(options.minutes))
            for minute in range(1, minutes + 1):
                # One window per minute from the start; the clients stop at the end of the last.
                time.sleep(max(0.0, started + 60.0 * minute - time.monotonic()))
                taken, errors = recorder.take()
                rss, fds = _proc(process.pid)
                now = _cpu_seconds(process.pid)
                used, cpu = now - cpu, now
                total = sum(len(v) for v in taken.values())
                totals.append(total)
                per_request = used / total * 1000 if total else float("nan")
                print(
                    f"minute {minute}: {total} requests, server CPU {used:.1f} s ({per_request:.2f} ms a "
                    f"request), RSS {rss:.0f} MB, {fds} fds, 5xx {dict(errors)}"
                )
                for op in sorted(taken):
                    values = taken[op]
                    p50, p99 = _pct(values, 50), _pct(values, 99)
                    print(f"    {op:<14} n={len(values):>6}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
                sys.stdout.flush()
            for thread in clients:
                thread.join(timeout=120)
            if len(totals) >= 2 and totals[0]:
                print(f"last minute / first minute: {totals[-1] / totals[0]:.2f}x")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
