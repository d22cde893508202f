"""Which STIX object versions a member may receive (docs/stix.md).

Every read starts from the models' `visible_to(member)`; nothing here decides visibility on
its own except where an object takes it from another one (a profile's suppliers from the
profile's revision, a sighting from both its seizure report and its profile).

Versions: a device profile has one version per `ProfileRevision` that shows the member a
change (`intel.revisions`: a hidden parent's is none of theirs) (the latest whenever the
member sees the profile; older ones when `ProfileRevision.objects.visible_to` allows, so
lowering a label never publishes the history written under the higher one); a notice one per
`NoticeVersion`, plus a revoked one when it is withdrawn; suppliers and their relationships
one per revision that changed them (revoked when the supplier leaves the profile). Each
version's `date_added` is when that version entered DIX, so it never changes between calls.

Known limit (by design of `date_added`): an object that becomes visible to a member later
(a new recipient, a grant) keeps its original `date_added`, so a TAXII client paging with
`added_after` only picks it up on a full pull.

One module per source (`profiles`, `notices`, `sightings`, `directory`), `audience` for what
the member may see, `export` to put them together, `window` for a TAXII page.
"""

from exchange.stix.mapping.audience import Audience, Scope
from exchange.stix.mapping.export import collect, member_entries
from exchange.stix.mapping.window import Span, window

__all__ = ["Audience", "Scope", "Span", "collect", "member_entries", "window"]
