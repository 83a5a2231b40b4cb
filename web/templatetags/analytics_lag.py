"""{% analytics_lag %}: the note shown while the precomputed tables are behind a large write
(registry.models.PipelineState.behind_since) — answers are as of their last complete rebuild.

For admins, analysts and officers (who read the analytics and candidates); investors see nothing.
A page whose own reads already returned the state it shows (the candidates page: read_page reads the
ranking's state with its total) puts it in the context as `lag_as_of` (None: not behind), and the tag
uses that instead of a query of its own.
"""

from django import template

from registry.models import PipelineState, Role
from registry.permissions import role_of

register = template.Library()


@register.inclusion_tag("web/_analytics_lag.html", takes_context=True)
def analytics_lag(context):
    request = context.get("request")
    if request is None or role_of(request.user) not in (Role.ADMIN, Role.ANALYST, Role.OFFICER):
        return {"as_of": None}
    if "lag_as_of" in context:
        return {"as_of": context["lag_as_of"]}
    behind = PipelineState.objects.filter(complete=True, behind_since__isnull=False).order_by("rebuilt_at").first()
    return {"as_of": behind.rebuilt_at if behind else None}
