"""The anchor: one bare process POSTing signed webhook payloads to the receiver, with 100
concurrent connections and nothing else (no database, no broker, no Django).

    python bench/anchor.py payloads.json --connections 100 [--client pycurl|aiohttp|httpx]

`pycurl` (libcurl's multi interface driven by one loop; the fastest client here, and DIX's)
is the default; `aiohttp` and `httpx` are asyncio clients (the ones the issue measured).

`payloads.json` is a list of [url, webhook_id, body, secret]. Each POST is signed when it is
sent (Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`), as a real sender must. Prints
one JSON object: count, ok, seconds, rate, the start offset percentiles of the requests
(the anchor's counterpart of DIX's "publish → first attempt") and the CPU seconds it used
(user, system)."""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

Item = tuple[str, str, str, bytes]


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def _headers(webhook_id: str, body: str, key: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(key, f"{webhook_id}.{stamp}.{body}".encode(), hashlib.sha256).digest()
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _result(count: int, ok: int, seconds: float, offsets: list[float]) -> dict[str, Any]:
    """What a run prints: its rate and when its requests started (from the run's start)."""
    return {
        "count": count,
        "ok": ok,
        "seconds": seconds,
        "rate": count / seconds,
        "start_p50": _percentile(offsets, 0.50),
        "start_p95": _percentile(offsets, 0.95),
        "start_p99": _percentile(offsets, 0.99),
    }


async def _drive(
    items: list[Item], connections: int, post: Callable[[Item], Awaitable[int]]
) -> dict[str, Any]:
    offsets: list[float] = []
    ok = 0
    index = 0
    started = time.perf_counter()

    async def lane() -> None:
        nonlocal ok, index
        while index < len(items):
            item = items[index]
            index += 1
            offsets.append(time.perf_counter() - started)
            status = await post(item)
            ok += 200 <= status < 300

    await asyncio.gather(*(lane() for _ in range(connections)))
    return _result(len(items), ok, time.perf_counter() - started, offsets)


async def run_aiohttp(items: list[Item], connections: int) -> dict[str, Any]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(item: Item) -> int:
            url, webhook_id, body, key = item
            async with session.post(
                url, data=body.encode(), headers=_headers(webhook_id, body, key)
            ) as response:
                await response.read()
                return response.status

        return await _drive(items, connections, post)


async def run_httpx(items: list[Item], connections: int) -> dict[str, Any]:
    import httpx  # type: ignore[import-not-found]

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits) as client:

        async def post(item: Item) -> int:
            url, webhook_id, body, key = item
            response = await client.post(
                url, content=body.encode(), headers=_headers(webhook_id, body, key)
            )
            return int(response.status_code)

        return await _drive(items, connections, post)


def run_pycurl(items: list[Item], connections: int) -> dict[str, Any]:
    """libcurl's multi interface in one plain loop: at most `connections` transfers at once,
    the next one started as soon as one ends."""
    import pycurl

    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, connections)
    idle = []
    for _ in range(min(connections, len(items))):
        handle = pycurl.Curl()
        handle.setopt(pycurl.NOSIGNAL, 1)
        handle.setopt(pycurl.WRITEFUNCTION, lambda data: None)
        idle.append(handle)
    offsets: list[float] = []
    ok = done = index = 0
    started = time.perf_counter()
    while done < len(items):
        while idle and index < len(items):
            url, webhook_id, body, key = items[index]
            index += 1
            handle = idle.pop()
            offsets.append(time.perf_counter() - started)
            handle.setopt(pycurl.URL, url)
            handle.setopt(pycurl.POSTFIELDS, body.encode())
            handle.setopt(
                pycurl.HTTPHEADER,
                ["Expect:", *(f"{k}: {v}" for k, v in _headers(webhook_id, body, key).items())],
            )
            multi.add_handle(handle)
        while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
            pass
        while True:
            queued, succeeded, failed = multi.info_read()
            for handle in succeeded:
                ok += 200 <= handle.getinfo(pycurl.RESPONSE_CODE) < 300
            for handle in [*succeeded, *(f[0] for f in failed)]:
                multi.remove_handle(handle)
                idle.append(handle)
                done += 1
            if not queued:
                break
        if done < len(items):
            multi.select(0.05)
    return _result(len(items), ok, time.perf_counter() - started, offsets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("payloads")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--client", choices=("pycurl", "aiohttp", "httpx"), default="pycurl")
    args = parser.parse_args(argv)
    with open(args.payloads) as handle:
        raw = json.load(handle)
    keys: dict[str, bytes] = {}
    items: list[Item] = []
    for url, webhook_id, body, secret in raw:
        if secret not in keys:
            keys[secret] = _key(secret)
        items.append((url, webhook_id, body, keys[secret]))
    before = resource.getrusage(resource.RUSAGE_SELF)
    if args.client == "pycurl":
        result = run_pycurl(items, args.connections)
    else:
        runner = run_aiohttp if args.client == "aiohttp" else run_httpx
        result = asyncio.run(runner(items, args.connections))
    after = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_user"] = after.ru_utime - before.ru_utime
    result["cpu_system"] = after.ru_stime - before.ru_stime
    result["client"] = args.client
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] == result["count"] else 1


if __name__ == "__main__":
    sys.exit(main())
