"""What an e-mail says, rendered by the worker when it sends: only what the member may see
now, and for TLP:AMBER+STRICT and TLP:RED never more than title, type, label and a link.

The summary travels only at TLP:CLEAR, GREEN and AMBER; a body, an action requested, a
withdrawal reason, a purpose or a report's notes never do (the link leads to them, behind
the member's sign-in). A subject carries at most the event, the type, the title and the
label. When the member may no longer see the object (audience narrowed, grant ended,
clearance lowered), nothing is said: `item_of` answers None.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from core.events import EventType
from intel.models import TLP, AccessRequest, DeviceProfile, Member
from mail.models import EmailMessage
from notices.models import Notice, NoticeType, NoticeVersion
from seizures.models import SeizureReport

# Where links point when the deployment does not say where it is served (the demo).
DEMO_URL = "http://127.0.0.1:8000"

# The labels whose e-mails may carry a notice's summary.
SUMMARY_LABELS = frozenset({TLP.CLEAR, TLP.GREEN, TLP.AMBER})


@dataclass(frozen=True)
class Item:
    """One event as one member may be told of it."""

    subject: str
    headline: str
    title: str
    label: str
    link: str
    kind: str = ""
    summary: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)

    def body(self) -> str:
        """The item as a whole e-mail's text."""
        return render_to_string("mail/item.txt", {"item": self, "preferences": _preferences()})


def link(path: str) -> str:
    base = (str(settings.DIX_PUBLIC_URL) or DEMO_URL).rstrip("/")
    return f"{base}{path}"


def _preferences() -> str:
    return link("/api/v1/me/email-preferences/")


def item_of(row: EmailMessage) -> Item | None:
    """What `row.member` may be told of the row's event now, or None."""
    member = row.member
    if not member.is_active or not member.email:
        return None
    if row.notice_id is not None:
        return _notice_item(row, member, row.notice_id)
    if row.access_request_id is not None:
        return _access_request_item(row, member, row.access_request_id)
    if row.profile_id is not None:
        return _profile_item(row, member, row.profile_id)
    if row.seizure_report_id is not None:
        return _seizure_item(row, member, row.seizure_report_id)
    return None


_NOTICE_HEADLINES: dict[str, Callable[[int], str]] = {
    EventType.NOTICE_PUBLISHED: lambda v: _("A notice was published."),
    EventType.NOTICE_UPDATED: lambda v: (
        _("A notice was updated (version %(version)s).") % {"version": v}
    ),
    EventType.NOTICE_WITHDRAWN: lambda v: _("A notice was withdrawn."),
    EventType.NOTICE_SUBMITTED: lambda v: _("A draft notice waits for your review."),
    EventType.NOTICE_REMINDER: lambda v: _(
        "A reminder: your organisation has not acknowledged this notice yet."
    ),
}

_EVENT_WORDS: dict[str, Callable[[], str]] = {
    EventType.NOTICE_PUBLISHED: lambda: _("Published"),
    EventType.NOTICE_UPDATED: lambda: _("Updated"),
    EventType.NOTICE_WITHDRAWN: lambda: _("Withdrawn"),
    EventType.NOTICE_SUBMITTED: lambda: _("To review"),
    EventType.NOTICE_REMINDER: lambda: _("Reminder"),
    EventType.PROFILE_UPDATED: lambda: _("Profile updated"),
    EventType.ACCESS_REQUEST_CREATED: lambda: _("Access request"),
    EventType.ACCESS_REQUEST_DECIDED: lambda: _("Access request decided"),
    EventType.SEIZURE_REPORTED: lambda: _("Seizure report"),
    EventType.SEIZURE_AMENDED: lambda: _("Seizure report amended"),
    EventType.SEIZURE_WITHDRAWN: lambda: _("Seizure report withdrawn"),
}

_SEIZURE_HEADLINES: dict[str, Callable[[], str]] = {
    EventType.SEIZURE_REPORTED: lambda: _("A seizure report you may see was filed."),
    EventType.SEIZURE_AMENDED: lambda: _("A seizure report you may see was amended."),
    EventType.SEIZURE_WITHDRAWN: lambda: _("A seizure report you may see was withdrawn."),
}


def _subject(event_type: str, kind: str, title: str, label: str) -> str:
    words = " – ".join(w for w in (_EVENT_WORDS[event_type](), kind) if w)
    prefix = f"[{label}] " if label else ""
    return f"{prefix}{words}: {title}"[:250]


def _notice_item(row: EmailMessage, member: Member, pk: int) -> Item | None:
    notice = Notice.objects.visible_to(member).filter(pk=pk).first()
    if notice is None:
        return None
    version = (
        NoticeVersion.objects.filter(notice=notice, number=row.notice_version).first()
        if row.notice_version
        else None
    )
    title = version.title if version is not None else notice.title
    summary = version.summary if version is not None else notice.summary
    label = TLP.stricter(notice.tlp, version.tlp) if version is not None else notice.tlp
    if TLP.above(label, member.clearance):
        return None
    kind = str(NoticeType(notice.notice_type).label)
    open_ = label in SUMMARY_LABELS
    return Item(
        subject=_subject(row.event_type, kind, title, label),
        headline=_NOTICE_HEADLINES[row.event_type](row.notice_version),
        title=title,
        label=label,
        kind=kind,
        link=link(f"/api/v1/notices/{notice.pk}/"),
        summary=summary if open_ else "",
        facts=[(_("Reference"), notice.reference)] if open_ else [],
    )


def _access_request_item(row: EmailMessage, member: Member, pk: int) -> Item | None:
    request = AccessRequest.objects.visible_to(member).filter(pk=pk).first()
    if request is None:
        return None
    kind = str(request.get_target_type_display())
    if row.event_type == EventType.ACCESS_REQUEST_CREATED:
        headline = _("Your organisation is asked to decide an access request.")
    else:
        headline = _("Your access request was decided: %(status)s.") % {
            "status": request.get_status_display()
        }
    title = _("Request %(id)s for a %(kind)s") % {"id": request.pk, "kind": kind.lower()}
    return Item(
        subject=_subject(row.event_type, "", title, ""),
        headline=headline,
        title=title,
        label="",
        link=link(f"/api/v1/access-requests/{request.pk}/"),
    )


def _profile_item(row: EmailMessage, member: Member, pk: int) -> Item | None:
    profile = DeviceProfile.objects.visible_to(member).filter(pk=pk).first()
    if profile is None:
        return None
    return Item(
        subject=_subject(row.event_type, "", profile.name, profile.tlp),
        headline=_("A device profile you may see was changed."),
        title=profile.name,
        label=profile.tlp,
        link=link(f"/api/v1/profiles/{profile.pk}/"),
    )


def _seizure_item(row: EmailMessage, member: Member, pk: int) -> Item | None:
    report = SeizureReport.objects.visible_to(member).filter(pk=pk).first()
    if report is None:
        return None
    title = _("%(country)s, %(date)s") % {"country": report.country, "date": report.seized_on}
    return Item(
        subject=_subject(row.event_type, "", title, report.tlp),
        headline=_SEIZURE_HEADLINES[row.event_type](),
        title=title,
        label=report.tlp,
        link=link(f"/api/v1/seizures/{report.pk}/"),
    )


def digest_body(member: Member, items: list[Item]) -> tuple[str, str]:
    """The subject and text of one member's daily digest."""
    subject = _("DIX daily digest: %(count)s events") % {"count": len(items)}
    context: dict[str, Any] = {"items": items, "member": member, "preferences": _preferences()}
    return subject, render_to_string("mail/digest.txt", context)
