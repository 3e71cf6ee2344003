"""Assemble the OpenAPI document from the app's routes and their @documented operations."""
import re
from importlib.metadata import version

from apispec import APISpec
from apispec.ext.marshmallow.field_converter import make_type_list
from flask import Blueprint, current_app

from ..auth import public
from . import components
from .converter import Plugin

bp = Blueprint("openapi", __name__)

TAGS = {"conversations": "Conversations", "leads": "Leads", "appointments": "Appointments",
        "offerings": "Offerings", "analytics": "Analytics", "crm": "CRM", "events": "Events"}
# The seed's own components keep OpenAPI 3.0's `nullable` beside the 3.1 type list, as the
# seed has them; every other schema says null in its type alone.
SEED_COMPONENTS = ("Lead", "LeadCreate")


def schema_ref(name):
    """Return a reference to a named schema."""
    return {"$ref": components.SCHEMAS_REF + name}


def responses_for(operation, has_path_id):
    """Return every status an operation can answer."""
    success = {"description": operation.success_description or "Success.",
               "headers": {**components.RATE_LIMIT_HEADERS, **components.REQUEST_ID_HEADER}}
    if operation.response:
        success["content"] = {"application/json": {"schema": schema_ref(operation.response)}}
    answers = {str(operation.status): success}
    # Shared responses by name (apispec makes each a $ref). Every operation refuses a query
    # parameter it does not take: 400.
    answers["400"] = "BadRequest"
    answers["401"] = "Unauthorized"
    answers["403"] = "Forbidden"
    if has_path_id or 404 in operation.errors:
        answers["404"] = "NotFound"
    if 409 in operation.errors:
        answers["409"] = "Conflict"
    if operation.request:
        answers["413"] = "PayloadTooLarge"
        answers["415"] = "UnsupportedMediaType"
    answers["429"] = "RateLimited"
    answers["503"] = "Unavailable"
    return answers


def operation_object(view, rule):
    """Return the OpenAPI operation object of one documented view."""
    operation = view.operation
    path_names = list(rule.arguments)
    document = {
        "tags": [TAGS[rule.endpoint.split(".")[0]]],
        "summary": operation.summary,
        "operationId": operation.operation_id,
    }
    if operation.description:
        document["description"] = operation.description
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "string", "format": "uuid"}} for name in path_names]
    if operation.query:
        # apispec makes one query parameter of each field.
        parameters.append({"in": "query", "schema": operation.query})
    if parameters:
        document["parameters"] = parameters
    if operation.request:
        document["requestBody"] = {"required": operation.request_required, "content": {
            "application/json": {"schema": schema_ref(operation.request.__name__)}}}
    document["responses"] = responses_for(operation, bool(path_names))
    if "POST" in rule.methods:
        # Any POST may carry an Idempotency-Key (vorel_lite/idempotency.py): a malformed key
        # is a 400, a reused or busy one a 409, a retry gets the first answer again.
        document.setdefault("parameters", []).append(components.IDEMPOTENCY_KEY_PARAMETER)
        answers = document["responses"]
        success = answers[str(operation.status)]
        success["headers"] = {**success["headers"], **components.IDEMPOTENT_REPLAYED_HEADER}
        answers.setdefault("400", "BadRequest")
        answers.setdefault("409", "Conflict")
    document["security"] = [{"BearerAuth": [view.required_scope]}]
    return document


def openapi_path(rule):
    """Turn a werkzeug rule such as /leads/<lead_id> into /leads/{lead_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def say_null_as_the_seed(schema):
    """Add `nullable: true` beside each type that lists null, as the seed writes it."""
    for prop in schema["properties"].values():
        if "null" in make_type_list(prop.get("type")):
            prop["nullable"] = True


def build_document(app):
    """Return the OpenAPI 3.1 document of every documented /api/v1 operation of app."""
    spec = APISpec(
        title="Vorel API (vorel-lite)",
        version=version("vorel-lite"),
        openapi_version="3.1.0",
        plugins=[Plugin()],
        info={"description": "Self-hosted implementation of the Vorel public API. Every "
                             "endpoint but this document takes a bearer API key; per-key rate "
                             "limit is 200 req/min by default. Strings in request bodies, "
                             "attributes included, may not contain NUL (U+0000) or unpaired "
                             "surrogates: 400."},
        servers=[{"url": "/"}],
        security=[{"BearerAuth": []}],
    )
    for name in [*TAGS.values(), "Meta"]:
        spec.tag({"name": name})
    for name, schema in components.SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    for name, schema in components.UNIONS.items():
        spec.components.schema(name, schema)
    for name, response in components.RESPONSES.items():
        spec.components.response(name, response)
    for name, scheme in components.SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    rules = [rule for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
             if hasattr(app.view_functions[rule.endpoint], "operation")]
    for rule in rules:
        request = app.view_functions[rule.endpoint].operation.request
        if request and request.__name__ not in spec.components.schemas:
            spec.components.schema(request.__name__, schema=request)
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        spec.path(path=openapi_path(rule), operations={
            method.lower(): operation_object(view, rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})})
    spec.path(path="/api/v1/openapi.json", operations={"get": {
        "tags": ["Meta"], "summary": "This document", "operationId": "getOpenApiDocument",
        "security": [],
        "responses": {"200": {"description": "The OpenAPI 3.1 document of this server.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }})
    document = spec.to_dict()
    for name in SEED_COMPONENTS:
        say_null_as_the_seed(document["components"]["schemas"][name])
    return document


@bp.get("/api/v1/openapi.json")
@public
def openapi_document():
    """Serve the OpenAPI document (no key needed)."""
    document = current_app.extensions.get("vorel_openapi")
    if document is None:
        document = current_app.extensions["vorel_openapi"] = build_document(current_app)
    return document
