"""bench/clients: how fast each available HTTP client POSTs webhook-sized bodies, bare.

    python bench/clients.py [--posts 10000] [--connections 100] [--runs 2]

Starts bench/receiver.py on 127.0.0.1 and, in a fresh process for each (client, run), POSTs
`--posts` 1.5 kB JSON bodies with Standard Webhooks headers over `--connections` concurrent
connections, nothing else: no signing, no database. Prints POSTs/s and the CPU seconds the
client's process used, best run of each. Clients: pycurl (libcurl's multi interface, DIX's
sender), aiohttp, and, when installed, pyreqwest, curl_cffi and httpx. This is the measurement
behind the choice of DIX's sender (webhooks/sender/). `--json`/`--out` write a result file
(bench/README.md): figures per client, and each client's rate over pycurl's (DIX's sender).
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, add_output_options, write_results

BODY = (
    b'{"type":"notice.published","timestamp":"2026-12-01T00:00:00Z","data":"' + b"x" * 1400 + b'"}'
)


def _headers(i: int) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": f"msg_{i:024d}",
        "webhook-timestamp": "1795317545",
        "webhook-signature": "v1," + "A" * 43 + "=",
    }


def _pycurl(urls: list[str], connections: int) -> int:
    import pycurl

    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, connections)
    idle = [pycurl.Curl() for _ in range(connections)]
    for handle in idle:
        handle.setopt(pycurl.WRITEFUNCTION, lambda data: None)
    ok = done = index = 0
    while done < len(urls):
        while idle and index < len(urls):
            handle = idle.pop()
            handle.setopt(pycurl.URL, urls[index])
            handle.setopt(pycurl.POSTFIELDS, BODY)
            handle.setopt(
                pycurl.HTTPHEADER, ["Expect:", *(f"{k}: {v}" for k, v in _headers(index).items())]
            )
            multi.add_handle(handle)
            index += 1
        while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
            pass
        while True:
            queued, succeeded, failed = multi.info_read()
            for handle in succeeded:
                ok += handle.getinfo(pycurl.RESPONSE_CODE) == 204
            for handle in [*succeeded, *(f[0] for f in failed)]:
                multi.remove_handle(handle)
                idle.append(handle)
                done += 1
            if not queued:
                break
        multi.select(0.05)
    return ok


async def _lanes(urls: list[str], connections: int, post: Callable[[int], Any]) -> int:
    import asyncio

    ok = 0
    pending = iter(range(len(urls)))

    async def lane() -> None:
        nonlocal ok
        for i in pending:
            status = await post(i)  # then count: `ok += await …` would read `ok` first
            ok += status == 204

    await asyncio.gather(*(lane() for _ in range(connections)))
    return ok


async def _aiohttp(urls: list[str], connections: int) -> int:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(i: int) -> int:
            async with session.post(urls[i], data=BODY, headers=_headers(i)) as response:
                await response.read()
                return response.status

        return await _lanes(urls, connections, post)


async def _pyreqwest(urls: list[str], connections: int) -> int:
    from pyreqwest.client import ClientBuilder  # type: ignore[import-not-found]

    async with ClientBuilder().max_connections(connections).build() as client:

        async def post(i: int) -> int:
            request = client.post(urls[i]).body_bytes(BODY).headers(_headers(i)).build()
            response = await request.send()
            await response.bytes()
            return int(response.status)

        return await _lanes(urls, connections, post)


async def _curl_cffi(urls: list[str], connections: int) -> int:
    from curl_cffi import AsyncSession  # type: ignore[import-not-found]

    async with AsyncSession(max_clients=connections) as session:

        async def post(i: int) -> int:
            response = await session.post(urls[i], data=BODY, headers=_headers(i))
            return int(response.status_code)

        return await _lanes(urls, connections, post)


async def _httpx(urls: list[str], connections: int) -> int:
    import httpx  # type: ignore[import-not-found]

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits) as client:

        async def post(i: int) -> int:
            response = await client.post(urls[i], content=BODY, headers=_headers(i))
            return int(response.status_code)

        return await _lanes(urls, connections, post)


CLIENTS: dict[str, tuple[str, Callable[..., Any]]] = {
    "pycurl": ("pycurl", _pycurl),
    "aiohttp": ("aiohttp", _aiohttp),
    "pyreqwest": ("pyreqwest", _pyreqwest),
    "curl_cffi": ("curl_cffi", _curl_cffi),
    "httpx": ("httpx", _httpx),
}


def run_one(client: str, port: int, posts: int, connections: int) -> dict[str, Any]:
    """In this process: POST and measure (called through `--one`)."""
    import asyncio
    import inspect

    urls = [f"http://127.0.0.1:{port}/hook/{i}" for i in range(posts)]
    runner = CLIENTS[client][1]
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if inspect.iscoroutinefunction(runner):
        ok = asyncio.run(runner(urls, connections))
    else:
        ok = runner(urls, connections)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"client": client, "ok": ok, "rate": posts / seconds, "cpu": cpu}


def installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10000)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--one", nargs=2, metavar=("CLIENT", "PORT"), help=argparse.SUPPRESS)
    add_output_options(parser)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.posts, args.connections)))
        return 0

    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "receiver.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.stdout is not None
        ready = receiver.stdout.readline().split()  # "READY <port>"
        if len(ready) != 2:
            print("bench/receiver.py did not start (it needs the standardwebhooks package)")
            return 1
        port = int(ready[1])
        print(
            f"{args.posts:,} POSTs of {len(BODY):,} bytes, {args.connections} connections, "
            f"best of {args.runs}, receiver on 127.0.0.1:{port}"
        )
        failed = False
        results: dict[str, Any] = {}
        for client, (module, _) in CLIENTS.items():
            if not installed(module):
                print(f"  {client:10} not installed")
                continue
            best: dict[str, Any] = {}
            for _ in range(args.runs):
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--posts",
                        str(args.posts),
                        "--connections",
                        str(args.connections),
                        "--one",
                        client,
                        str(port),
                    ],
                    capture_output=True,
                    text=True,
                    timeout=600,
                    check=False,
                )
                if done.returncode != 0:
                    print(f"  {client:10} failed: {done.stderr.strip()[-300:]}")
                    failed = True
                    break
                run = json.loads(done.stdout)
                failed |= run["ok"] != args.posts
                if not best or run["rate"] > best["rate"]:
                    best = run
            if best:
                results[client] = best
                print(
                    f"  {client:10} {best['rate']:>9,.0f} POSTs/s  {best['cpu']:5.2f} s CPU"
                    f"  ({best['ok']:,} answered 204)"
                )
        sender = results.get("pycurl", {}).get("rate")
        write_results(
            "clients",
            args,
            figures={
                client: {"posts_per_s": run["rate"], "cpu_s": run["cpu"]}
                for client, run in results.items()
            },
            anchors={},
            ratios={
                f"{client}_over_pycurl": run["rate"] / sender
                for client, run in results.items()
                if sender
            },
            ok=not failed,
            detail=results,
        )
        return 1 if failed else 0
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
