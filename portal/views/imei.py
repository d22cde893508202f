"""The IMEI check page: paste a list or upload a CSV (up to 100,000), see the matches with links
to the profiles the member may see, download every row as CSV. The same service as
`POST /api/v1/imei-checks/` (`imei_check_perform`): one audit event with counts and a digest;
the IMEIs themselves are answered and forgotten, never stored."""

import csv
from collections.abc import Iterator
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.errors import ApplicationError
from intel.api.imei_input import imeis_from_csv
from intel.imei import MAX_ITEMS, REASONS, ImeiCheck, imei_check_perform
from portal.guard import member, member_page, posted

SHOWN = 100


class ImeiForm(forms.Form):
    pasted = forms.CharField(
        label=_("IMEIs, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=_("14 or 15 digits (IMEI) or 16 (IMEISV); spaces and hyphens are ignored."),
    )
    upload = forms.FileField(
        label=_("Or a CSV file (first column)"),
        required=False,
        help_text=_("Up to 100,000 rows, UTF-8, as spreadsheets export it; a header is fine."),
    )

    def imeis(self) -> list[str]:
        upload = self.cleaned_data.get("upload")
        if upload is not None:
            try:
                return imeis_from_csv(upload.read(), field="upload")
            except serializers.ValidationError as exc:
                self.add_error("upload", " ".join(map(str, dict(exc.detail)["upload"])))  # type: ignore[arg-type]
                return []
        lines = self.cleaned_data.get("pasted", "").splitlines()
        return [line.strip() for line in lines if line.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("pasted", "").strip() and data.get("upload") is None:
            raise forms.ValidationError(_("Paste IMEIs or choose a CSV file."))
        return data


@member_page
def imei_check(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = ImeiForm(*posted(request, files=True))
    result: ImeiCheck | None = None
    if request.method == "POST" and form.is_valid():
        imeis = form.imeis()
        if len(imeis) > MAX_ITEMS:
            form.add_error(None, _("At most 100,000 IMEIs per check: split the list."))
        elif imeis:
            try:
                result = imei_check_perform(member=member(request), imeis=imeis, source="portal")
            except ApplicationError as exc:
                form.add_error(None, str(exc.detail))
        if result is not None and "csv" in request.POST:
            return _csv(result)
    context: dict[str, Any] = {"form": form, "result": result}
    if result is not None:
        context["rows"] = list(_rows(result, limit=SHOWN))
        context["profiles"] = {p["id"]: p for p in result.profiles}
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "portal/imei_check.html", context, status=status)


def _rows(result: ImeiCheck, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
    for index, (raw, item) in enumerate(zip(result.inputs, result.checked, strict=True)):
        if limit is not None and index >= limit:
            return
        tac = item.value[:8] if item.value else ""
        yield {
            "input": raw,
            "normalised": item.value or "",
            "kind": item.kind or "",
            "valid": item.value is not None,
            "reason": REASONS.get(item.reason or "", ""),
            "tac": tac,
            "profiles": result.matches.get(tac, []) if tac else [],
        }


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(result: ImeiCheck) -> StreamingHttpResponse:
    names = {p["id"]: p["name"] for p in result.profiles}
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(["input", "normalised", "kind", "valid", "reason", "tac", "profiles"])
        for row in _rows(result):
            profiles = "; ".join(f"{pid} {names.get(pid, '')}".strip() for pid in row["profiles"])
            yield writer.writerow(
                [
                    row["input"],
                    row["normalised"],
                    row["kind"],
                    "yes" if row["valid"] else "no",
                    row["reason"],
                    row["tac"],
                    profiles,
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="dix-imei-check.csv"'
    return response
