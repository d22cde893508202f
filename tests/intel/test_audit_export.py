"""The CSV export of the trail (docs/audit.md, "Exporting the trail as CSV"): every page the
filters match, streamed, with the chain hashes; the docs' own verification script passes on
it and fails on a tampered row."""

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

from intel.models import TLP, AuditEvent
from tests.helpers.audit import AUDIT, PROFILES, World, ok

DOCS = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def _export(world: World, query: str = "") -> tuple[str, list[dict[str, str]]]:
    response = world.client(world.net.audrey).get(f"{AUDIT}{query}", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return text, list(csv.DictReader(io.StringIO(text, newline="")))


def _verify(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    markdown = DOCS.read_text()
    section = markdown[markdown.index("### Verifying an export") :]
    script = re.search(r"```python\n(.*?)```", section, re.S)
    assert script is not None
    (tmp_path / "verify_dix_audit.py").write_text(script.group(1))
    (tmp_path / "dix-audit.csv").write_text(text, newline="")
    return subprocess.run(
        [sys.executable, "verify_dix_audit.py", "dix-audit.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_whole_trail_exports_and_verifies_with_the_documented_script(
    world: World, tmp_path: Path
) -> None:
    profile = world.profile(TLP.RED)
    audrey = world.client(world.net.audrey)
    for _ in range(3):
        ok(audrey.get(f"{PROFILES}{profile.pk}/", HTTP_X_DIX_JUSTIFICATION='Case, "quoted"\nx'))
    ok(audrey.get(f"{AUDIT}?page_size=1"))  # an auditor's search, its detail a dict
    head = AuditEvent.objects.order_by("-id").first()
    assert head is not None

    text, rows = _export(world)

    every = AuditEvent.objects.filter(id__lte=head.pk).order_by("id").values_list("id", flat=True)
    assert [int(r["id"]) for r in rows] == list(every)  # all pages, oldest first
    assert rows[-1]["hash"] == head.hash
    assert AuditEvent.objects.order_by("-id").first().action == "audit.exported"  # type: ignore[union-attr]
    checked = _verify(tmp_path, text)
    assert checked.returncode == 0, checked.stderr
    assert f"OK: {len(rows)} events verified, {len(rows) - 1} links checked" in checked.stdout

    tampered = text.replace('Case, ""quoted""', 'Case, ""edited""', 1)
    assert tampered != text
    broken = _verify(tmp_path, tampered)
    assert broken.returncode == 1
    assert "BROKEN at event" in broken.stderr


def test_a_filtered_export_holds_what_the_json_list_holds(world: World, tmp_path: Path) -> None:
    profile = world.profile(TLP.AMBER)
    for member in (world.net.bob, world.net.alice):
        ok(world.client(member).get(f"{PROFILES}{profile.pk}/"))
    query = "?action=profile.read&actor=bob"
    listed = ok(world.client(world.net.audrey).get(AUDIT + query))["results"]

    text, rows = _export(world, query)

    assert [r["id"] for r in rows] == [str(e["id"]) for e in reversed(listed)]
    assert _verify(tmp_path, text).returncode == 0


def test_the_export_is_for_auditors_only_and_refuses_bad_filters(world: World) -> None:
    bob = world.client(world.net.bob)
    assert bob.get(AUDIT, HTTP_ACCEPT="text/csv").status_code == 404
    bad = world.client(world.net.audrey).get(f"{AUDIT}?after=yesterday", HTTP_ACCEPT="text/csv")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "after"
