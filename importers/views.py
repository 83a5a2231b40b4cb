"""GET /exports/<kind>.<csv|xlsx>?region=&stage=&tier= for signed-in users (scoped by role)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone

from importers.exports import KINDS, export
from registry.permissions import can_read_cultivation, role_of

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
def export_view(request, kind, fmt):
    if role_of(request.user) is None:
        return HttpResponseForbidden("This account has no Cultivar role.")
    if kind == "candidates" and not can_read_cultivation(request.user):
        # Candidate lists explain gaps in internal indicators (revenue, R&D): not for investors, as in the API.
        return HttpResponseForbidden("Candidate lists are not available to the investor role.")
    if kind not in KINDS or fmt not in CONTENT_TYPES:
        return HttpResponseBadRequest(f"Exports: {', '.join(KINDS)} as csv or xlsx.")
    try:
        body = export(kind, request.user, fmt, region=request.GET.get("region"), stage=request.GET.get("stage"),
                      **({"tier": request.GET.get("tier")} if kind == "candidates" else {}))
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{kind}-{timezone.localdate():%Y%m%d}.{fmt}"'
    return response
