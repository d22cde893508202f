"""The endpoints of TAXII 2.1 §4–§5 that a read-only server serves, under `/taxii2/`.

Each view reads `feed.entries(member)` (what the member may see, decided by the STIX mapping
through the models' `visible_to`), keeps what the collection holds, filters and pages it.
Nothing a member may not see is counted, dated or named anywhere: a collection's objects,
the `X-TAXII-Date-Added-*` headers and `more` are all computed from the member's own entries,
and an object the member may not see is a 404 like one that does not exist.

Exports are audited: one `taxii.export` event per objects, object or versions answer that
returns anything. A refused object or versions read of an object that exists is recorded as
the API records it (`read.denied` on the profile, notice or seizure report the STIX id stands
for, once per member, object and hour).
"""

from dataclasses import replace
from typing import Any, cast

from django.conf import settings
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from exchange.stix import feed
from exchange.stix.entry import Entry
from exchange.stix.objects import MARKING_LABELS
from exchange.taxii import paging
from exchange.taxii.auth import TaxiiAuthentication
from exchange.taxii.collections import COLLECTIONS, STIX_MEDIA_TYPE, Collection, find
from exchange.taxii.errors import InvalidParameter, NotFound, ReadOnly, taxii_exception_handler
from exchange.taxii.media import TAXII_MEDIA_TYPE, TaxiiNegotiation, TaxiiRenderer
from intel import audit
from intel.api.permissions import IsNetworkMember
from intel.api.visible import record_refused_read
from intel.models import TLP, Member

# What the listing endpoints take (§3.3–§3.5). Any other `match[...]` is ignored, as docs/taxii.md
# says; any other parameter is a typo that would silently widen the answer, so it is a 400.
LISTING_PARAMETERS = ("added_after", "limit", "next")

DATE_ADDED_FIRST = "X-TAXII-Date-Added-First"
DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"


class TaxiiView(APIView):
    """TAXII's media type, credentials and error messages on every answer."""

    authentication_classes = [TaxiiAuthentication]
    permission_classes = [IsNetworkMember]
    renderer_classes = [TaxiiRenderer]
    content_negotiation_class = TaxiiNegotiation
    parser_classes = ()  # nothing is ever read from a request body
    # No OPTIONS (TAXII defines none): a 405 like any other method a resource lacks.
    http_method_names = ["get", "head", "post", "put", "patch", "delete"]
    schema = None  # not part of /api/'s OpenAPI document: TAXII is its own specification

    # The parameters this endpoint takes besides `match[...]` (see LISTING_PARAMETERS).
    query_parameters: tuple[str, ...] = ()

    def get_exception_handler(self) -> Any:
        return taxii_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authenticated first, as for a 404
        for name in request.query_params:
            if name not in self.query_parameters and not (
                self.query_parameters and name.startswith("match[") and name.endswith("]")
            ):
                raise InvalidParameter(name, "not a parameter of this endpoint.")

    @property
    def member(self) -> Member:
        return cast(Member, self.request.user)

    def collection(self, key: str) -> Collection:
        found = find(key)
        if found is None:
            raise NotFound(f"No collection {key!r} in this API root.")
        return found

    def entries(self, collection: Collection) -> list[Entry]:
        return [e for e in feed.entries(self.member) if collection.holds(e)]

    def versions_of(self, collection: Collection, object_id: str) -> list[Entry]:
        """The versions of one object the member receives in the collection; else 404,
        recording the refusal when the id names an object the member may not see."""
        versions = [e for e in self.entries(collection) if e.stix_id == object_id]
        if not versions:
            hidden = feed.hidden_behind(object_id, self.member)
            if hidden is not None:
                record_refused_read(
                    hidden.model, hidden.pk, member=self.member, object_type=hidden.object_type
                )
            raise NotFound(f"No object {object_id!r} in this collection.")
        return versions

    def page(self, collection: Collection, query: paging.Query) -> paging.Page:
        """One page of a listing: built from the part of the feed after the cursor."""
        if paging.windowed(query):
            return paging.paged(self.member, collection.holds, query)
        return paging.page(paging.select(self.entries(collection), query), query)


def _dated(response: Response, items: list[Entry]) -> Response:
    """§3.2: the date_added of the first and last object of this answer (none when empty)."""
    if items:
        response[DATE_ADDED_FIRST] = paging.taxii_timestamp(items[0].date_added)
        response[DATE_ADDED_LAST] = paging.taxii_timestamp(items[-1].date_added)
    return response


def _envelope(page: paging.Page, key: str, values: list[Any]) -> dict[str, Any]:
    """§3.7: `more` always said; `next` whenever `more`; the list left out when empty (it
    holds "one or more")."""
    body: dict[str, Any] = {"more": page.more}
    if page.next is not None:
        body["next"] = page.next
    if values:
        body[key] = values
    return body


def _highest_label(items: list[Entry]) -> str:
    labels = {
        MARKING_LABELS[ref]
        for e in items
        for ref in e.obj.get("object_marking_refs", [])
        if ref in MARKING_LABELS
    }
    return max(labels, key=TLP.rank) if labels else ""


def _audit_export(
    view: TaxiiView, collection: Collection, endpoint: str, items: list[Entry], **detail: Any
) -> None:
    if not items:
        return
    audit.record(
        action="taxii.export",
        actor=view.member,
        object_type="taxii-collection",
        object_id=collection.id,
        object_tlp=_highest_label(items),
        request=view.request,
        detail={"collection": collection.alias, "endpoint": endpoint, "count": len(items)} | detail,
    )


class DiscoveryView(TaxiiView):
    """§4.1 Server Discovery."""

    def get(self, request: Request) -> Response:
        root = request.build_absolute_uri(reverse("taxii:api-root"))
        return Response(
            {
                "title": "DIX — Device Intelligence Exchange",
                "description": "STIX 2.1 intelligence about contraband device models shared "
                "by judicial and law-enforcement desks: each member receives what DIX's "
                "visibility rules (TLP 2.0, recipients, grants) let them see.",
                "default": root,
                "api_roots": [root],
            }
        )


class ApiRootView(TaxiiView):
    """§4.2 API Root Information."""

    def get(self, request: Request) -> Response:
        return Response(
            {
                "title": "DIX",
                "description": "DIX's collections (read-only).",
                "versions": [TAXII_MEDIA_TYPE],
                # Must be > 0; nothing is accepted here, so it states the server's body limit.
                "max_content_length": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
            }
        )


class StatusView(TaxiiView):
    """§4.3 Get Status: nothing is ever posted to DIX, so there is no status to report."""

    def get(self, request: Request, status_id: str) -> Response:
        raise NotFound(
            f"No status resource {status_id!r}: this API root accepts no objects, so it "
            "has no status resources."
        )


class CollectionsView(TaxiiView):
    """§5.1 Get Collections, in a fixed order."""

    def get(self, request: Request) -> Response:
        return Response({"collections": [c.resource() for c in COLLECTIONS]})


class CollectionView(TaxiiView):
    """§5.2 Get a Collection, by id or alias."""

    def get(self, request: Request, collection: str) -> Response:
        return Response(self.collection(collection).resource())


class ManifestView(TaxiiView):
    """§5.3 Get Object Manifests."""

    query_parameters = LISTING_PARAMETERS

    def get(self, request: Request, collection: str) -> Response:
        found = self.collection(collection)
        query = paging.parse_query(
            request.query_params, matches=("id", "type", "version", "spec_version")
        )
        page = self.page(found, query)
        records = [
            {
                "id": e.stix_id,
                "date_added": paging.taxii_timestamp(e.date_added),
                "version": e.version,
                "media_type": STIX_MEDIA_TYPE,
            }
            for e in page.items
        ]
        return _dated(Response(_envelope(page, "objects", records)), page.items)


class ObjectsView(TaxiiView):
    """§5.4 Get Objects; §5.5 Add Objects is refused (the collection is read-only)."""

    query_parameters = LISTING_PARAMETERS

    def get(self, request: Request, collection: str) -> Response:
        found = self.collection(collection)
        query = paging.parse_query(
            request.query_params, matches=("id", "type", "version", "spec_version")
        )
        page = self.page(found, query)
        _audit_export(self, found, "objects", page.items)
        body = _envelope(page, "objects", [e.obj for e in page.items])
        return _dated(Response(body), page.items)

    def post(self, request: Request, collection: str) -> Response:
        self.collection(collection)
        raise ReadOnly("DIX's TAXII collections are read-only (can_write is false).")


class ObjectView(TaxiiView):
    """§5.6 Get an Object; §5.7 Delete an Object is refused (read-only)."""

    query_parameters = LISTING_PARAMETERS

    def get(self, request: Request, collection: str, object_id: str) -> Response:
        found = self.collection(collection)
        versions = self.versions_of(found, object_id)
        query = paging.parse_query(request.query_params, matches=("version", "spec_version"))
        page = paging.page(paging.select(versions, query), query)
        _audit_export(self, found, "object", page.items, object_id=object_id)
        body = _envelope(page, "objects", [e.obj for e in page.items])
        return _dated(Response(body), page.items)

    def delete(self, request: Request, collection: str, object_id: str) -> Response:
        self.collection(collection)
        raise ReadOnly("DIX's TAXII collections are read-only (can_write is false).")


class VersionsView(TaxiiView):
    """§5.8 Get Object Versions."""

    query_parameters = LISTING_PARAMETERS

    def get(self, request: Request, collection: str, object_id: str) -> Response:
        found = self.collection(collection)
        versions = self.versions_of(found, object_id)
        query = paging.parse_query(request.query_params, matches=("spec_version",))
        query = replace(query, versions=("all",))
        page = paging.page(paging.select(versions, query), query)
        _audit_export(self, found, "versions", page.items, object_id=object_id)
        body = _envelope(page, "versions", [e.version for e in page.items])
        return _dated(Response(body), page.items)


class UnknownView(TaxiiView):
    """Any other path under /taxii2/: a TAXII 404 (after authentication, like the rest)."""

    # core.slashes: a TAXII path sent without its slash is served, not answered here.
    answers_unknown_paths = True

    def get(self, request: Request, rest: str = "") -> Response:
        hint = "" if request.path.endswith("/") else " TAXII URLs end with '/'."
        raise NotFound(f"No TAXII resource at {request.path!r}.{hint}")
