"""Per-member rate limit. DRF answers 429 with `Retry-After`."""

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class MemberRateThrottle(SimpleRateThrottle):
    """A fixed-window counter per member (per client address when anonymous): one atomic
    cache increment a request. DRF's own throttles keep every request's timestamp of the
    window in one cached list, which a busy poller makes long and every request re-reads and
    re-writes. Reads `DIX_THROTTLE_RATE` at request time."""

    scope = "member"

    def get_rate(self) -> str:
        return str(settings.DIX_THROTTLE_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str:
        user = request.user
        ident = user.pk if user is not None and user.is_authenticated else self.get_ident(request)
        return f"throttle:{self.scope}:{ident}"

    def allow_request(self, request: Request, view: Any) -> bool:
        limit, duration = self.parse_rate(self.get_rate())
        if limit is None or duration is None:
            return True
        now = time.time()
        window = int(now // duration)
        key = f"{self.get_cache_key(request, view)}:{window}"
        cache.add(key, 0, timeout=duration + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=duration + 1)
            count = 1
        self._retry_after = (window + 1) * duration - now
        return count <= limit

    def wait(self) -> float:
        return max(1.0, self._retry_after)
