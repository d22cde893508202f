"""TAXII media types and content negotiation (TAXII 2.1 §1.6.8).

Every response is `application/taxii+json;version=2.1`, envelopes and errors included (2.1
wraps STIX objects in its own envelope, §3.7). A request is served when its `Accept` names
`application/taxii+json` with version 2.1 *or no version* (versionless means the latest the
server speaks, §1.6.8.2: DRF's negotiation would answer 406 there), or any media range that
covers it (`*/*`, `application/*`), or when it sends no `Accept` at all (RFC 9110 §12.5.1:
any type is acceptable). Anything else, `application/json` and other TAXII versions
included, is a 406.
"""

from collections.abc import Iterable

from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
VERSION = "2.1"


class TaxiiRenderer(JSONRenderer):
    media_type = TAXII_MEDIA_TYPE
    format = "taxii"
    # No `; charset=` appended: JSON is UTF-8 by definition, and the header stays exactly the
    # media type the spec shows.
    charset = None


def accepts_taxii(accept: str) -> bool:
    """Whether an `Accept` header value admits `application/taxii+json;version=2.1`."""
    if not accept.strip():
        return True
    for media_range in accept.split(","):
        name, *raw_params = (part.strip() for part in media_range.split(";"))
        params: dict[str, str] = {}
        for raw in raw_params:
            key, _, value = raw.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        if _quality(params.get("q")) <= 0:
            continue
        name = name.lower()
        if name in ("*/*", "application/*"):
            return True
        if name == "application/taxii+json" and params.get("version", VERSION) == VERSION:
            return True
    return False


def _quality(raw: str | None) -> float:
    if raw is None:
        return 1.0
    try:
        return float(raw)
    except ValueError:
        return 0.0


class TaxiiNegotiation(BaseContentNegotiation):
    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        if not accepts_taxii(request.META.get("HTTP_ACCEPT", "")):
            raise exceptions.NotAcceptable(
                "This server answers application/taxii+json;version=2.1 only; send it (or "
                "application/taxii+json) in the Accept header."
            )
        return renderer, str(renderer.media_type)
