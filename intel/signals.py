"""Who may use a token, and as whom, can change outside the services too (the admin edits
members and organisations; a token may be deleted with its member). Every save or delete of
a token, member or organisation therefore bumps the shared-data counter of `intel.changes`:
copies of a token's row kept per process (`notices.inbox`) are trusted only while the
counter has not moved, and inbox ETags that name the member's clearance, organisation,
country or sponsor change with it.

Writes that cannot change any of that do not bump: a token's `last_used_at` (written with
`.update()`, which sends no signal, on API requests) and a member's `last_login`. Any other
`.update()` on these models must call `changes.bump_on_commit()` itself.
"""

from typing import Any

from django.db.models.signals import post_delete, post_save

from intel import changes
from intel.models import ApiToken, Member, Organisation

# Fields whose change alters neither a token's usability nor what an inbox shows.
_BOOKKEEPING = frozenset({"last_used_at", "last_login"})


def bump_on_save(sender: type, update_fields: frozenset[str] | None = None, **_: Any) -> None:
    if update_fields is not None and update_fields <= _BOOKKEEPING:
        return
    changes.bump_on_commit()


def bump_on_delete(sender: type, **_: Any) -> None:
    changes.bump_on_commit()


def connect() -> None:
    for model in (ApiToken, Member, Organisation):
        post_save.connect(bump_on_save, sender=model, dispatch_uid=f"dix-bump-save-{model}")
        post_delete.connect(bump_on_delete, sender=model, dispatch_uid=f"dix-bump-del-{model}")
