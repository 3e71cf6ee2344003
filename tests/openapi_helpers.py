"""The served OpenAPI document: its operations, $refs, the views behind them, calling them."""
import json
import re
import sys

OPENAPI = "/api/v1/openapi.json"
API_PREFIX = "/api/v1"
SCHEMAS_REF = "#/components/schemas/"
RESPONSES_REF = "#/components/responses/"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def operations(document):
    """Yield (path, method, operation) for every operation of the document."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def openapi_path(rule):
    """Turn a werkzeug rule such as /leads/<lead_id> into the OpenAPI /leads/{lead_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def implemented_operations(app):
    """Return {(OpenAPI path, method): view} for every /api/v1 rule of the app."""
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.rule == API_PREFIX or rule.rule.startswith(API_PREFIX + "/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found[(openapi_path(rule.rule), method.lower())] = \
                    app.view_functions[rule.endpoint]
    return found


def lookup(document, ref):
    """Return what a local $ref (#/...) points at."""
    assert ref.startswith("#/"), ref
    target = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def resolve(node, document):
    """Return node with every $ref replaced by (a resolved copy of) its target."""
    if isinstance(node, dict):
        if "$ref" in node:
            assert set(node) == {"$ref"}, f"$ref with siblings is not resolved here: {node}"
            return resolve(lookup(document, node["$ref"]), document)
        return {key: resolve(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(value, document) for value in node]
    return node


def is_keyed(document, operation):
    """Tell whether an operation needs an API key (a non-empty security requirement)."""
    security = operation.get("security", document.get("security", []))
    return any(requirement for requirement in security)


def success_schema(document, operation):
    """Return the resolved schema of an operation's 2xx response, or None."""
    for status, response in operation["responses"].items():
        if status.startswith("2"):
            content = resolve(response, document).get("content", {})
            if "application/json" in content:
                return resolve(content["application/json"]["schema"], document)
    return None


def loader_of(view, schema_class):
    """Return the marshmallow schema instance the view's module loads with (not a new one)."""
    module = sys.modules[view.__module__]
    found = [value for value in vars(module).values() if type(value) is schema_class]
    assert len(found) == 1, f"{module.__name__} has {len(found)} {schema_class.__name__} instances"
    return found[0]


def request_body_operations(document):
    """Yield (path, method, operation, component name) of each operation with a JSON body."""
    for path, method, operation in operations(document):
        if "requestBody" in operation:
            content = operation["requestBody"]["content"]
            assert set(content) == {"application/json"}, content
            ref = content["application/json"]["schema"]["$ref"]
            assert ref.startswith(SCHEMAS_REF), ref
            yield path, method, operation, ref[len(SCHEMAS_REF):]


def query_operations(document):
    """Yield (path, method, operation, query parameters) of each operation with a query."""
    for path, method, operation in operations(document):
        parameters = [resolve(p, document) for p in operation.get("parameters", [])]
        query = [p for p in parameters if p["in"] == "query"]
        if query:
            yield path, method, operation, query


def response_schema_ref(response):
    return response["content"]["application/json"]["schema"]["$ref"]


def fill(path, values):
    """Put values into a path template."""
    def value(match):
        assert match.group(1) in values, f"no value for {match.group(1)} in {path}"
        return values[match.group(1)]
    return re.sub(r"{([^}]+)}", value, path)


def send(client, method, url, headers, body=None, raw=None, content_type="application/json",
         query=None):
    if body is not None:
        raw = json.dumps(body)
    return client.open(url, method=method.upper(), headers=headers, data=raw,
                       content_type=content_type if raw is not None else None,
                       query_string=query)
