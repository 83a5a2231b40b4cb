"""A real ``Elasticsearch`` client wired to an in-memory node: everything up to the wire runs.

The node records each request (method, path, query string, decoded body) and answers from a
tiny model of indices and aliases, so the client's own serialisation, ``helpers.bulk`` chunking and
error mapping are exercised without a server.
"""

import fnmatch
import json
from urllib.parse import parse_qs, unquote, urlsplit

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elasticsearch import Elasticsearch

from search.backends.elasticsearch import ElasticsearchBackend


class Call:
    def __init__(self, method, path, params, body):
        self.method, self.path, self.params, self.body = method, path, params, body

    def __repr__(self):
        return f"Call({self.method} {self.path})"


class FakeCluster:
    """Indices and aliases, plus canned answers a test can set (search_response — an answer, or a
    function of the request body —, bulk_errors)."""

    def __init__(self):
        self.calls: list[Call] = []
        self.aliases: dict[str, set[str]] = {}  # index -> aliases
        self.search_response = {"hits": {"total": {"value": 0}, "hits": []}}
        self.bulk_errors = set()  # _id values whose bulk item fails
        self.bulk_status = 400
        self.fail_with = None  # an exception the node raises instead of answering
        self.fail_when = lambda method, path, body: False  # answer 500 to matching requests

    def add_index(self, name, *aliases):
        self.aliases[name] = set(aliases)

    def calls_to(self, method, path_fragment=""):
        return [c for c in self.calls if c.method == method and path_fragment in c.path]

    def handle(self, method, path, params, body):
        self.calls.append(Call(method, path, params, body))
        if self.fail_when(method, path, body):
            return 500, {"error": {"type": "engine_detail", "reason": "secret engine text"}, "status": 500}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[0] == "_bulk":
            return 200, self._bulk(body)
        if parts[0] == "_aliases":
            for action in body["actions"]:
                (kind, spec), = action.items()
                targets = self.aliases.setdefault(spec["index"], set())
                (targets.add if kind == "add" else targets.discard)(spec["alias"])
            return 200, {"acknowledged": True}
        if parts[0] == "_alias":
            found = {i: {"aliases": {parts[1]: {}}} for i, a in self.aliases.items() if parts[1] in a}
            return (200, found) if found else (404, {"error": "alias missing", "status": 404})
        if len(parts) == 2 and parts[1] == "_search":
            return 200, self.search_response(body) if callable(self.search_response) else self.search_response
        if len(parts) == 2 and parts[1] == "_count":
            return 200, {"count": 30}
        if len(parts) == 2 and parts[1] in ("_settings", "_refresh"):
            return 200, {"acknowledged": True}
        if method == "PUT":
            self.aliases[parts[0]] = set()
            return 200, {"acknowledged": True, "index": parts[0]}
        if method == "DELETE":
            for name in parts[0].split(","):
                self.aliases.pop(name, None)
            return 200, {"acknowledged": True}
        if method == "GET":
            return 200, {i: {} for i in self.aliases if fnmatch.fnmatch(i, parts[0])}
        raise AssertionError(f"unexpected request {method} {path}")

    def _bulk(self, lines):
        items, i = [], 0
        while i < len(lines):
            (kind, meta), = lines[i].items()
            i += 1 if kind == "delete" else 2  # every action but delete is followed by its source
            failed = meta["_id"] in self.bulk_errors
            item = {"_index": meta["_index"], "_id": meta["_id"], "status": self.bulk_status if failed else 200}
            if failed:
                item["error"] = {"type": "engine_detail", "reason": "secret engine text"}
            items.append({kind: item})
        return {"took": 1, "errors": any(next(iter(i.values()))["status"] >= 300 for i in items), "items": items}


def make_node_class(cluster):
    class RecordingNode(BaseNode):
        def perform_request(self, method, target, body=None, headers=None, request_timeout=None):
            if cluster.fail_with is not None:
                raise cluster.fail_with
            url = urlsplit(target)
            decoded = None
            if body:
                text = body.decode()
                decoded = ([json.loads(line) for line in text.splitlines() if line.strip()]
                           if url.path.endswith("_bulk") else json.loads(text))
            status, answer = cluster.handle(method, url.path, parse_qs(url.query), decoded)
            meta = ApiResponseMeta(status=status, http_version="1.1", duration=0.0, node=self.config,
                                   headers=HttpHeaders({"content-type": "application/json",
                                                        "x-elastic-product": "Elasticsearch"}))
            return NodeApiResponse(meta, json.dumps(answer).encode())

        def close(self):
            pass

    return RecordingNode


class RecordingLock:
    def __init__(self):
        self.events = []

    def __call__(self):
        return self

    def __enter__(self):
        self.events.append("enter")
        return self

    def __exit__(self, *exc):
        self.events.append("exit")


def fake_backend(cluster=None, **kwargs):
    cluster = cluster or FakeCluster()
    client = Elasticsearch("http://search.invalid:9200", node_class=make_node_class(cluster), max_retries=0)
    kwargs.setdefault("lock", RecordingLock())
    kwargs.setdefault("clock", lambda: 1767225600.25)  # 2026-01-01 00:00:00.25 UTC
    return ElasticsearchBackend(client, **kwargs), cluster
