"""GET /exports/<kind>.<csv|xlsx>?region=&stage=&tier= for signed-in users (scoped by role)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone

from importers.exports import KINDS, export
from registry.permissions import role_of

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
def export_view(request, kind, fmt):
    if role_of(request.user) is None:
        return HttpResponseForbidden("This account has no Cultivar role.")
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


@login_required
def rejected_rows_view(request, job_id):
    """GET /imports/<id>/rejected: the import's rejected rows with their reasons (importers.exports.rejected_rows),
    for the user who started the import or an administrator."""
    from urllib.parse import quote

    from django.http import Http404

    from importers.exports import rejected_rows
    from importers.services import jobs_visible_to

    job = jobs_visible_to(request.user).filter(pk=job_id).first()
    if job is None:
        raise Http404("No such import for you.")
    try:
        filename, body, content_type = rejected_rows(job)
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
