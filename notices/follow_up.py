"""The issuer's two follow-up reads of a notice, for one reader: who it reaches (the audience
preview) and who received, read and acknowledged it (the receipts).

Both are reads of the notice's restricted data: who a TLP:AMBER or stricter notice was sent to,
and what each desk said it did, are as sensitive as the notice. The API (`…/audience/`,
`…/receipts/`) and the portal (the composer's audience box, the receipts page) call these
functions, so each read is checked by the one rule (`policies.may_see_receipts`) and recorded
in the audit trail the same way wherever it is made (`notice.audience_read`,
`notice.receipts_read`, from AMBER up, as every detail read; docs/audit.md).
"""

from core.errors import NotFound
from intel import audit
from intel.models import Member
from notices import policies
from notices.audience import Reached, notice_audience
from notices.models import Notice
from notices.receipts import FollowUp, notice_follow_up

AUDIENCE_READ = "notice.audience_read"
RECEIPTS_READ = "notice.receipts_read"


def audience_preview(*, notice: Notice, reader: Member, audited: bool = True) -> list[Reached]:
    """The organisations the notice reaches now (`notice_audience`), for its issuer and the
    secretariat's coordinators. `audited=False` for a HEAD request, which carries no data."""
    _require_follow_up(reader, notice)
    reached = notice_audience(notice)
    if audited:
        _record(reader, notice, AUDIENCE_READ)
    return reached


def receipts_read(*, notice: Notice, reader: Member, audited: bool = True) -> FollowUp:
    """The notice's follow-up (`notice_follow_up`), for its issuer and the secretariat's
    coordinators. `audited=False` for a HEAD request, which carries no data."""
    _require_follow_up(reader, notice)
    follow_up = notice_follow_up(notice)
    if audited:
        _record(reader, notice, RECEIPTS_READ)
    return follow_up


def _require_follow_up(reader: Member, notice: Notice) -> None:
    # Anyone else who sees the notice is answered as for a notice they may not see.
    if not policies.may_see_receipts(reader, notice):
        raise NotFound("Not found.")


def _record(reader: Member, notice: Notice, action: str) -> None:
    audit.record_read(
        actor=reader,
        action=action,
        object_type="notice",
        object_id=notice.pk,
        object_tlp=notice.tlp,
        detail={"reference": notice.reference, "version": notice.version},
    )
