"""The HTTP/1.1 the server benchmarks speak (``bench/server.py``, ``benchmarks/bench_server.py``):
pre-built requests and a minimal response reader, so the load generator's own cost stays small.
Only the standard library."""

from __future__ import annotations

import asyncio

__all__ = ["build_request", "read_response"]


def build_request(method: str, path: str, host: str, port: int, token: str, body: bytes) -> bytes:
    """One JSON request with a Vault token, as bytes ready to write (again and again)."""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-Vault-Token: {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of one response (its Content-Length; the servers here always send one)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, (await reader.readexactly(length) if length else b"")
