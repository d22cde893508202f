"""A fast loopback webhook receiver for the benchmarks: a bare asyncio HTTP/1.1 server that
answers every POST with 204 over keep-alive connections, counts what it receives and, for a
sample of deliveries, verifies the Standard Webhooks signature with the `standardwebhooks`
package (so the benchmark also proves that what it counted was correctly signed).

    python bench/receiver.py --port 0 --secrets secrets.json --verify-every 50
    python bench/receiver.py --port 0 --hanging-percent 10   # 1 endpoint in 10 never answers

prints `READY <port>` on stdout once it listens. With `--hanging-percent P`, the endpoints
`/hook/<i>` for which `hanging(i, P)` holds read each request and never answer, keeping the
connection open (a receiver that hangs until the sender's timeout). `GET /stats` answers a JSON object:
{"posts": …, "unique": …, "verified": …, "bad_signatures": …}. No Django, no ORM: the
receiver must cost as little CPU as possible, since it shares the machine with the sender.
"""

import argparse
import asyncio
import json
import signal
import socket
import sys
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

RESPONSE_204 = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


def hanging(index: int, percent: float) -> bool:
    """Whether endpoint `index` hangs when `percent` of them do: spread evenly (7919 is prime
    to 100, so each run of 100 consecutive endpoints has `percent` of them)."""
    return (index * 7919) % 100 < percent


class Stats:
    def __init__(
        self, secrets: dict[str, str], verify_every: int, hanging_percent: float = 0.0
    ) -> None:
        self.hanging_percent = hanging_percent
        self.hung = 0
        self.posts = 0
        self.ids: set[bytes] = set()
        self.verified = 0
        self.bad = 0
        self.secrets = secrets
        self.verify_every = verify_every

    def as_json(self) -> bytes:
        return json.dumps(
            {
                "posts": self.posts,
                "unique": len(self.ids),
                "verified": self.verified,
                "bad_signatures": self.bad,
                "hung": self.hung,
            }
        ).encode()


def _headers(block: bytes) -> dict[str, str]:
    headers = {}
    for line in block.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode()
    return headers


class Receiver(asyncio.Protocol):
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop >= 0 else None].strip())
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            body = self.buffer[end + 4 : total]
            self.buffer = self.buffer[total:]
            self.handle(head, body)

    def handle(self, head: bytes, body: bytes) -> None:
        assert self.transport is not None
        request_line = head[: head.find(b"\r\n")] if b"\r\n" in head else head
        method, _, rest = request_line.partition(b" ")
        path = rest.partition(b" ")[0]
        if method == b"GET" and path == b"/stats":
            payload = self.stats.as_json()
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(payload)).encode()
                + b"\r\n\r\n"
                + payload
            )
            return
        stats = self.stats
        stats.posts += 1
        lower = head.lower()
        at = lower.find(b"\r\nwebhook-id:")
        if at >= 0:
            stop = lower.find(b"\r\n", at + 2)
            stats.ids.add(head[at + 13 : stop if stop >= 0 else None].strip())
        if stats.verify_every and stats.posts % stats.verify_every == 1:
            self.verify(path.decode(), head, body)
        if stats.hanging_percent:
            suffix = path.rsplit(b"/", 1)[-1]
            if suffix.isdigit() and hanging(int(suffix), stats.hanging_percent):
                stats.hung += 1
                return  # read, never answered: the connection stays open until the client quits
        self.transport.write(RESPONSE_204)

    def verify(self, path: str, head: bytes, body: bytes) -> None:
        secret = self.stats.secrets.get(path.rsplit("/", 1)[-1])
        if secret is None:
            return
        headers = _headers(head)
        try:
            # Webhook.verify checks every `v1,` signature listed and the timestamp tolerance.
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            self.stats.bad += 1
        else:
            self.stats.verified += 1


async def serve(port: int, stats: Stats) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    server = await loop.create_server(lambda: Receiver(stats), sock=sock, backlog=4096)
    print(f"READY {sock.getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secrets", help="JSON file: {path suffix: whsec_… secret}")
    parser.add_argument("--verify-every", type=int, default=0, help="verify 1 POST in N (0: none)")
    parser.add_argument(
        "--hanging-percent", type=float, default=0.0, help="endpoints that never answer, in %%"
    )
    args = parser.parse_args(argv)
    secrets: dict[str, Any] = {}
    if args.secrets:
        with open(args.secrets) as handle:
            secrets = json.load(handle)
    asyncio.run(serve(args.port, Stats(secrets, args.verify_every, args.hanging_percent)))


if __name__ == "__main__":
    sys.exit(main())
