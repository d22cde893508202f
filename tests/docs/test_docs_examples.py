"""The curl examples of the desk-facing docs, run in order against a live demo server.

Each page's ```sh blocks that call `curl` run in one bash session (so a variable an example
sets is there for the next), after the set-up block of docs/api-quickstart.md, against
pytest-django's `live_server` with the demo data loaded afresh for the page. Every curl must
answer 2xx or 3xx, unless the line before its block names the errors it shows, as in
`<!-- expect: 404 409 -->`: then the block's answers of 400 and above are exactly those. A
page's examples are what a desk copies first, so one that no longer works fails here rather
than in their shell.
"""

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image

DOCS = Path(__file__).resolve().parents[2] / "docs"
# The pages whose examples a desk runs; the order of their examples is the order of the story.
PAGES = [
    "api-quickstart.md",
    "notices.md",
    "access-requests.md",
    "seizures.md",
    "imei-checks.md",
    "audit.md",
]
FENCE = re.compile(r"^```(\w*)\s*$")
EXPECT = re.compile(r"^<!--\s*expect:\s*(\d{3}(?:\s+\d{3})*)\s*-->\s*$")
SETUP = re.compile(r"^DIX=", re.MULTILINE)
STATUS = re.compile(r"^DIXSTATUS (\d{3})$", re.MULTILINE)
BLOCK = re.compile(r"^DIXBLOCK (\d+)$", re.MULTILINE)
ASSIGNMENT = re.compile(r"^[A-Z_]+=")

pytestmark = [
    pytest.mark.slow,
    # The pages name the demo's ids (profile 3, notice 1): every page starts from them.
    pytest.mark.django_db(transaction=True, reset_sequences=True),
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
]


@dataclass(frozen=True)
class Example:
    line: int
    code: str
    expect: frozenset[int]
    # A page's own set-up (only variable assignments): run, nothing to check.
    setup: bool = False


def examples(page: Path) -> list[Example]:
    """The ```sh blocks of `page` that call curl, with the status the page says they meet."""
    found: list[Example] = []
    lines = page.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        code = "\n".join(lines[index + 1 : end])
        before = lines[index - 1] if index else ""
        expected = EXPECT.match(before)
        shell = opening.group(1) in {"sh", "bash", "console"}
        if shell and "curl" in code:
            statuses = (
                frozenset(int(n) for n in expected.group(1).split()) if expected else frozenset()
            )
            found.append(Example(index + 1, code, statuses))
        elif shell and _assignments_only(code):
            found.append(Example(index + 1, code, frozenset(), setup=True))
        index = end + 1
    return found


def _assignments_only(code: str) -> bool:
    lines = [line for line in code.splitlines() if line.strip() and not line.startswith("#")]
    return bool(lines) and all(ASSIGNMENT.match(line) for line in lines)


def setup_block() -> str:
    """The quickstart's shell set-up (the block that sets `DIX=`)."""
    for example in _all_blocks(DOCS / "api-quickstart.md"):
        if SETUP.search(example):
            return example
    raise AssertionError("docs/api-quickstart.md has no set-up block setting DIX=")


def _all_blocks(page: Path) -> list[str]:
    return re.findall(r"^```(?:sh|bash)\n(.*?)^```", page.read_text(), re.MULTILINE | re.DOTALL)


def _files(folder: Path) -> None:
    """The files the examples upload: a photo, a PDF and a CSV of seized IMEIs."""
    photo = BytesIO()
    Image.new("RGB", (64, 48), (120, 120, 120)).save(photo, "JPEG")
    (folder / "photo.jpg").write_bytes(photo.getvalue())
    (folder / "protocol.pdf").write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )
    (folder / "seized.csv").write_text("imei\n358240051111110\n490154203237518\n")


# `curl` as the examples call it, which then prints the last status it received on stderr
# (from its trace, as an example's own `-w` or `-D` would override ours).
CURL = r"""curl() {
  local trace status rc
  trace=$(mktemp)
  command curl --trace-ascii "$trace" "$@"
  rc=$?
  status=$(grep -aoE '^[0-9a-f]{4}: HTTP/[0-9.]+ [0-9]{3}' "$trace" | tail -n 1 | awk '{print $3}')
  echo "DIXSTATUS ${status:-000}" >&2
  rm -f "$trace"
  return $rc
}"""


def script(page_examples: list[Example], base_url: str) -> str:
    """One bash script: the set-up, then each example announced on stderr."""
    parts = [
        setup_block(),
        # A page's own `DIX=http://127.0.0.1:8000` must not point the rest at the demo's port.
        f"readonly DIX={base_url}",
        CURL,
    ]
    for number, example in enumerate(page_examples):
        parts.append(f"echo DIXBLOCK {number} >&2")
        parts.append(example.code)
    return "\n".join(parts) + "\n"


def statuses_by_block(stderr: str) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    current = -1
    for line in stderr.splitlines():
        if block := BLOCK.match(line):
            current = int(block.group(1))
            found[current] = []
        elif status := STATUS.match(line):
            found.setdefault(current, []).append(int(status.group(1)))
    return found


@pytest.mark.parametrize("name", PAGES)
def test_every_curl_example_works_against_the_demo(live_server, name: str) -> None:
    page = DOCS / name
    page_examples = examples(page)
    assert any(not example.setup for example in page_examples), f"{name} has no curl example"
    call_command("load_demo", verbosity=0)
    with tempfile.TemporaryDirectory() as folder:
        _files(Path(folder))
        run = subprocess.run(
            ["bash", "-c", script(page_examples, live_server.url)],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    seen = statuses_by_block(run.stderr)
    failures = []
    for number, example in enumerate(page_examples):
        if example.setup:
            continue
        statuses = seen.get(number)
        first = example.code.strip().splitlines()[0]
        if not statuses:
            failures.append(f"line {example.line}: no curl ran ({first})")
            continue
        errors = {status for status in statuses if status >= 400 or status == 0}
        if errors != example.expect:
            expected = sorted(example.expect) or "2xx/3xx"
            failures.append(
                f"line {example.line}: expected {expected}, answered {statuses} ({first})"
            )
    assert not failures, (
        "\n".join(failures)
        + "\n--- output ---\n"
        + run.stdout[-4000:]
        + ("\n--- stderr ---\n" + run.stderr[-2000:])
    )
