"""The page decorator: signed in, holding a Cultivar role, and allowed this page (web.navigation)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from registry.permissions import role_of
from web.navigation import may_use


def page(key):
    """Wrap a view of page `key`: anonymous → sign-in; no role or a role not allowed → 403 page.

    The view gets `request.role` and `request.page` set.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            role = role_of(request.user)
            request.role, request.page = role, key
            if role is None or not may_use(role, key):
                return render(request, "web/refused.html", {"no_role": role is None}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
