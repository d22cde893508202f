"""The seizure statistics page: reports and devices by month and by country, over the
reports the member may read and, for those who brief the network, over the whole network
(suppressed cells shown as "fewer than N"). The same function and shape as
`GET /api/v1/seizures/stats/` (`seizure_stats`, `render_network_stats`)."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.charts import bar_chart
from portal.guard import member, member_page
from seizures import policies
from seizures.shapes import render_network_stats
from seizures.stats import NETWORK, READABLE, seizure_stats


def figures(member_scope: str, group: str, request: HttpRequest) -> dict[str, Any]:
    """The API's answer to `?group_by=<group>&scope=<member_scope>` for the member."""
    stats = seizure_stats(member=member(request), group_by=(group,), scope=member_scope)
    return render_network_stats(stats)


def _section(scope: str, request: HttpRequest, title: str) -> dict[str, Any]:
    by_month = figures(scope, "month", request)
    by_country = figures(scope, "country", request)
    fewer = _("fewer than %(n)s reports") % {"n": by_month["min_cell"]}
    return {
        "scope": scope,
        "title": title,
        "by_month": by_month,
        "by_country": by_country,
        "fewer": fewer,
        "month_chart": bar_chart(
            _("%(title)s: devices seized by month") % {"title": title},
            [(row["month"], row.get("devices")) for row in by_month["rows"]],
            chart_id=f"{scope}-month",
            hidden=fewer,
        ),
        "country_chart": bar_chart(
            _("%(title)s: devices seized by country") % {"title": title},
            [(row["country"], row.get("devices")) for row in by_country["rows"]],
            chart_id=f"{scope}-country",
            hidden=fewer,
        ),
    }


@member_page
def stats(request: HttpRequest) -> HttpResponse:
    sections = [_section(READABLE, request, _("Reports you may read"))]
    if policies.may_see_network_stats(member(request)):
        sections.append(_section(NETWORK, request, _("The whole network")))
    return render(request, "portal/seizures/stats.html", {"sections": sections})
