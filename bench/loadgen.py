"""A small wrk-like load generator, run as its own process: N keep-alive HTTP/1.1
connections on loopback, each sending its next request as soon as the last answer is
in. Prints one JSON line: requests, errors, requests/s, p50/p99 latency (ms).

    python -m bench.loadgen --url http://127.0.0.1:8000/path --concurrency 64 \\
        --duration 10 [--header 'X-Auth-Token: ...'] [--method POST --bodies FILE]

With ``--bodies`` (one JSON body a line) every body is sent once, then it stops."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

from bench.common import pct


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _client(
    host: str,
    port: int,
    head: bytes,
    bodies: list[bytes] | None,
    deadline: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < deadline:
            if bodies is not None:
                if not bodies:
                    return
                body = bodies.pop()
                request = head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
            else:
                request = head + b"\r\n"
            t0 = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status >= 400:
                errors.append(status)
    finally:
        writer.close()


async def run(args: argparse.Namespace) -> dict[str, float]:
    url = urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    lines = [f"{args.method} {url.path or '/'} HTTP/1.1", f"Host: {host}:{port}"]
    lines += args.header
    if args.bodies:
        lines.append("Content-Type: application/json")
    head = ("\r\n".join(lines) + "\r\n").encode()
    bodies = None
    if args.bodies:
        with open(args.bodies, "rb") as f:
            bodies = [line.strip() for line in f if line.strip()]
    latencies: list[float] = []
    errors: list[int] = []
    t0 = time.monotonic()
    deadline = t0 + args.duration
    await asyncio.gather(
        *(
            _client(host, port, head, bodies, deadline, latencies, errors)
            for _ in range(args.concurrency)
        )
    )
    elapsed = time.monotonic() - t0
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),  # type: ignore[dict-item]
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(pct(latencies, 50), 2),
        "p99_ms": round(pct(latencies, 99), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--bodies")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
