"""bench/fanout: publish one notice to N webhook subscriptions and time the delivery.

    python bench/fanout.py --subscriptions 10000     # rounds of 1,000 then 10,000 (~1-2 min)
    python bench/fanout.py --subscriptions 50        # tiny, for CI (seconds)
    python bench/fanout.py --subscriptions 10000 --hanging-percent 10 --rounds 2000,10000

With `--hanging-percent P`, each round size runs twice, without and then with P % of the
endpoints hanging (bench/receiver.py reads their requests and never answers), and prints
the healthy endpoints' publish → delivered p95 of both side by side (the goal: with hangers
at most 1.5× without). Those rounds wait for the healthy endpoints only and skip the anchors.

On a throw-away PostgreSQL database and Redis db 12: a fast loopback receiver (bench/
receiver.py, its capacity measured first with wrk when installed), the demo network plus
generated desks, N subscriptions pointing at the receiver (bulk insert, secrets encrypted
with core.secrets_at_rest), a real Celery worker started with the README's recommended settings,
one notice published through `notices.services.notice_publish`. It waits until every
Delivery has succeeded, checks that every delivery and attempt is recorded and that the
receiver saw every webhook-id (verifying a sample of signatures with `standardwebhooks`),
then runs the anchors (bench/anchor.py: one bare process, 100 connections, with pycurl — the
fastest client here, the goal's anchor — and with aiohttp, the client the issue measured)
over the same signed payloads and prints them side by side.

Exit status: 0 when every round delivered everything and was recorded, 1 otherwise (the
goals are printed, not enforced: they depend on the machine). `--json`/`--out` write a result
file (bench/README.md).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ROOT,
    Harness,
    PeakSampler,
    add_output_options,
    free_port,
    group_cpu,
    group_rss,
    machine_busy,
    percentile,
    postgres_cpu,
    tool,
    wait_for_quiet,
    write_results,
)
from receiver import hanging

# The worker settings the README recommends (chosen by measurement: see bench/README.md).
RECOMMENDED = {
    "pool": "prefork",
    "worker_processes": 2,
    "webhook_concurrency": 100,
    "batch_size": 500,
}


@dataclass
class Round:
    subscriptions: int
    hanging_percent: float = 0.0
    organisations: int = 0
    publish_call: float = 0.0
    publish_to_last: float = 0.0
    first_attempt: list[float] = field(default_factory=list)
    healthy_delivered: list[float] = field(default_factory=list)  # publish → recorded, 2xx
    healthy: int = 0
    engine_seconds: float = 0.0
    rss_idle: int = 0
    rss_peak: int = 0
    worker_cpu: float = 0.0
    worker_system_cpu: float = 0.0
    receiver_cpu: float = 0.0
    machine_cpu: float = 0.0
    postgres_cpu: float = 0.0
    publish_cpu: float = 0.0
    wall: float = 0.0
    attempts: int = 0
    succeeded: int = 0
    receiver: dict[str, Any] = field(default_factory=dict)
    anchor: dict[str, Any] = field(default_factory=dict)  # the fastest client's best run
    anchors: dict[str, dict[str, Any]] = field(default_factory=dict)  # each client's best run
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    quiet: str = ""

    @property
    def rate(self) -> float:
        return self.subscriptions / self.publish_to_last if self.publish_to_last else 0.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10000)
    parser.add_argument(
        "--rounds",
        help="comma-separated subscription counts (default: 1000 and N when N > 1000, else N)",
    )
    parser.add_argument("--organisations", type=int, help="desks to spread them over (N/50)")
    parser.add_argument("--pool", default=RECOMMENDED["pool"])
    parser.add_argument("--worker-processes", type=int, default=RECOMMENDED["worker_processes"])
    parser.add_argument(
        "--webhook-concurrency", type=int, default=RECOMMENDED["webhook_concurrency"]
    )
    parser.add_argument("--batch-size", type=int, default=RECOMMENDED["batch_size"])
    parser.add_argument("--anchor-runs", type=int, default=2, help="the best run is reported")
    parser.add_argument(
        "--anchor-clients",
        default="pycurl,aiohttp",
        help="comma-separated clients of bench/anchor.py (pycurl, aiohttp, httpx); the goal's "
        "anchor is the fastest of them",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="per round, seconds")
    parser.add_argument(
        "--hanging-percent",
        type=float,
        default=0.0,
        help="also run each round with this %% of endpoints that never answer",
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=60, help="seconds to wait for an idle machine"
    )
    add_output_options(parser)
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="write py-spy profiles (collapsed stacks) of the worker and of the publish call "
        "into DIR (py-spy from PATH or $PY_SPY)",
    )
    args = parser.parse_args()
    if args.rounds:
        args.round_sizes = [int(x) for x in args.rounds.split(",") if x.strip()]
    elif args.subscriptions > 1000:
        args.round_sizes = [1000, args.subscriptions]
    else:
        args.round_sizes = [args.subscriptions]
    return args


def main() -> int:
    args = parse_args()
    harness = Harness(
        "fanout",
        env={
            "DJANGO_SETTINGS_MODULE": "bench.fanout_settings",
            "DIX_WEBHOOK_ALLOW_LOOPBACK": "true",
            "DIX_WEBHOOK_CONCURRENCY": str(args.webhook_concurrency),
            "DIX_WEBHOOK_BATCH_SIZE": str(args.batch_size),
        },
    )
    harness.start()
    from django.core.management import call_command

    call_command("load_demo", quiet=True)
    # Like a web server process (its URLconf imports the API views, which import the delivery
    # engine): the first publish must not pay for importing pycurl and the Celery tasks.
    import webhooks.api.views
    import webhooks.tasks  # noqa: F401

    print(
        f"bench/fanout on PostgreSQL ({harness.dbname}) + Redis db 12, {os.cpu_count()} CPUs; "
        f"worker: celery --pool {args.pool} -c {args.worker_processes}, "
        f"DIX_WEBHOOK_CONCURRENCY={args.webhook_concurrency}, "
        f"DIX_WEBHOOK_BATCH_SIZE={args.batch_size}",
        flush=True,
    )
    capacity = receiver_capacity(harness)
    rounds = []
    for size in args.round_sizes:
        orgs = args.organisations or max(1, min(200, size // 50))
        rounds.append(run_round(harness, args, size, orgs))
        if args.hanging_percent:
            rounds.append(run_round(harness, args, size, orgs, args.hanging_percent))
    report(args, capacity, rounds)
    raw = [r.__dict__ | {"rate": r.rate} for r in rounds]
    per_delivery = ("first_attempt", "healthy_delivered")  # summarised: one value per delivery
    write_results(
        "fanout",
        args,
        **summarise(raw),
        ok=all(r.ok for r in rounds),
        notes=[f"{round_key(r)}: {r['quiet']}" for r in raw],
        detail={
            "receiver_capacity": capacity,
            "rounds": [{k: v for k, v in r.items() if k not in per_delivery} for r in raw],
        },
    )
    harness.close()
    return 0 if all(r.ok for r in rounds) else 1


# --- the result file ------------------------------------------------------------------------

GOALS = {
    "over_fastest_anchor": ">= 0.5",
    "first_attempt_p95_s": "< 1",
    "worker_rss_peak_mib": "flat from 1,000 to 10,000 subscriptions",
    "hanging_p95_over_without": "<= 1.5",
}


def round_key(r: dict[str, Any]) -> str:
    hanging = r.get("hanging_percent") or 0
    return f"{r['subscriptions']}" + (f"_hanging_{hanging:g}pct" if hanging else "")


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The result file's figures, anchors and ratios, per round, from the rounds' fields (as
    `--json FILE` wrote them before result files had this shape, too)."""
    figures: dict[str, Any] = {}
    anchors: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    for r in rounds:
        key, size = round_key(r), r["subscriptions"]
        rate = size / r["publish_to_last"] if r["publish_to_last"] else 0.0
        engine = size / r["engine_seconds"] if r["engine_seconds"] else 0.0
        figures[key] = {
            "organisations": r["organisations"],
            "deliveries_per_s": rate,
            "engine_deliveries_per_s": engine,
            "publish_call_s": r["publish_call"],
            "publish_to_last_s": r["publish_to_last"],
            "first_attempt_p50_s": percentile(r["first_attempt"], 0.50),
            "first_attempt_p95_s": percentile(r["first_attempt"], 0.95),
            "first_attempt_p99_s": percentile(r["first_attempt"], 0.99),
            "healthy_delivered_p95_s": percentile(r["healthy_delivered"], 0.95),
            "worker_rss_peak_mib": r["rss_peak"] / 2**20,
            "worker_cpu_s": r["worker_cpu"],
        }
        runs = r.get("anchors") or {}
        anchors[key] = {f"{client}_posts_per_s": run.get("rate", 0) for client, run in runs.items()}
        fastest = max((run.get("rate", 0) for run in runs.values()), default=0)
        ratios[key] = {}
        if fastest:
            ratios[key]["over_fastest_anchor"] = rate / fastest
            ratios[key]["engine_over_fastest_anchor"] = engine / fastest
        for client, run in runs.items():
            if run.get("rate"):
                ratios[key][f"over_{client}_anchor"] = rate / run["rate"]
        calm = next(
            (
                c
                for c in rounds
                if c["subscriptions"] == size and not c.get("hanging_percent") and c is not r
            ),
            None,
        )
        if r.get("hanging_percent") and calm is not None:
            without = percentile(calm["healthy_delivered"], 0.95)
            ratios[key]["hanging_p95_over_without"] = (
                figures[key]["healthy_delivered_p95_s"] / without
            )
    return {"figures": figures, "anchors": anchors, "ratios": ratios, "goals": GOALS}


# --- the receiver ---------------------------------------------------------------------------


def start_receiver(
    harness: Harness, port: int, secrets_file: Path | None, hanging_percent: float = 0.0
) -> Any:
    args = [sys.executable, str(ROOT / "bench" / "receiver.py"), "--port", str(port)]
    if secrets_file is not None:
        args += ["--secrets", str(secrets_file), "--verify-every", "50"]
    if hanging_percent:
        args += ["--hanging-percent", str(hanging_percent)]
    proc = harness.spawn(args, log=f"receiver-{port}.log")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if "READY" in Path(proc.log_path).read_text():
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit("the receiver did not start:\n" + harness.tail(proc))


def receiver_stats(port: int) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as response:
        return dict(json.load(response))


def receiver_capacity(harness: Harness) -> float | None:
    """The receiver's own ceiling: wrk POSTing 1.5 kB bodies over 100 connections for 3 s."""
    try:
        wrk = tool("wrk")
    except SystemExit:
        return None
    port = free_port()
    proc = start_receiver(harness, port, None)
    script = harness.tmp / "post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.body = string.rep("x", 1500)\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["webhook-id"] = "msg_capacity"\n'
    )
    out = subprocess.run(
        [wrk, "-t1", "-c100", "-d3s", "-s", str(script), f"http://127.0.0.1:{port}/hook/0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout
    harness.stop(proc)
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None


# --- one round ------------------------------------------------------------------------------


def setup_round(size: int, orgs: int, port: int, secrets_file: Path) -> int:
    """Fresh subscriptions (the previous round's are deleted) over `orgs` desks."""
    import pycountry
    from django.db import connection

    from core import secrets_at_rest
    from intel import accounts
    from intel.models import Member, Organisation
    from webhooks.models import Subscription, new_signing_secret

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notices_deliveryattempt, notices_delivery, notices_subscription CASCADE"
        )
    countries = [c.alpha_2 for c in pycountry.countries]
    existing = Organisation.objects.filter(slug__startswith="bench-desk-").count()
    for i in range(existing, orgs):
        desk = accounts.organisation_create(
            slug=f"bench-desk-{i:03d}",
            name=f"Bench desk {i}",
            kind="national_desk",
            country=countries[i % len(countries)],
        )
        accounts.member_create(
            organisation=desk,
            username=f"bench-officer-{i:03d}",
            role="desk_officer",
            clearance="TLP:AMBER",
        )
    # Subscribers: the demo's desks (so per-recipient rendering differs between them) and the
    # generated ones, round robin.
    desks = list(Organisation.objects.exclude(kind="secretariat").order_by("pk"))
    desks = [d for d in desks if not d.slug.startswith("bench-desk-")] + [
        d for d in desks if d.slug.startswith("bench-desk-")
    ][:orgs]
    # Each endpoint registered by a member of its desk (its clearance caps the endpoint).
    creators = {m.organisation_id: m for m in Member.objects.order_by("-pk")}
    secrets = [new_signing_secret() for _ in range(size)]
    Subscription.objects.bulk_create(
        [
            Subscription(
                organisation=desks[i % len(desks)],
                created_by=creators.get(desks[i % len(desks)].pk),
                description=f"bench endpoint {i}",
                url=f"http://127.0.0.1:{port}/hook/{i}",
                event_types=["notice.published", "notice.updated", "notice.withdrawn"],
                secret_encrypted=secrets_at_rest.encrypt(secrets[i]),
            )
            for i in range(size)
        ],
        batch_size=2000,
    )
    secrets_file.write_text(json.dumps({str(i): s for i, s in enumerate(secrets)}))
    return len(desks)


def draft_notice(size: int) -> tuple[int, Any]:
    from intel.models import DeviceProfile, Member
    from notices import services

    demo = json.loads((ROOT / "operations" / "fixtures" / "demo.json").read_text())["notices"][0]
    author = Member.objects.get(username="coordinator")
    notice = services.notice_create_draft(
        author=author,
        data=services.NoticeInput(
            fields={
                "notice_type": demo["type"],
                "title": f"[bench {size}] {demo['title']}"[:300],
                "summary": demo["summary"],
                "body": demo["body"],
                "action_requested": demo["action_requested"],
                "audience_scope": "network",
                "tlp": "TLP:GREEN",
                "restricted_data_available": True,
            },
            profiles=list(DeviceProfile.objects.all()),
        ),
    )
    return notice.pk, author


def wait_for_worker(timeout: float = 30.0) -> None:
    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return
    raise SystemExit("the Celery worker did not answer a ping")


def run_round(
    harness: Harness, args: argparse.Namespace, size: int, orgs: int, hanging_percent: float = 0.0
) -> Round:
    from django.db.models import Max, Min

    from notices import services
    from webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Subscription

    result = Round(subscriptions=size, organisations=orgs, hanging_percent=hanging_percent)
    port = free_port()
    secrets_file = harness.tmp / f"secrets-{size}.json"
    result.organisations = setup_round(size, orgs, port, secrets_file)
    notice_id, author = draft_notice(size)
    receiver = start_receiver(harness, port, secrets_file, hanging_percent)
    healthy_subscriptions = [
        pk
        for pk, url in Subscription.objects.values_list("pk", "url")
        if not hanging(int(url.rsplit("/", 1)[-1]), hanging_percent)
    ]
    result.healthy = len(healthy_subscriptions)

    worker = harness.spawn(
        [
            tool("celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            args.pool,
            "--concurrency",
            str(args.worker_processes),
            "--loglevel",
            "WARNING",
            "--hostname",
            f"bench-{os.getpid()}-{size}@%h",
        ],
        log=f"worker-{size}.log",
    )
    wait_for_worker()
    result.quiet = wait_for_quiet(args.quiet_wait)
    result.rss_idle = group_rss(worker.pid)
    cpu_before = group_cpu(worker.pid)
    system_before = group_cpu(worker.pid, system_only=True)
    receiver_before = group_cpu(receiver.pid)
    machine_before = machine_busy()
    postgres_before = postgres_cpu()
    wall_before = time.monotonic()

    spies = []
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        for name, pid in (("worker", worker.pid), ("publish", os.getpid())):
            spies.append(
                harness.spawn(
                    [
                        os.environ.get("PY_SPY", "py-spy"),
                        "record",
                        "--subprocesses",
                        *os.environ.get("PY_SPY_FLAGS", "").split(),
                        "--rate",
                        "250",
                        "--format",
                        "raw",
                        "--pid",
                        str(pid),
                        "--output",
                        str(Path(args.profile) / f"{name}-{size}.txt"),
                    ],
                    log=f"py-spy-{name}-{size}.log",
                )
            )
        time.sleep(1.0)

    with PeakSampler(worker.pid) as sampler:
        t0 = time.time()
        cpu0 = time.process_time()
        services.notice_publish(notice_id=notice_id, author=author)
        result.publish_call = time.time() - t0
        result.publish_cpu = time.process_time() - cpu0
        if len(spies) > 1:
            os.kill(spies[1].pid, 2)  # SIGINT: py-spy writes its output and exits
            spies[1].wait(30)
        deadline = time.monotonic() + args.timeout
        rows = Delivery.objects.filter(notice_id=notice_id)
        expected = rows.count()
        if expected != size:
            result.problems.append(f"{expected} deliveries written for {size} subscriptions")
        # The hanging endpoints' deliveries are not waited for: they time out, then retry.
        healthy_rows = rows.filter(subscription_id__in=healthy_subscriptions)
        while time.monotonic() < deadline:
            done = healthy_rows.exclude(
                state__in=(DeliveryState.PENDING, DeliveryState.SENDING)
            ).count()
            if done >= result.healthy:
                break
            if worker.poll() is not None:
                result.problems.append("the worker died:\n" + harness.tail(worker))
                break
            time.sleep(0.2)  # the figures come from the rows, not from this loop
        else:
            result.problems.append(f"timed out after {args.timeout:.0f} s")
        result.worker_cpu = group_cpu(worker.pid) - cpu_before
        result.worker_system_cpu = group_cpu(worker.pid, system_only=True) - system_before
        result.receiver_cpu = group_cpu(receiver.pid) - receiver_before
        result.machine_cpu = machine_busy() - machine_before
        result.postgres_cpu = postgres_cpu() - postgres_before
        result.wall = time.monotonic() - wall_before
    result.rss_peak = sampler.peak

    summary = healthy_rows.aggregate(last=Max("completed_at"))
    result.succeeded = rows.filter(state=DeliveryState.SUCCEEDED).count()
    result.healthy_delivered = [
        done.timestamp() - t0
        for done in healthy_rows.filter(state=DeliveryState.SUCCEEDED).values_list(
            "completed_at", flat=True
        )
    ]
    attempts = DeliveryAttempt.objects.filter(delivery__notice_id=notice_id)
    result.attempts = attempts.count()
    first = attempts.filter(number=1).aggregate(first=Min("started_at"))["first"]
    if summary["last"] is not None:
        result.publish_to_last = summary["last"].timestamp() - t0
    if first is not None and summary["last"] is not None:
        result.engine_seconds = summary["last"].timestamp() - first.timestamp()
    result.first_attempt = [
        started.timestamp() - t0
        for started in attempts.filter(number=1).values_list("started_at", flat=True)
    ]
    if spies:
        os.kill(spies[0].pid, 2)
        spies[0].wait(30)
    harness.stop(worker)
    result.receiver = receiver_stats(port)

    if result.succeeded != result.healthy:
        result.problems.append(f"{result.succeeded} of {result.healthy} deliveries succeeded")
    missing_attempts = healthy_rows.filter(attempt_log__isnull=True).count()
    if result.attempts < result.healthy or missing_attempts:
        result.problems.append(f"{result.attempts} attempts recorded, {missing_attempts} missing")
    if result.receiver.get("unique") != size:
        result.problems.append(f"the receiver saw {result.receiver.get('unique')} webhook-ids")
    if result.receiver.get("bad_signatures"):
        result.problems.append(f"{result.receiver['bad_signatures']} bad signatures")

    clients = [] if hanging_percent else args.anchor_clients.split(",")
    if clients:
        payloads = anchor_payloads(notice_id, secrets_file, harness.tmp / f"payloads-{size}.json")
    for client in clients:
        result.anchors[client] = run_anchor(harness, args, payloads, size, client)
    result.anchor = max(result.anchors.values(), key=lambda run: run.get("rate", 0), default={})
    anchor_ids = receiver_stats(port)
    if anchor_ids.get("bad_signatures"):
        result.problems.append("the anchor's signatures did not verify")
    harness.stop(receiver)
    result.ok = not result.problems
    for problem in result.problems:
        print(f"  PROBLEM ({size}): {problem}", flush=True)
    return result


def anchor_payloads(notice_id: int, secrets_file: Path, out: Path) -> Path:
    """The same signed payloads DIX sent: same URL, webhook-id, rendered body and secret."""
    from webhooks.engine import payload_bodies
    from webhooks.models import Delivery

    secrets = json.loads(secrets_file.read_text())
    deliveries = list(
        Delivery.objects.filter(notice_id=notice_id).select_related(
            "subscription__organisation", "notice__issuer"
        )
    )
    items = [
        [d.subscription.url, d.webhook_id, body, secrets[d.subscription.url.rsplit("/", 1)[-1]]]
        for d, body in zip(deliveries, payload_bodies(deliveries), strict=True)
        if body is not None
    ]
    out.write_text(json.dumps(items))
    return out


def run_anchor(
    harness: Harness, args: argparse.Namespace, payloads: Path, size: int, client: str
) -> Any:
    best: dict[str, Any] = {}
    for _ in range(args.anchor_runs):
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "anchor.py"),
                str(payloads),
                "--connections",
                "100",
                "--client",
                client,
            ],
            capture_output=True,
            text=True,
            timeout=max(60, size / 50),
            check=False,
            env=harness.env,
        )
        if done.returncode != 0 or not done.stdout.strip():
            print(f"  anchor failed: {done.stderr[-2000:]}", flush=True)
            continue
        run = json.loads(done.stdout.strip().splitlines()[-1])
        if not best or run["rate"] > best["rate"]:
            best = run
    return best


# --- the report -----------------------------------------------------------------------------


def report(args: argparse.Namespace, capacity: float | None, rounds: list[Round]) -> None:
    mb = 1024 * 1024
    print()
    print(
        "receiver capacity (wrk, 100 connections, 1.5 kB POSTs): "
        + (f"{capacity:,.0f} req/s" if capacity else "not measured (wrk not installed)")
    )
    print()
    header = f"{'':44}" + "".join(
        f"{r.subscriptions:>8,} subs {r.hanging_percent:>3.0f}% hang" for r in rounds
    )
    print(header)
    print("-" * len(header))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:44}" + "".join(f"{v:>19}" for v in values))

    row("desks subscribed", [f"{r.organisations}" for r in rounds])
    row("DIX deliveries/s (publish → last recorded)", [f"{r.rate:,.0f}" for r in rounds])
    clients = args.anchor_clients.split(",")
    for client in clients:
        row(
            f"ANCHOR POSTs/s ({client}, 1 process, 100 conn)",
            [f"{r.anchors.get(client, {}).get('rate', 0):,.0f}" for r in rounds],
        )
    row(
        "DIX / anchor (fastest client; goal ≥ 0.50)",
        [f"{r.rate / r.anchor['rate']:.2f}" if r.anchor.get("rate") else "n/a" for r in rounds],
    )
    for client in clients[1:] if len(clients) > 1 else []:
        row(
            f"DIX / {client} anchor",
            [
                f"{r.rate / r.anchors[client]['rate']:.2f}"
                if r.anchors.get(client, {}).get("rate")
                else "n/a"
                for r in rounds
            ],
        )
    row(
        "DIX engine deliveries/s (first → last)",
        [
            f"{r.subscriptions / r.engine_seconds:,.0f}" if r.engine_seconds else "n/a"
            for r in rounds
        ],
    )
    row(
        "DIX engine / anchor",
        [
            f"{r.subscriptions / r.engine_seconds / r.anchor['rate']:.2f}"
            if r.engine_seconds and r.anchor.get("rate")
            else "n/a"
            for r in rounds
        ],
    )
    row("publish call (outbox written, committed)", [f"{r.publish_call:.3f} s" for r in rounds])
    row("publish → last delivery recorded", [f"{r.publish_to_last:.2f} s" for r in rounds])
    row("anchor start → last response", [f"{r.anchor.get('seconds', 0):.2f} s" for r in rounds])
    for q in (0.50, 0.95, 0.99):
        row(
            f"publish → first attempt p{int(q * 100)}",
            [f"{percentile(r.first_attempt, q):.3f} s" for r in rounds],
        )
        row(
            f"  anchor start → request start p{int(q * 100)}",
            [f"{r.anchor.get(f'start_p{int(q * 100)}', 0):.3f} s" for r in rounds],
        )
    row("publish → very first attempt", [f"{min(r.first_attempt or [0]):.3f} s" for r in rounds])
    for q in (0.50, 0.95):
        row(
            f"healthy endpoints: publish → delivered p{int(q * 100)}",
            [f"{percentile(r.healthy_delivered, q):.3f} s" for r in rounds],
        )
    row("worker RSS idle (all processes)", [f"{r.rss_idle / mb:.0f} MiB" for r in rounds])
    row("worker RSS peak (all processes)", [f"{r.rss_peak / mb:.0f} MiB" for r in rounds])
    row(
        "worker CPU seconds (of which system)",
        [f"{r.worker_cpu:.1f} ({r.worker_system_cpu:.1f})" for r in rounds],
    )
    row(
        "anchor CPU seconds (of which system)",
        [
            f"{r.anchor.get('cpu_user', 0) + r.anchor.get('cpu_system', 0):.1f} "
            f"({r.anchor.get('cpu_system', 0):.1f})"
            for r in rounds
        ],
    )
    row("receiver CPU seconds", [f"{r.receiver_cpu:.1f}" for r in rounds])
    row("PostgreSQL CPU seconds (all its processes)", [f"{r.postgres_cpu:.1f}" for r in rounds])
    row("publish call CPU seconds (this process)", [f"{r.publish_cpu:.1f}" for r in rounds])
    row(
        "machine busy during the run (all procs)",
        [f"{r.machine_cpu:.1f} of {r.wall * (os.cpu_count() or 1):.1f} s" for r in rounds],
    )
    row("deliveries succeeded / attempts recorded", [f"{r.succeeded}/{r.attempts}" for r in rounds])
    row(
        "receiver: POSTs / ids / sigs verified",
        [
            f"{r.receiver.get('posts')}/{r.receiver.get('unique')}/{r.receiver.get('verified')}"
            for r in rounds
        ],
    )
    row("all delivered and recorded", ["yes" if r.ok else "NO" for r in rounds])
    print()
    if len(rounds) > 1:
        growth = rounds[-1].rss_peak - rounds[0].rss_peak
        print(
            f"memory: peak {rounds[0].rss_peak / mb:.0f} MiB at {rounds[0].subscriptions:,} "
            f"→ {rounds[-1].rss_peak / mb:.0f} MiB at {rounds[-1].subscriptions:,} "
            f"({growth / mb:+.0f} MiB)"
        )
    for r in rounds:
        if not r.hanging_percent:
            continue
        calm = next(
            (c for c in rounds if c.subscriptions == r.subscriptions and not c.hanging_percent),
            None,
        )
        if calm is None:
            continue
        with_hangers = percentile(r.healthy_delivered, 0.95)
        without = percentile(calm.healthy_delivered, 0.95)
        print(
            f"{r.subscriptions:,} subscriptions, healthy endpoints' publish → delivered p95: "
            f"{without:.2f} s without hangers, {with_hangers:.2f} s with "
            f"{r.hanging_percent:.0f} % hanging: {with_hangers / without:.2f}× (goal ≤ 1.5×)"
        )
    for r in rounds:
        print(f"{r.subscriptions:,} subscriptions, {r.hanging_percent:.0f} % hanging: {r.quiet}")
    print(f"finished {datetime.now().astimezone():%Y-%m-%d %H:%M:%S}")


if __name__ == "__main__":
    sys.exit(main())
