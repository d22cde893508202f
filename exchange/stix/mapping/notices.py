"""An alert notice's versions in STIX: one report per notice version, as this member sees it."""

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from exchange.stix import objects
from exchange.stix.mapping.audience import Audience, Collector, Scope, VisibleProfiles
from exchange.stix.mapping.profiles import current_state, profile_revisions
from intel.models import TLP, Member
from notices.models import NoticeStatus, NoticeVersion


def add_notices(audience: Audience, scope: Scope, visible: VisibleProfiles, out: Collector) -> None:
    """Add every version of the notices in scope that the member receives."""
    if scope.notice_ids == frozenset():
        return
    member = audience.member
    notices = audience.notices
    if scope.notice_ids is not None:
        notices = notices.filter(pk__in=scope.notice_ids)
    rows = list(
        notices.values(
            "id",
            "issuer_id",
            "reference",
            "notice_type",
            "tlp",
            "status",
            "withdrawal_reason",
            "changed_at",
        )
    )
    if not rows:
        return
    selected = notices.values("id")
    versions: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for version in (
        NoticeVersion.objects.filter(notice__in=selected)
        .order_by("notice_id", "number")
        .values(
            "id",
            "notice_id",
            "number",
            "title",
            "summary",
            "body",
            "action_requested",
            "tlp",
            "published_at",
        )
    ):
        versions[version["notice_id"]].append(version)
    named: dict[int, list[int]] = defaultdict(list)
    through = NoticeVersion.profiles.through.objects
    for version_pk, profile_pk in (
        through.filter(noticeversion__notice__in=selected)
        .order_by("noticeversion_id", "deviceprofile_id")
        .values_list("noticeversion_id", "deviceprofile_id")
    ):
        named[version_pk].append(profile_pk)
    visible_ids = visible.among(p for ids in named.values() for p in ids)
    summaries = _profile_summaries(
        audience, [v for vs in versions.values() for v in vs], named, visible_ids
    )
    cleared = set(TLP.at_most(member.clearance))
    for row in rows:
        _notice_versions(
            member, row, versions[row["id"]], named, summaries, visible_ids, cleared, out
        )


def _profile_summaries(
    audience: Audience,
    versions: list[Mapping[str, Any]],
    named: Mapping[int, list[int]],
    visible_ids: set[int],
) -> dict[int, list[tuple[int, str | None]]]:
    """Per notice version, one line for each profile it names that the member sees: what a
    tool that drops the profile objects still shows through the report, as (profile pk, text).

    The line describes the profile as it stood when that notice version was published (so a
    report version never changes after the fact), and only when that revision reaches the
    member and its label is no stricter than the report's: the report's marking must cover
    all of its text. Otherwise the line only says where the details are: its text is None
    when that is because this member may not read that revision (the report's view then
    says so, see `_view`)."""
    wanted = {p for version in versions for p in named.get(version["id"], [])} & visible_ids
    if not wanted:
        return {}
    revisions, readable = profile_revisions(audience, wanted)
    result: dict[int, list[tuple[int, str | None]]] = {}
    for version in versions:
        lines: list[tuple[int, str | None]] = []
        for profile_pk in named.get(version["id"], []):
            if profile_pk not in visible_ids:
                continue
            history = revisions.get(profile_pk) or [current_state(profile_pk)]
            then = [r for r in history if r.created_at <= version["published_at"]] or history[:1]
            rev = then[-1]
            label = str(rev.snapshot.get("tlp") or TLP.RED)
            if not (rev is history[-1] or rev.pk in readable):
                lines.append((profile_pk, None))
            elif not TLP.above(label, version["tlp"]):
                lines.append((profile_pk, objects.profile_summary(rev.snapshot, profile_pk)))
            else:
                lines.append((profile_pk, _elsewhere(label, profile_pk)))
        if lines:
            result[version["id"]] = lines
    return result


def _elsewhere(label: str, profile_pk: int) -> str:
    return (
        f"A device profile under {label} ({objects.indicator_id(profile_pk)}): its details are in "
        "that indicator and the profile object, under their own label."
    )


def _view(
    versions: list[Mapping[str, Any]],
    named: Mapping[int, list[int]],
    summaries: Mapping[int, list[tuple[int, str | None]]],
    visible_ids: set[int],
) -> str:
    """What this member's rendering of the notice leaves out, over all its versions: the
    profiles it names that the member does not see, and the lines shortened because the
    member may not read the revision they describe. Everything else in a report is the same
    for every member, so equal views give equal content."""
    hidden = sorted({p for v in versions for p in named.get(v["id"], []) if p not in visible_ids})
    unread = sorted(
        f"{v['number']}:{p}"
        for v in versions
        for p, text in summaries.get(v["id"], [])
        if text is None
    )
    if not hidden and not unread:
        return ""
    return "profiles:" + ",".join(map(str, hidden)) + ";lines:" + ",".join(unread)


def _notice_versions(
    member: Member,
    row: Mapping[str, Any],
    versions: list[Mapping[str, Any]],
    named: Mapping[int, list[int]],
    summaries: Mapping[int, list[tuple[int, str | None]]],
    visible_ids: set[int],
    cleared: set[str],
    out: Collector,
) -> None:
    if not versions:
        return
    created = versions[0]["published_at"]
    times = objects.strictly_after((v["published_at"] for v in versions), floor=created)
    issuer = row["issuer_id"]
    report_id = objects.report_id(row["id"], _view(versions, named, summaries, visible_ids))
    last_shown: dict[str, Any] | None = None
    for version, moment in zip(versions, times, strict=True):
        # A version is read under the notice's audience; one written under a stricter label
        # than the notice carries is left to the issuer (a published notice's label does not
        # change: this only guards the rule).
        stricter = TLP.above(version["tlp"], row["tlp"])
        if version["tlp"] not in cleared or (stricter and member.organisation_id != issuer):
            continue
        last_shown = _report(
            report_id, row, version, created, moment, moment, named, summaries, visible_ids
        )
        out.add(last_shown, version["published_at"])
    if row["status"] == NoticeStatus.WITHDRAWN and last_shown is not None:
        withdrawn = max(objects.to_millis(row["changed_at"]), times[-1] + objects.MILLISECOND)
        last = versions[-1]
        report = _report(
            report_id,
            row,
            last,
            created,
            withdrawn,
            times[-1],
            named,
            summaries,
            visible_ids,
            revoked_reason=row["withdrawal_reason"] or "withdrawn by the issuer",
        )
        out.add(report, row["changed_at"])


def _report(
    report_id: str,
    row: Mapping[str, Any],
    version: Mapping[str, Any],
    created: datetime,
    modified: datetime,
    published: datetime,
    named: Mapping[int, list[int]],
    summaries: Mapping[int, list[tuple[int, str | None]]],
    visible_ids: set[int],
    revoked_reason: str | None = None,
) -> dict[str, Any]:
    refs = [objects.indicator_id(p) for p in named.get(version["id"], []) if p in visible_ids]
    lines = [
        text if text is not None else _elsewhere_unread(p)
        for p, text in summaries.get(version["id"], [])
    ]
    # A report must name something: when every profile is hidden from this member, it names
    # its issuer (the description still says what the notice is about).
    return objects.notice_report(
        report_stix_id=report_id,
        issuer_pk=row["issuer_id"],
        reference=row["reference"],
        notice_type=row["notice_type"],
        title=version["title"],
        summary=version["summary"],
        body=version["body"],
        action_requested=version["action_requested"],
        label=version["tlp"],
        created=created,
        modified=modified,
        published=published,
        object_refs=refs or [objects.organisation_id(row["issuer_id"])],
        profiles=lines,
        revoked_reason=revoked_reason,
    )


def _elsewhere_unread(profile_pk: int) -> str:
    return (
        f"A device profile ({objects.indicator_id(profile_pk)}): its details are in that indicator "
        "and the profile object."
    )
