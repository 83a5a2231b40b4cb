"""POST /graphql/upload: the GraphQL multipart request spec on top of the core view.

Form fields `operations` (the JSON request), `map` ({"0": ["variables.file"]}) and the file parts
("0"). Files are bound into the variables, then the request runs like any other (same auth, CSRF
rules and limits as /graphql). urls.py: path("graphql/upload", UploadGraphQLView.as_view()).
"""

import json

from django.http import HttpResponseBadRequest

from api_graphql.views import CultivarGraphQLView


def _bind(operations, path, value):
    target = operations
    parts = path.split(".")
    for key in parts[:-1]:
        target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
    last = parts[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


class UploadGraphQLView(CultivarGraphQLView):
    graphiql = False

    def parse_body(self, request):
        if request.content_type != "multipart/form-data":
            return super().parse_body(request)
        if "operations" not in request.POST:
            return super().parse_body(request)
        try:
            operations = json.loads(request.POST["operations"])
            mapping = json.loads(request.POST.get("map") or "{}")
            for part, paths in mapping.items():
                upload = request.FILES.get(part)
                if upload is None:
                    raise ValueError(f"file part {part!r} named in map is missing")
                for path in paths:
                    _bind(operations, path, upload)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            from graphene_django.views import HttpError

            raise HttpError(HttpResponseBadRequest(f"Malformed multipart GraphQL request: {error}"))
        return operations
