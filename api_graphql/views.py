"""The GraphQL endpoint: authentication, CSRF, limits, loaders and field permissions wired in.

- Token requests (`Authorization: Token <key>`) are exempt from CSRF; session requests keep
  Django's CSRF check (the view runs CsrfViewMiddleware itself, as DRF does).
- Unauthenticated (or role-less) POSTs get HTTP 401 (403 for no role) with a GraphQL-style
  `{"errors": [...]}` body and no data. GET with a browser shows GraphiQL to signed-in users and
  redirects others to the login page.
- Validation rules: graphql-core's standard ones plus depth, alias, page-size and cost limits.
- Execution uses DeferredExecutionContext so per-request dataloaders batch.
"""

import json

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView
from api_graphql.core.execution import CultivarExecutionContext

from api_graphql.core.auth import TokenError, authenticate_token, token_from_header
from api_graphql.core.limits import validation_rules
from api_graphql.core.permissions import FieldPermissionMiddleware, request_role

AUTH_HELP = "Authentication required: sign in, or send 'Authorization: Token <key>' (see docs/api.md)."


def error_response(status, message, **headers):
    response = HttpResponse(
        json.dumps({"errors": [{"message": message}]}, ensure_ascii=False),
        status=status, content_type="application/json",
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _csrf_failure(request):
    """CsrfViewMiddleware's verdict for this request (None when it passes)."""
    check = CsrfViewMiddleware(lambda req: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


@method_decorator(csrf_exempt, name="dispatch")
class CultivarGraphQLView(GraphQLView):
    execution_context_class = CultivarExecutionContext
    graphiql = True

    def __init__(self, **kwargs):
        kwargs.setdefault("middleware", [FieldPermissionMiddleware()])
        super().__init__(**kwargs)

    def dispatch(self, request, *args, **kwargs):
        try:
            key = token_from_header(request)
            if key is not None:
                request.user = authenticate_token(key)
                request._cultivar_token_auth = True
        except TokenError as error:
            return error_response(401, str(error), WWW_Authenticate="Token")

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            if request.method == "GET" and self.request_wants_html(request):
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            return error_response(401, AUTH_HELP, WWW_Authenticate="Token")
        if request_role(request) is None:
            return error_response(403, "This account has no Cultivar role; ask an administrator (grant_role).")
        if key is None and request.method == "POST":
            failure = _csrf_failure(request)
            if failure is not None:
                return error_response(403, "CSRF check failed: send the csrftoken cookie and X-CSRFToken header, "
                                           "or use an API token.")
        return super().dispatch(request, *args, **kwargs)

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        self.validation_rules = validation_rules(variables if isinstance(variables, dict) else None)
        return super().execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)
