"""The GraphQL endpoint: authentication, CSRF, limits, loaders and field permissions wired in.

- Token requests (`Authorization: Token <key>`) are exempt from CSRF; session requests keep
  Django's CSRF check (the view runs CsrfViewMiddleware itself, as DRF does).
- Unauthenticated (or role-less) POSTs get HTTP 401 (403 for no role) with a GraphQL-style
  `{"errors": [...]}` body and no data. GET with a browser shows GraphiQL to signed-in users and
  redirects others to the login page.
- Limits (core/limits.py): document size and tokens before/while parsing, then one linear walk for
  operations, depth, aliases, cost, page sizes, introspection and repeated fields; graphql-core's
  standard rules run only on a document within them. A batch (a JSON list body) is refused.
- Execution uses CultivarExecutionContext (core/execution.py): per-request dataloaders batch, field
  scope is checked once per field of the query, plain leaves complete inline.
- Parse + validation results are cached per (query, limits), the verdict per page-size variables
  (filters may vary and still hit); mutations run in one transaction (each service call in its own savepoint, see core/mutations.py).
- Unexpected exceptions are logged and answered with a neutral message.
"""

import json
import logging
from collections import OrderedDict

import orjson
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast, validate
from graphql.type import validate_schema

from api_graphql.core.auth import TokenError, authenticate_token, token_from_header
from api_graphql.core.execution import CultivarExecutionContext
from api_graphql.core.fastpath import FastPage, root_field
from api_graphql.core.limits import check_document, limits_key, page_variables, parse_limited
from api_graphql.core.permissions import request_role
from api_graphql.core.validation import rules_for

logger = logging.getLogger(__name__)
BATCH_REFUSED = ("Batched requests (a JSON list of operations) are not supported: send one operation per "
                 "request.")
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


# graphene-django's dispatch without its ensure_csrf_cookie decorator (which masks a new CSRF token with two
# random strings, ~0.2 ms, and sets the cookie on every response).
GRAPHENE_DISPATCH = GraphQLView.__dict__["dispatch"].__wrapped__


@method_decorator(csrf_exempt, name="dispatch")
class CultivarGraphQLView(GraphQLView):
    execution_context_class = CultivarExecutionContext
    graphiql = True

    def __init__(self, **kwargs):
        # No graphene middleware (not even DjangoDebugMiddleware under DEBUG): one would wrap every
        # resolved field; field scope lives in the execution context instead.
        kwargs.setdefault("middleware", [])
        super().__init__(**kwargs)

    def dispatch(self, request, *args, **kwargs):
        """The API answers JSON, always: an unexpected exception (the database gone or locked) is logged
        and becomes a 500 with `{"errors": [...]}`, never Django's HTML debug page."""
        try:
            return self.checked_dispatch(request, *args, **kwargs)
        except Exception:  # noqa: BLE001 - the traceback goes to the log, not to the client
            logger.exception("GraphQL request failed")
            return error_response(500, "Internal server error; it has been logged. Please try again.")

    def checked_dispatch(self, request, *args, **kwargs):
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
        if key is not None:  # a token client has no use for a CSRF cookie: skip ensure_csrf_cookie's new token
            return GRAPHENE_DISPATCH(self, request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def parse_body(self, request):
        if self.get_content_type(request) == "application/json" and request.body.lstrip()[:1] == b"[":
            raise HttpError(HttpResponseBadRequest(BATCH_REFUSED))
        return super().parse_body(request)

    def json_encode(self, request, d, pretty=False):
        """The response body: orjson (UTF-8, compact) — json.dumps of a page of 100 firms cost ~0.5 ms, a
        tenth of the request; pretty output (GraphiQL, `?pretty`) and anything orjson refuses (an int
        beyond 64 bits) keep graphene-django's json.dumps."""
        if not (self.pretty or pretty) and not request.GET.get("pretty"):
            try:
                return orjson.dumps(d)
            except TypeError:
                pass
        return super().json_encode(request, d, pretty)

    @staticmethod
    def format_error(error):
        """Errors we raise on purpose keep their message; an unexpected Python exception is logged with its
        traceback and answered with a neutral message (no exception text, paths or SQL leak to clients)."""
        original = getattr(error, "original_error", None)
        if isinstance(error, GraphQLError) and original is not None and not isinstance(original, GraphQLError):
            logger.error("GraphQL resolver failed at %s", error.path, exc_info=original)
            formatted = GraphQLView.format_error(error)
            formatted["message"] = "Internal error while resolving this field; it has been logged."
            return formatted
        return GraphQLView.format_error(error)

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        """graphene-django's flow, with parse + validation cached per (query, limits) and page-size variables.

        Dashboards send the same few queries over and over; parsing and running ~30 validation
        rules over them each time costs more than the SQL of a page of firms.
        """
        if not query:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseBadRequest("Must provide query string."))
        variables = variables if isinstance(variables, dict) else None
        try:
            document, operation_ast, errors = checked_document(self.schema, query, operation_name, variables)
        except GraphQLError as error:
            return ExecutionResult(errors=[error])
        if errors:
            return ExecutionResult(data=None, errors=errors)
        if request.method.lower() == "get" and operation_ast is not None \
                and operation_ast.operation != OperationType.QUERY:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseNotAllowed(
                ["POST"], f"Can only perform a {operation_ast.operation.value} operation from a POST request."))
        root_node = root_field(document, operation_ast)  # a few attribute tests
        if root_node is not None:  # a page answered from rows without the executor (core/fastpath.py), or None
            data = FastPage(self.schema.graphql_schema, operation_ast, root_node, request, self.get_root_value(request),
                            variables).run()
            if data is not None:
                return ExecutionResult(data=data)
        try:
            options = {
                "root_value": self.get_root_value(request), "context_value": self.get_context(request),
                "variable_values": variables, "operation_name": operation_name,
                "middleware": self.get_middleware(request), "execution_context_class": self.execution_context_class,
            }
            if operation_ast is not None and operation_ast.operation == OperationType.MUTATION:
                with transaction.atomic():
                    return execute(self.schema.graphql_schema, document, **options)
            return execute(self.schema.graphql_schema, document, **options)
        except Exception as error:  # noqa: BLE001 - graphene-django answers the same way
            return ExecutionResult(errors=[error])


DOCUMENT_CACHE_SIZE = 512
# Dashboards repeat short queries; a long one (up to GRAPHQL_MAX_DOCUMENT_BYTES) is checked each time
# instead, so the cache stays a few MB per process.
DOCUMENT_CACHE_MAX_CHARS = 20_000
# Limit verdicts kept per document, one per distinct set of page-size variables (`$first`).
VERDICTS_PER_DOCUMENT = 16
_documents = OrderedDict()
MISSING = object()


def evict_oldest(cache):
    try:
        cache.popitem(last=False)
    except KeyError:  # emptied by another thread meanwhile (gthread workers share the caches)
        pass


class CheckedDocument:
    """A parsed document, its operation, and its verdicts (limit and validation errors) per page-size variables."""

    __slots__ = ("document", "operation_ast", "page_variables", "rules", "verdicts")

    def __init__(self, query, document, operation_ast):
        self.document, self.operation_ast = document, operation_ast
        self.page_variables = page_variables(document)
        self.rules = rules_for(query, document)  # the standard rules this document gives something to check
        self.verdicts = OrderedDict()

    def errors(self, schema, variables):
        """The limit walk reads only the `first`/`last` variables and the standard rules none, so the
        verdict is kept per values of those: a dashboard varying its filters re-uses it."""
        try:
            key = json.dumps([(variables or {}).get(name) for name in self.page_variables], default=str)
        except (TypeError, ValueError):
            key = None
        known = self.verdicts.get(key, MISSING) if key is not None else MISSING
        if known is not MISSING:
            return known
        errors = (validate_schema(schema.graphql_schema)
                  or check_document(schema.graphql_schema, self.document, variables)
                  or validate(schema.graphql_schema, self.document, self.rules,
                              graphene_settings.MAX_VALIDATION_ERRORS))
        if key is not None:
            self.verdicts[key] = errors
            if len(self.verdicts) > VERDICTS_PER_DOCUMENT:
                evict_oldest(self.verdicts)
        return errors


def checked_document(schema, query, operation_name, variables):
    """(document, operation, validation errors); the parse is memoised per (query, operation, limit
    settings), the verdict per page-size variables (CheckedDocument.errors)."""
    key = (id(schema), query, operation_name, limits_key()) if len(query) <= DOCUMENT_CACHE_MAX_CHARS else None
    entry = _documents.get(key) if key is not None else None
    if entry is not None:
        try:
            _documents.move_to_end(key)
        except KeyError:  # evicted by another thread meanwhile (gthread workers share the cache)
            pass
    else:
        document = parse_limited(query)  # GraphQLError on syntax errors, size and token limits
        entry = CheckedDocument(query, document, get_operation_ast(document, operation_name))
        if key is not None:
            _documents[key] = entry
            if len(_documents) > DOCUMENT_CACHE_SIZE:
                evict_oldest(_documents)
    return entry.document, entry.operation_ast, entry.errors(schema, variables)
