"""Assemble the OpenAPI document from the app's routes and their @documented operations."""
import re
from importlib.metadata import version

from flask import Blueprint, current_app

from ..auth import public
from ..schemas.common import UpdateSchema
from . import components
from .jsonschema import body_schema, query_parameters

bp = Blueprint("openapi", __name__)

TAGS = {"conversations": "Conversations", "leads": "Leads", "appointments": "Appointments",
        "offerings": "Offerings", "analytics": "Analytics", "crm": "CRM", "events": "Events"}
REF = "#/components/responses/"


def ref(name):
    """Return a reference to a shared response."""
    return {"$ref": REF + name}


def responses_for(operation, has_path_id):
    """Return every status an operation can answer."""
    success = {"description": operation.success_description or "Success.",
               "headers": {**components.RATE_LIMIT_HEADERS, **components.REQUEST_ID_HEADER}}
    if operation.response:
        success["content"] = {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{operation.response}"}}}
    answers = {str(operation.status): success}
    # Every operation refuses a query parameter it does not take.
    answers["400"] = ref("BadRequest")
    answers["401"] = ref("Unauthorized")
    answers["403"] = ref("Forbidden")
    if has_path_id or 404 in operation.errors:
        answers["404"] = ref("NotFound")
    if 409 in operation.errors:
        answers["409"] = ref("Conflict")
    if operation.request:
        answers["413"] = ref("PayloadTooLarge")
        answers["415"] = ref("UnsupportedMediaType")
    answers["429"] = ref("RateLimited")
    answers["503"] = ref("Unavailable")
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
        parameters += query_parameters(operation.query)
    if parameters:
        document["parameters"] = parameters
    if operation.request:
        document["requestBody"] = {"required": operation.request_required, "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{operation.request.__name__}"}}}}
    document["responses"] = responses_for(operation, bool(path_names))
    if "POST" in rule.methods:
        # Any POST may carry an Idempotency-Key (vorel_lite/idempotency.py): a malformed key
        # is a 400, a reused or busy one a 409, a retry gets the first answer again.
        document.setdefault("parameters", []).append(components.IDEMPOTENCY_KEY_PARAMETER)
        answers = document["responses"]
        success = answers[str(operation.status)]
        success["headers"] = {**success["headers"], **components.IDEMPOTENT_REPLAYED_HEADER}
        answers.setdefault("400", ref("BadRequest"))
        answers.setdefault("409", ref("Conflict"))
    document["security"] = [{"BearerAuth": [view.required_scope]}]
    return document


def openapi_path(rule):
    """Turn a werkzeug rule such as /leads/<lead_id> into /leads/{lead_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def build_document(app):
    """Return the OpenAPI 3.1 document of every documented /api/v1 operation of app."""
    paths, request_schemas = {}, {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "operation"):
            continue
        request = view.operation.request
        if request:
            minimum = 1 if issubclass(request, UpdateSchema) else 0
            request_schemas[request.__name__] = body_schema(request, minimum_properties=minimum)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule), {})[method.lower()] = operation_object(view, rule)
    paths["/api/v1/openapi.json"] = {"get": {
        "tags": ["Meta"], "summary": "This document", "operationId": "getOpenApiDocument",
        "security": [],
        "responses": {"200": {"description": "The OpenAPI 3.1 document of this server.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    }}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vorel API (vorel-lite)",
            "version": version("vorel-lite"),
            "description": "Self-hosted implementation of the Vorel public API. Every endpoint "
                           "but this document takes a bearer API key; per-key rate limit is "
                           "200 req/min by default. Strings in request bodies, attributes "
                           "included, may not contain NUL (U+0000) or unpaired surrogates: "
                           "400.",
        },
        "servers": [{"url": "/"}],
        "security": [{"BearerAuth": []}],
        "tags": [{"name": name} for name in [*TAGS.values(), "Meta"]],
        "paths": paths,
        "components": {
            "schemas": {**request_schemas, **components.SCHEMAS},
            "responses": components.RESPONSES,
            "securitySchemes": components.SECURITY_SCHEMES,
        },
    }


@bp.get("/api/v1/openapi.json")
@public
def openapi_document():
    """Serve the OpenAPI document (no key needed)."""
    document = current_app.extensions.get("vorel_openapi")
    if document is None:
        document = current_app.extensions["vorel_openapi"] = build_document(current_app)
    return document
