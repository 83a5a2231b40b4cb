"""The region picker's endpoint: GET /regions/ (the user's top regions), ?parent=CODE (its children),
?q=TEXT (a search by name, pinyin, initials or code). JSON, only regions in the user's scope."""

from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _

from web import regions
from web.access import page

MAX_QUERY = 40


@page("firms")  # every role: each page with a region filter uses the picker
def region_tree(request):
    text, parent = request.GET.get("q"), request.GET.get("parent")
    if text is not None:
        if len(text) > MAX_QUERY:
            return JsonResponse({"error": _("搜索词“q”不能超过 %(n)d 个字符。") % {"n": MAX_QUERY}}, status=400)
        found = regions.search(request.user, text)
    elif parent:
        found = regions.children(request.user, parent.strip())
        if found is None:  # unknown or outside the user's regions: the same answer
            raise Http404
    else:
        found = regions.roots(request.user)
    response = JsonResponse({"regions": found})
    response["Cache-Control"] = "private, max-age=60"
    return response
