from registry.permissions import role_of
from web.navigation import nav_for


def navigation(request):
    """The navigation bar of the signed-in user's role (empty for visitors)."""
    user = getattr(request, "user", None)
    role = getattr(request, "role", None) or (role_of(user) if user is not None else None)
    return {"nav": nav_for(role, getattr(request, "page", None)) if role else [], "web_role": role}
