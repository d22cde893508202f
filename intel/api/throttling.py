"""Per-member rate limit. DRF answers 429 with `Retry-After`."""

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class MemberRateThrottle(UserRateThrottle):
    """Reads `DIX_THROTTLE_RATE` at request time (DRF's own reads its rates once, at import)."""

    scope = "member"

    def get_rate(self) -> str:
        return str(settings.DIX_THROTTLE_RATE)
