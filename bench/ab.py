"""bench/ab: one benchmark on two revisions of DIX, in alternating pairs, and the ratios new/old.

    python bench/ab.py fanout --size 2000                   # main against this checkout, 3 pairs
    python bench/ab.py pull --size 1000 --old 84622e7 --new HEAD --pairs 5
    python bench/ab.py imei_check --size 100 --old-path ../dix-old --runs 1   # bench options pass on

Each side is a checkout with its own virtualenv. `--old REV` / `--new REV` check a revision out
into a temporary git worktree and install it (`make install VENV=<worktree>/.venv`); the
default new side is this checkout as it is, uncommitted changes included, with its `.venv`;
`--old-path DIR` / `--new-path DIR` use a checkout that is already there (installed with
`make install` when it has no `.venv`). Temporary worktrees are removed at the end, also on
Ctrl-C or SIGTERM.

Each side runs its own bench/<name>.py (the benchmark as that revision has it), at `--size`
(the bench's own size option: fanout --rounds, pull --notices, imei_check --profiles, taxii
--objects) plus any option this script does not know, e.g. `--runs 1`. The pairs alternate
their order (old then new, new then old, …) so that a drift of the machine weighs on both
sides alike. Each run writes its result file (`--json FILE`); a revision whose bench predates
result files writes its raw figures there, which are summarised with this checkout's bench.
Printed: every figure, anchor and ratio of each run, and the median of the pairs' new/old.
"""

import argparse
import contextlib
import importlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, git_commit

SIZE_OPTION = {
    "fanout": "--rounds",
    "pull": "--notices",
    "imei_check": "--profiles",
    "taxii": "--objects",
}


def parse_args() -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bench", choices=sorted(SIZE_OPTION))
    parser.add_argument("--size", type=int, help="the bench's size (default: its own default)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--old", default="main", help="revision of the old side (main)")
    parser.add_argument("--new", help="revision of the new side (default: this checkout)")
    parser.add_argument("--old-path", help="an installed checkout to use as the old side")
    parser.add_argument("--new-path", help="an installed checkout to use as the new side")
    parser.add_argument(
        "--keep", action="store_true", help="keep the run logs and result files (not worktrees)"
    )
    return parser.parse_known_args()


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


class Side:
    """One checkout to measure: its path, and whether this script made it (and removes it)."""

    def __init__(self, label: str, path: Path, made: bool) -> None:
        self.label = label
        self.path = path
        self.made = made
        self.commit = git_commit(path)

    @property
    def python(self) -> Path:
        return self.path / ".venv" / "bin" / "python"


def prepare(label: str, rev: str | None, path: str | None, scratch: Path, made: list[Path]) -> Side:
    if path:
        checkout = Path(path).resolve()
    elif rev is None:
        checkout = ROOT
    else:
        checkout = scratch / label
        print(f"{label}: git worktree for {rev} in {checkout}", flush=True)
        git("worktree", "add", "--detach", str(checkout), git("rev-parse", "--verify", rev))
        made.append(checkout)
    if not (checkout / ".venv" / "bin" / "python").exists() or checkout in made:
        print(f"{label}: make install VENV={checkout / '.venv'}", flush=True)
        done = subprocess.run(
            ["make", "-C", str(checkout), "install", f"VENV={checkout / '.venv'}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"{label}: make install failed:\n{done.stderr[-3000:]}")
    return Side(label, checkout, checkout in made)


def run(side: Side, args: argparse.Namespace, extra: list[str], out: Path) -> dict[str, Any]:
    """One run of the bench on one side; its figures, flattened (`anchor:` and `ratio:` keys
    for the anchors' figures and the ratios)."""
    command = [str(side.python), f"bench/{args.bench}.py", *extra, "--json", str(out)]
    if args.size is not None:
        command[2:2] = [SIZE_OPTION[args.bench], str(args.size)]
    log = out.with_suffix(".log")
    started = time.monotonic()
    with log.open("w") as handle:
        proc = subprocess.Popen(command, cwd=side.path, stdout=handle, stderr=subprocess.STDOUT)
        try:
            returncode = proc.wait()
        finally:
            if proc.poll() is None:  # interrupted: the bench stops its processes, drops its db
                proc.terminate()
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
    took = time.monotonic() - started
    status = "ok" if returncode == 0 else f"EXIT {returncode}"
    print(f"  {side.label:3} {status:8} {took:6.1f} s  {' '.join(command[1:-2])}", flush=True)
    if not out.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"{side.label}: no result file; the end of its output:\n{tail}")
    document = json.loads(out.read_text())
    if "figures" not in document:  # a bench from before result files: its raw figures
        module = importlib.import_module(args.bench)
        raw = document["rounds"] if args.bench == "fanout" else document
        document = module.summarise(raw)
    flat: dict[str, Any] = {}
    for prefix, part in (("", "figures"), ("anchor:", "anchors"), ("ratio:", "ratios")):
        flatten(document.get(part) or {}, prefix, flat)
    return flat


def flatten(value: Any, prefix: str, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(
                inner,
                f"{prefix}{key}" if prefix.endswith(":") or not prefix else f"{prefix}/{key}",
                into,
            )
    elif isinstance(value, int | float) and not isinstance(value, bool):
        into[prefix] = float(value)


def report(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    names = list(dict.fromkeys(k for old, new in pairs for k in [*old, *new]))
    width = max([len(n) for n in names] + [10])
    cells = "  ".join(f"{f'pair {i + 1} old → new':>22}" for i in range(len(pairs)))
    header = f"{'figure':<{width}}  {cells}  {'median new/old':>14}"
    print(header)
    print("-" * len(header))
    for name in names:
        shown, ratios = [], []
        for old, new in pairs:
            a, b = old.get(name), new.get(name)
            shown.append(f"{fmt(a)} → {fmt(b)}")
            if a and b is not None:
                ratios.append(b / a)
        median = f"{statistics.median(ratios):.2f}" if ratios else "n/a"
        print(f"{name:<{width}}  " + "  ".join(f"{s:>22}" for s in shown) + f"  {median:>14}")
    print()
    print("A ratio new/old above 1 is a larger figure: better for rates (per_s), worse for times")
    print("(_s, _ms), memory and CPU.")


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def main() -> int:
    args, extra = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` cleans up
    scratch = Path(tempfile.mkdtemp(prefix="dix-ab-"))
    made: list[Path] = []
    try:
        old = prepare("old", args.old, args.old_path, scratch, made)
        new = prepare("new", args.new, args.new_path, scratch, made)
        print(f"old: {old.path} at {old.commit}")
        print(f"new: {new.path} at {new.commit}")
        print(f"bench/{args.bench}, {args.pairs} pairs, {os.cpu_count()} CPUs", flush=True)
        pairs = []
        for i in range(args.pairs):
            order = (old, new) if i % 2 == 0 else (new, old)
            print(f"pair {i + 1}:", flush=True)
            figures = {
                side.label: run(side, args, extra, scratch / f"{side.label}-{i + 1}.json")
                for side in order
            }
            pairs.append((figures["old"], figures["new"]))
        print()
        report(pairs)
        if args.keep:
            print(f"run logs and result files kept in {scratch}")
        return 0
    finally:
        for checkout in made:
            with contextlib.suppress(subprocess.CalledProcessError):
                git("worktree", "remove", "--force", str(checkout))
        with contextlib.suppress(subprocess.CalledProcessError):
            git("worktree", "prune")
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
