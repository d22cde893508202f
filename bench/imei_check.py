"""bench/imei_check: 100,000 IMEIs through `POST /api/v1/imei-checks/`, beside its anchor.

    python bench/imei_check.py                        # 100 and 10,000 profiles (~1.5 min)
    python bench/imei_check.py --profiles 100 --runs 1   # one size, one request (~30 s)
    python bench/imei_check.py --profiles 100 --runs 1 --items 2000   # tiny, for CI
    python bench/imei_check.py --accept csv           # the answer as CSV (`Accept: text/csv`)

On a throw-away PostgreSQL database: the demo network (`load_demo`), then N generated profiles
(bulk-inserted, no revisions), each with one exact TAC and one TAC range of 10 TACs; one in
ten is TLP:AMBER shared with the Belgian desk, one in ten TLP:AMBER shared with nobody (never
matched for the Belgian officer), the rest TLP:GREEN. gunicorn with config/gunicorn.py, one
worker and one thread (so that its memory is the request's), answers the Belgian desk officer
(`be-officer`, TLP:AMBER).

The input is the same for every N: 100,000 items (`--items`), half with a TAC of the first
100 profiles or of the demo's L8star (matching by exact TAC or range), half with one of 5,000
TACs nobody holds; as written: 15 digits, hyphenated, 14 digits, IMEISV (16), bad check digit, wrong
length, non-ASCII digits. Per N:

  server time     gunicorn's access-log duration of the request (body read → answer written)
  client time     the same request as seen from this process on loopback
  worker CPU      CPU seconds of the gunicorn worker for the request
  worker RSS      resident memory of the worker before the first request and at its peak
  phases          in this process: normalise, match (`match_tacs`, and its tracemalloc peak),
                  the whole service, rendering (JSON three ways, and CSV)

The anchor, in the same run: a plain Python loop over the same input that strips the
separators, checks the digits and the Luhn digit and looks the TAC up in a set of the TACs the
officer's visible profiles hold. Exit status 1 when an answer is wrong (its counts differ from
the anchor's), not when the 2-second goal is missed. `--json`/`--out` write a result file
(bench/README.md).
"""

import argparse
import json
import os
import random
import sys
import time
import tracemalloc
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    ROOT,
    Harness,
    PeakSampler,
    add_output_options,
    free_port,
    group_rss,
    process_cpu,
    tool,
    wait_for_quiet,
    write_results,
)

DEMO = json.loads((ROOT / "operations" / "fixtures" / "demo.json").read_text())
OFFICER = "be-officer"
ITEMS = 100_000
STRANGERS = 5_000  # distinct TACs of the input that no profile holds


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--runs", type=int, default=3, help="measured requests per N")
    parser.add_argument(
        "--items", type=int, default=ITEMS, help="IMEIs per check (the goal is for 100,000)"
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=60, help="seconds to wait for an idle machine"
    )
    parser.add_argument(
        "--accept",
        choices=["json", "csv"],
        default="json",
        help="the answer asked for: JSON (default) or CSV, streamed",
    )
    add_output_options(parser)
    return parser.parse_args()


# --- Data ------------------------------------------------------------------------------------


def exact_tac(i: int) -> str:
    return f"002{i:05d}"


def range_of(i: int) -> tuple[str, str]:
    return f"003{i:04d}0", f"003{i:04d}9"


def add_profiles(start: int, stop: int) -> None:
    """Profiles start..stop-1, inserted in bulk (the services would take minutes for 10,000
    and their revisions play no part in a check)."""
    from intel.models import TLP, DeviceProfile, Identifier, Member, Organisation

    analyst = Member.objects.get(username="fr-analyst")
    be_desk = Organisation.objects.get(slug="be-desk")
    profiles = DeviceProfile.objects.bulk_create(
        [
            DeviceProfile(
                name=f"Bench phone {i}",
                device_class="mini_phone",
                owner=analyst.organisation,
                created_by=analyst,
                tlp=TLP.AMBER if i % 10 in (0, 1) else TLP.GREEN,
            )
            for i in range(start, stop)
        ],
        batch_size=2000,
    )
    through = DeviceProfile.recipient_organisations.through
    through.objects.bulk_create(
        [
            through(deviceprofile_id=p.pk, organisation_id=be_desk.pk)
            for i, p in zip(range(start, stop), profiles, strict=True)
            if i % 10 == 0
        ],
        batch_size=2000,
    )
    identifiers = []
    for i, p in zip(range(start, stop), profiles, strict=True):
        low, high = range_of(i)
        tac = exact_tac(i)
        identifiers += [
            Identifier(profile=p, kind="tac", value=tac, tac_start=tac, tac_end=tac),
            Identifier(
                profile=p, kind="tac_range", value=f"{low}-{high}", tac_start=low, tac_end=high
            ),
        ]
    Identifier.objects.bulk_create(identifiers, batch_size=2000)


def make_input(count: int) -> list[str]:
    from intel.imei import luhn_check_digit

    rng = random.Random(4)  # noqa: S311 - test data
    matching = ["00999900"]
    for i in range(100):
        matching += [exact_tac(i), range_of(i)[0], f"003{i:04d}5", range_of(i)[1]]
    strangers = [f"35{rng.randrange(10**6):06d}" for _ in range(STRANGERS)]
    items = []
    for n in range(count):
        tac = rng.choice(matching) if n % 2 else rng.choice(strangers)
        body = f"{tac}{rng.randrange(10**6):06d}"
        imei = f"{body}{luhn_check_digit(body.encode())}"
        form = n % 20
        if form < 8:
            items.append(imei)
        elif form < 12:
            items.append(f"{imei[:2]}-{imei[2:8]}-{imei[8:14]}-{imei[14]}")
        elif form < 15:
            items.append(body)
        elif form < 17:
            items.append(f"{body}{rng.randrange(100):02d}")  # IMEISV
        elif form == 17:
            items.append(body + str((int(imei[14]) + 1) % 10))  # bad check digit
        elif form == 18:
            items.append(imei[:12])  # wrong length
        else:
            items.append(imei.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")))
    return items


# --- The anchor ------------------------------------------------------------------------------


def anchor(items: list[str], tacs: set[str]) -> dict[str, int]:
    """The plain loop: strip, check, Luhn, set lookup."""
    valid = matched = 0
    for raw in items:
        digits = raw.replace(" ", "").replace("-", "").replace(".", "").replace("/", "")
        if not (digits.isascii() and digits.isdigit()) or len(digits) not in (14, 15, 16):
            continue
        if len(digits) == 15:
            total = 0
            for position, char in enumerate(reversed(digits)):
                digit = int(char)
                if position % 2 == 1:
                    digit = digit * 2 - 9 if digit >= 5 else digit * 2
                total += digit
            if total % 10:
                continue
        valid += 1
        matched += digits[:8] in tacs
    return {"items": len(items), "valid": valid, "invalid": len(items) - valid, "matched": matched}


def visible_tacs(member: Any) -> set[str]:
    """Every TAC the member's visible profiles hold, ranges expanded (the anchor's set)."""
    from intel.models import Identifier

    tacs: set[str] = set()
    for low, high in (
        Identifier.objects.visible_to(member)
        .filter(kind__in=["tac", "tac_range"])
        .values_list("tac_start", "tac_end")
    ):
        tacs.update(f"{t:08d}" for t in range(int(low), int(high) + 1))
    return tacs


def best_of(runs: int, fn: Any) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The result file's figures, anchors and ratios, per number of profiles."""
    return {
        "figures": {
            count: {
                "server_s": r["server_s"],
                "server_max_s": r["server_max_s"],
                "client_s": r["client_s"],
                "worker_cpu_s": r["worker_cpu_s"],
                "worker_rss_peak_mib": r["peak_rss_mib"],
                "worker_rss_growth_mib": r["peak_rss_mib"] - r["idle_rss_mib"],
                "normalise_s": r["normalise_s"],
                "match_s": r["match_s"],
                "match_peak_mib": r["match_peak_mib"],
                "render_s": r["render_s"],
            }
            for count, r in results.items()
        },
        "anchors": {count: {"plain_loop_s": r["anchor_s"]} for count, r in results.items()},
        "ratios": {
            count: {"server_over_anchor": r["server_s"] / r["anchor_s"]}
            for count, r in results.items()
        },
        "goals": {"server_s": f"< 2 for {ITEMS:,} IMEIs"},
    }


# --- Measuring -------------------------------------------------------------------------------


def post(url: str, body: bytes, token: str, accept: str = "json") -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "text/csv" if accept == "csv" else "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def access_durations(log: Path) -> list[float]:
    """Seconds, per IMEI-check request, from gunicorn's JSON access log."""
    durations = []
    for line in log.read_text().splitlines():
        if '"gunicorn.access"' in line and "/api/v1/imei-checks/" in line:
            durations.append(json.loads(line)["request"]["duration_us"] / 1e6)
    return durations


def csv_summary(body: bytes) -> dict[str, int]:
    """The summary counts of a CSV answer, to hold against the anchor's."""
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(body.decode())))
    valid = sum(row["valid"] == "true" for row in rows)
    matched = sum(row["matched"] == "true" for row in rows)
    return {"items": len(rows), "valid": valid, "invalid": len(rows) - valid, "matched": matched}


def phases(member: Any, items: list[str]) -> dict[str, float]:
    from intel.api.imei_csv import csv_rows
    from intel.api.imei_result import as_data, render
    from intel.imei import imei_check_perform, match_tacs, normalise

    checked = [normalise(raw) for raw in items]
    tacs = [c.value[:8] for c in checked if c.value]
    tracemalloc.start()
    match_tacs(member, tacs)
    match_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    result = imei_check_perform(member=member, imeis=items, source="json")
    answer = as_data(result)
    if json.loads(render(result)) != answer:
        raise SystemExit("render() and the dict form of the answer differ")
    return {
        "normalise_s": best_of(3, lambda: [normalise(raw) for raw in items]),
        "match_s": best_of(3, lambda: match_tacs(member, tacs)),
        "match_peak_mib": match_peak / 2**20,
        "service_s": best_of(
            3, lambda: imei_check_perform(member=member, imeis=items, source="bench")
        ),
        "render_s": best_of(3, lambda: render(result)),
        "render_dicts_s": best_of(3, lambda: json.dumps(as_data(result), separators=(",", ":"))),
        "render_drf_s": best_of(1, lambda: render_with_drf(answer)),
        "render_csv_s": best_of(3, lambda: b"".join(csv_rows(result))),
    }


def render_with_drf(answer: dict[str, Any]) -> bytes:
    """The usual DRF way: the result serializer's `.data`, then `JSONRenderer`."""
    from rest_framework.renderers import JSONRenderer

    from intel.api.imei_result import ImeiCheckResultSerializer

    return JSONRenderer().render(ImeiCheckResultSerializer(answer).data)


def main() -> int:
    args = parse_args()
    harness = Harness(
        "imei",
        env={
            "DIX_CONN_MAX_AGE": "60",
            "DIX_THROTTLE_RATE": "100000000/min",
            "DIX_WEB_WORKERS": "1",
            "DIX_WEB_THREADS": "1",
        },
    )
    harness.start()
    from django.core.management import call_command

    from intel.models import Member

    call_command("load_demo", quiet=True)
    officer = Member.objects.select_related("organisation").get(username=OFFICER)
    token = next(m["token"] for m in DEMO["members"] if m["username"] == OFFICER)
    items = make_input(args.items)
    payload = json.dumps({"imeis": items}).encode()
    print(
        f"bench/imei_check on PostgreSQL ({harness.dbname}): {len(items):,} items, "
        f"{len(payload):,} bytes of JSON",
        flush=True,
    )

    port = free_port()
    web = harness.spawn(
        [tool("gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        log="gunicorn.log",
        env={"DIX_BIND": f"127.0.0.1:{port}"},
    )
    url = f"http://127.0.0.1:{port}/api/v1/imei-checks/"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            break
        except OSError:
            if web.poll() is not None:
                break
            time.sleep(0.05)
    else:
        print("gunicorn did not start:\n" + harness.tail(web))
        return 1

    problems: list[str] = []
    results: dict[str, Any] = {}
    have = 0
    for count in sorted(args.profiles):
        add_profiles(have, count)
        have = count
        tacs = visible_tacs(officer)
        expected = anchor(items, tacs)
        anchor_s = best_of(3, lambda: anchor(items, tacs))  # noqa: B023 - called right here
        note = wait_for_quiet(args.quiet_wait)
        idle_rss = group_rss(web.pid)
        log_seen = len(access_durations(web.log_path))
        clients, cpus = [], []
        with PeakSampler(web.pid, every=0.01) as sampler:
            post(url, payload, token, args.accept)  # warm-up: connections, imports, query plans
            for _ in range(args.runs):
                before = sum(process_cpu(web.pid).values())
                started = time.perf_counter()
                status, body = post(url, payload, token, args.accept)
                clients.append(time.perf_counter() - started)
                cpus.append(sum(process_cpu(web.pid).values()) - before)
                summary = None
                if status == 200:
                    summary = (
                        csv_summary(body) if args.accept == "csv" else json.loads(body)["summary"]
                    )
                if summary != expected:
                    problems.append(f"{count} profiles: {status}, {summary} != anchor {expected}")
        time.sleep(0.2)  # the access log line is written after the answer
        servers = access_durations(web.log_path)[log_seen + 1 :]
        results[str(count)] = {
            "server_s": min(servers) if servers else float("nan"),
            "server_max_s": max(servers) if servers else float("nan"),
            "client_s": min(clients),
            "worker_cpu_s": min(cpus),
            "idle_rss_mib": idle_rss / 2**20,
            "peak_rss_mib": sampler.peak / 2**20,
            "answer_bytes": len(body),
            "anchor_s": anchor_s,
            "summary": expected,
            "note": note,
            **phases(officer, items),
        }
        print(f"  measured {count:,} profiles", flush=True)

    print()
    print(
        f"gunicorn -c config/gunicorn.py, 1 worker × 1 thread; be-officer; {len(items):,} items; "
        f"answer as {args.accept.upper()}; best of {args.runs} (server time: worst in brackets)"
    )
    rows = [
        (
            "DIX server time (access log)",
            lambda r: f"{r['server_s']:.2f} s ({r['server_max_s']:.2f})",
        ),
        ("DIX client time, loopback", lambda r: f"{r['client_s']:.2f} s"),
        ("DIX worker CPU", lambda r: f"{r['worker_cpu_s']:.2f} s"),
        ("ANCHOR plain loop (Luhn + set)", lambda r: f"{r['anchor_s']:.2f} s"),
        ("server time / anchor", lambda r: f"{r['server_s'] / r['anchor_s']:.1f} ×"),
        (
            "worker RSS idle → peak",
            lambda r: f"{r['idle_rss_mib']:.0f} → {r['peak_rss_mib']:.0f} MiB",
        ),
        ("phase: normalise", lambda r: f"{r['normalise_s']:.3f} s"),
        ("phase: match_tacs", lambda r: f"{r['match_s']:.3f} s"),
        ("phase: match_tacs tracemalloc peak", lambda r: f"{r['match_peak_mib']:.2f} MiB"),
        ("phase: service (+ audit event)", lambda r: f"{r['service_s']:.3f} s"),
        ("phase: render (text pieces, DIX)", lambda r: f"{r['render_s']:.3f} s"),
        ("  vs dicts + json.dumps", lambda r: f"{r['render_dicts_s']:.3f} s"),
        ("  vs DRF serializer + JSONRenderer", lambda r: f"{r['render_drf_s']:.3f} s"),
        ("phase: render as CSV", lambda r: f"{r['render_csv_s']:.3f} s"),
        ("answer", lambda r: f"{r['answer_bytes'] / 1e6:.1f} MB"),
        (
            "valid / invalid / matched",
            lambda r: "{valid} / {invalid} / {matched}".format(**r["summary"]),
        ),
    ]
    header = f"{'':<36}" + "".join(f"{f'{int(n):,} profiles':>22}" for n in results)
    print(header)
    print("-" * len(header))
    for label, cell in rows:
        print(f"{label:<36}" + "".join(f"{cell(r):>22}" for r in results.values()))
    print()
    goal = all(r["server_s"] < 2.0 for r in results.values())
    if len(items) == ITEMS:
        print(f"goal: {ITEMS:,} IMEIs in under 2 s of server time: {'met' if goal else 'MISSED'}")
    for count, r in results.items():
        print(f"  {count} profiles: {r['note']}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    write_results(
        "imei_check",
        args,
        **summarise(results),
        ok=not problems,
        notes=[f"{count} profiles: {r['note']}" for count, r in results.items()] + problems,
        detail=results,
    )
    harness.close()
    return 1 if problems else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
