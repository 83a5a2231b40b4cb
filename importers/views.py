"""GET /exports/<kind>.<csv|xlsx>?region=&stage=&tier=&page= for signed-in users or API tokens (scoped by role).

Authentication as on /graphql: a session, or `Authorization: Token|Bearer <key>`. A large export
comes in pages: the response names its page and the page count (`X-Page`, `X-Page-Count`,
`X-Total-Count`, a `Link: rel="next"` header, and `-page1of3` in the file name), so a cut is never
silent. CSV streams (bounded memory); XLSX is built in memory, one page at most.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, StreamingHttpResponse
from django.utils import timezone

from api_graphql.core.auth import TokenError, authenticate_token, token_from_header
from importers.exports import CONTENT_TYPES, KINDS, ExportRefused, csv_lines, export, page_info, rows_for
from registry.permissions import role_of



def export_view(request, kind, fmt):
    try:
        key = token_from_header(request)
        if key is not None:
            request.user = authenticate_token(key)
    except TokenError as error:
        response = HttpResponse(str(error), status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = "Token"
        return response
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    if role_of(request.user) is None:
        return HttpResponseForbidden("This account has no Cultivar role.")
    if kind not in KINDS or fmt not in CONTENT_TYPES:
        return HttpResponseBadRequest(f"Exports: {', '.join(KINDS)} as csv or xlsx.")
    filters = {"region": request.GET.get("region"), "stage": request.GET.get("stage")}
    if kind == "candidates":
        filters["tier"] = request.GET.get("tier")
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        return HttpResponseBadRequest("page must be a whole number (1, 2, ...).")
    try:
        info = page_info(kind, request.user, page, **filters)
        if fmt == "csv":
            response = StreamingHttpResponse(csv_lines(rows_for(kind, request.user, page=page, **filters)),
                                             content_type=CONTENT_TYPES[fmt])
        else:
            response = HttpResponse(export(kind, request.user, fmt, page=page, **filters), content_type=CONTENT_TYPES[fmt])
    except ExportRefused as error:
        return HttpResponseForbidden(str(error))
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    part = f"-page{info.page}of{info.pages}" if info.pages > 1 else ""
    response["Content-Disposition"] = f'attachment; filename="{kind}-{timezone.localdate():%Y%m%d}{part}.{fmt}"'
    response["X-Total-Count"] = str(info.total)
    response["X-Page"] = str(info.page)
    response["X-Page-Count"] = str(info.pages)
    if info.page < info.pages:
        query = request.GET.copy()
        query["page"] = str(info.page + 1)
        response["Link"] = f'<{request.path}?{query.urlencode()}>; rel="next"'
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
