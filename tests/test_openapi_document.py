"""GET /api/v1/openapi.json: what it lists, every status it can answer, and the seed it keeps."""
import json
import re
import uuid

from jsonschema import Draft202012Validator

from openapi_fixtures import lifted_rate_limits, served_document  # noqa: F401
from openapi_helpers import (API_PREFIX, HTTP_METHODS, OPENAPI, RESPONSES_REF, SCHEMAS_REF,
                             fill, implemented_operations, is_keyed, lookup, operations,
                             resolve, response_schema_ref, send)
from openapi_probes import valid_object, valid_value, validator_for
from openapi_seed import (SEED_BEARER_AUTH, SEED_CREATE_LEAD, SEED_ERROR_ENVELOPE,
                          SEED_ERROR_REFS, SEED_LEAD, SEED_LEAD_CREATE,
                          SEED_RATE_LIMITED_HEADERS, SEED_RESPONSE_DESCRIPTIONS)
from vorel_lite.keys import SCOPES


# ---------------------------------------------------------------------------------------------
# 1. The document and what it lists
# ---------------------------------------------------------------------------------------------

def test_document_is_openapi_3_1_served_without_a_key(client):
    response = client.get(OPENAPI)
    assert response.status_code == 200
    assert response.content_type == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    # Every component schema is a valid JSON Schema (OpenAPI 3.1 schemas are 2020-12).
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)


def test_the_document_is_the_only_operation_open_without_a_key(document):
    public = {(path, method) for path, method, operation in operations(document)
              if not is_keyed(document, operation)}
    assert public == {(OPENAPI, "get")}


def test_document_lists_exactly_the_implemented_operations(app, document):
    implemented = set(implemented_operations(app))
    documented = {(path, method) for path, method, _ in operations(document)}
    assert documented - implemented == set(), "documented but not implemented"
    assert implemented - documented == set(), "implemented but not documented"
    for path, item in document["paths"].items():
        assert path.startswith(API_PREFIX + "/")
        assert set(item) <= HTTP_METHODS, f"{path}: {sorted(set(item) - HTTP_METHODS)}"
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids)), "operationIds are not unique"


def test_path_parameters_are_the_path_templates(document):
    for path, method, operation in operations(document):
        templated = re.findall(r"{([^}]+)}", path)
        declared = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        assert [p["name"] for p in declared] == templated, (path, method)
        for parameter in declared:
            assert parameter["required"] is True
            assert parameter["schema"] == {"type": "string", "format": "uuid"}


# ---------------------------------------------------------------------------------------------
# 2. Every status each operation can answer
# ---------------------------------------------------------------------------------------------

def success_status(name):
    """Return the one success status of an operation: 201 creates, 202 the mocked send, 200
    the CRM push (spec section 3: always 200 once the body passes, ok or not)."""
    if name.startswith("create") and name != "createCrmRecord":
        return "201"
    return "202" if name == "sendMessage" else "200"


def expected_statuses(document, path, operation):
    """Return the statuses an operation must document."""
    name = operation["operationId"]
    expected = {success_status(name)}
    if is_keyed(document, operation):
        expected |= {"401", "403", "429"}
    if is_keyed(document, operation):
        expected.add("400")  # a bad body or query parameter, or an unknown parameter
    if "requestBody" in operation:
        expected |= {"413", "415"}
    if "{" in path or name in ("createLead", "createAppointment"):
        expected.add("404")
    if name in ("createLead", "createConversation"):
        expected.add("409")
    return expected


def test_every_operation_documents_every_status_it_can_answer(document):
    for path, method, operation in operations(document):
        name = operation["operationId"]
        statuses = set(operation["responses"])
        missing = expected_statuses(document, path, operation) - statuses
        assert not missing, f"{name} does not document {sorted(missing)}"
        successes = {status for status in statuses if status.startswith("2")}
        assert successes == {success_status(name)}, (name, successes)
        for status, response in operation["responses"].items():
            resolved = resolve(response, document)
            assert resolved["description"], (name, status)
            if status in SEED_ERROR_REFS:
                assert response == {"$ref": SEED_ERROR_REFS[status]}, (name, status)
                component = lookup(document, response["$ref"])
                assert response_schema_ref(component) == SCHEMAS_REF + "ErrorEnvelope"
        if "requestBody" in operation:
            # A handoff's body is optional: no body at all is the same as {}.
            assert operation["requestBody"]["required"] is (name != "createHandoff"), name


def minimal_valid_body(document, operation):
    """Return a body the operation's request schema accepts."""
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = resolve(lookup(document, ref), document)
    body = valid_object(schema["properties"], schema.get("required", []))
    if len(body) < schema.get("minProperties", 0):
        name, prop = next(iter(schema["properties"].items()))
        body[name] = valid_value(prop)
    assert validator_for(schema).is_valid(body)
    return body


def test_operations_answer_the_documented_statuses(app, client, auth, make_key, lead,
                                                   conversation, offering, appointment,
                                                   document, runner, receivers):
    """Call every operation into each documented error, and check the status is documented."""
    # A CRM that creates records: only a push that succeeded is remembered (and so can 409).
    runner.invoke(args=["crm", "connect", "--tenant", "acme",
                        receivers(default=(201, {"id": "crm-1"})).url])
    ids = {"lead_id": lead["id"], "conversation_id": conversation["id"],
           "offering_id": offering["id"], "appointment_id": appointment["id"]}
    conflicts = {  # a body whose natural key exists, per operation documenting 409
        "createLead": {"conversation_id": lead["conversation_id"]},
        "createConversation": {"channel": conversation["channel"],
                               "customer_identifier": conversation["customer_identifier"]},
    }
    limit = app.config["MAX_CONTENT_LENGTH"]
    for path, method, operation in operations(document):
        name, statuses = operation["operationId"], set(operation["responses"])
        url = fill(path, ids)
        has_body = "requestBody" in operation
        invalid = {"raw": "[]"} if has_body else {}
        calls = {}
        if is_keyed(document, operation):
            [requirement] = operation["security"]
            [scope] = requirement["BearerAuth"]
            calls["401"] = send(client, method, url, {}, **invalid)
            calls["403"] = send(client, method, url,
                                make_key("acme", [s for s in SCOPES if s != scope]), **invalid)
            # The documented scope alone is enough: the answer is past the scope check.
            only = send(client, method, url, make_key("acme", [scope]), **invalid)
            assert only.status_code != 403, (name, only.get_json())
            if not has_body:
                calls["200"] = only
        else:
            calls["200"] = send(client, method, url, {})
        if has_body:
            calls["400"] = send(client, method, url, auth, raw="[]")
            calls["413"] = send(client, method, url, auth, raw="x" * (limit + 1))
            calls["415"] = send(client, method, url, auth, raw="{}", content_type="text/plain")
        if is_keyed(document, operation) and "400" not in calls:
            # Every keyed operation refuses a query parameter it does not take.
            body = minimal_valid_body(document, operation) if has_body else None
            calls["400"] = send(client, method, url, auth, body=body,
                                query={"unknown_param": "1"})
        if "{" in path:
            body = minimal_valid_body(document, operation) if has_body else None
            unknown = re.sub(r"{[^}]+}", str(uuid.uuid4()), path)
            calls["404"] = send(client, method, unknown, auth, body=body)
        if name == "createLead":
            calls["404"] = send(client, method, url, auth,
                                body={"conversation_id": str(uuid.uuid4())})
        if name == "createAppointment":
            calls["404"] = send(client, method, url, auth, body={
                "customer_name": "Layla", "customer_phone": "+971500000001",
                "scheduled_start": "2030-03-01T10:00:00Z",
                "scheduled_end": "2030-03-01T11:00:00Z", "lead_id": str(uuid.uuid4())})
        if "409" in statuses and method == "post" and name not in conflicts:
            # Any POST: its Idempotency-Key reused with another body (the first request must
            # run to be remembered, so its body is valid).
            reused = {**auth, "Idempotency-Key": f"probe-{name}"}
            first = json.dumps(minimal_valid_body(document, operation) if has_body else {})
            assert send(client, method, url, reused, raw=first).status_code < 300, name
            calls["409"] = send(client, method, url, reused, raw=first + " ")
        elif "409" in statuses:
            assert name in conflicts, f"{name} documents 409: add a conflicting body here"
            calls["409"] = send(client, method, url, auth, body=conflicts[name])
        for status, response in calls.items():
            assert str(response.status_code) == status, (name, status, response.get_json())
            assert status in statuses, (name, status)
            if status >= "400":
                code = response.get_json()["error"]["code"]
                assert code in SEED_ERROR_ENVELOPE["properties"]["error"]["properties"][
                    "code"]["enum"]


def test_every_keyed_operation_answers_the_documented_429(app, client, make_key, lead,
                                                          offering, appointment, document):
    app.config["RATELIMIT_PER_KEY"] = "1 per minute"
    ids = {"lead_id": lead["id"], "conversation_id": lead["conversation_id"],
           "offering_id": offering["id"], "appointment_id": appointment["id"]}
    for path, method, operation in operations(document):
        if not is_keyed(document, operation):
            continue
        headers = make_key("acme")
        invalid = {"raw": "[]"} if "requestBody" in operation else {}
        url = fill(path, ids)
        assert send(client, method, url, headers, **invalid).status_code != 429
        response = send(client, method, url, headers, **invalid)
        assert response.status_code == 429, operation["operationId"]
        assert "429" in operation["responses"]
        assert response.get_json()["error"]["code"] == "rate_limited"
        documented = lookup(document, operation["responses"]["429"]["$ref"])["headers"]
        for header in documented:
            assert int(response.headers[header]) >= 0, header


# ---------------------------------------------------------------------------------------------
# 3. createLead keeps the seed, with the intended differences asserted explicitly
# ---------------------------------------------------------------------------------------------

# The keywords that state a value's rules (what a generated client or a fuzzer acts on).
RULE_KEYWORDS = ("type", "format", "minLength", "maxLength", "minimum", "maximum",
                 "exclusiveMinimum", "exclusiveMaximum", "enum", "pattern", "nullable",
                 "additionalProperties", "items", "minItems", "maxItems", "const")


def as_openapi_3_1(seed_property):
    """The intended form of a seed property: nullable also said as type [T, "null"]."""
    if seed_property.get("nullable"):
        return {**seed_property, "type": [seed_property["type"], "null"]}
    return seed_property


def rules(schema):
    return {key: schema[key] for key in RULE_KEYWORDS if key in schema}


def test_create_lead_operation_keeps_the_seed(document):
    served = document["paths"]["/api/v1/leads"]["post"]
    for key in ("operationId", "tags", "summary", "description", "requestBody", "security"):
        assert served[key] == SEED_CREATE_LEAD[key], key
    seed_responses = SEED_CREATE_LEAD["responses"]
    # vorel-lite adds (never changes) the headers every keyed answer carries.
    created = dict(served["responses"]["201"])
    assert set(created.pop("headers")) == {"X-RateLimit-Limit", "X-RateLimit-Remaining",
                                           "X-RateLimit-Reset", "X-Request-Id",
                                           "Idempotent-Replayed"}
    assert created == seed_responses["201"]
    for status, seed_response in seed_responses.items():
        if status == "201":
            continue
        assert served["responses"][status] == seed_response, status
        name = seed_response["$ref"][len(RESPONSES_REF):]
        component = lookup(document, seed_response["$ref"])
        assert component["description"] == SEED_RESPONSE_DESCRIPTIONS[name], name
        assert response_schema_ref(component) == SCHEMAS_REF + "ErrorEnvelope"
    assert lookup(document, RESPONSES_REF + "RateLimited")["headers"] == \
        SEED_RATE_LIMITED_HEADERS
    # vorel-lite adds (never removes) statuses: the body ones, and the database's outage.
    assert set(served["responses"]) - set(seed_responses) == {"413", "415", "503"}


def test_security_scheme_keeps_the_seed(document):
    scheme = document["components"]["securitySchemes"]["BearerAuth"]
    assert {key: scheme[key] for key in SEED_BEARER_AUTH} == SEED_BEARER_AUTH
    assert document["security"] == [{"BearerAuth": []}]


def test_error_envelope_keeps_the_seed(document):
    served = document["components"]["schemas"]["ErrorEnvelope"]
    seed = SEED_ERROR_ENVELOPE
    assert served["type"] == "object"
    assert served["required"] == seed["required"]
    error, seed_error = served["properties"]["error"], seed["properties"]["error"]
    assert error["type"] == "object"
    assert error["required"] == seed_error["required"]
    for name, seed_property in seed_error["properties"].items():
        assert error["properties"][name] == seed_property, name
    # The code enum is closed and exactly the seed's.
    assert error["properties"]["code"]["enum"] == seed_error["properties"]["code"]["enum"]
    # vorel-lite's optional members (spec §1: `fields` on a 400, `existing_id` on a 409).
    assert set(error["properties"]) - set(seed_error["properties"]) == {"fields", "existing_id"}


def test_lead_response_schema_keeps_the_seed(document):
    served = document["components"]["schemas"]["Lead"]
    assert served["type"] == "object"
    assert served["required"] == SEED_LEAD["required"]
    assert set(served["properties"]) == set(SEED_LEAD["properties"])
    for name, seed_property in SEED_LEAD["properties"].items():
        expected = as_openapi_3_1(seed_property)
        assert rules(served["properties"][name]) == rules(expected), name
        assert served["properties"][name].get("description") == expected.get("description")


def test_lead_create_schema_keeps_the_seed(document):
    served = document["components"]["schemas"]["LeadCreate"]
    assert served["type"] == "object"
    assert served["required"] == SEED_LEAD_CREATE["required"]
    assert set(served["properties"]) == set(SEED_LEAD_CREATE["properties"])
    for name, seed_property in SEED_LEAD_CREATE["properties"].items():
        prop = served["properties"][name]
        for key in ("format", "minLength", "maxLength", "minimum", "maximum", "enum",
                    "pattern", "additionalProperties"):
            if name == "email" and key == "maxLength":
                continue  # the intended difference, asserted below
            assert prop.get(key) == seed_property.get(key), (name, key)
        if seed_property.get("nullable"):
            # Intended: OpenAPI 3.1 says null in the type list, and `nullable` stays for
            # 3.0-era generators.
            assert prop["type"] == [seed_property["type"], "null"], name
            assert prop["nullable"] is True, name
        else:
            assert prop["type"] == seed_property["type"], name
            assert "nullable" not in prop, name
        assert rules(prop) == rules({**as_openapi_3_1(seed_property),
                                     **({"maxLength": 254} if name == "email" else {})}), name
    # Intended: RFC 5321 caps an address at 254 characters.
    assert served["properties"]["email"]["maxLength"] == 254
    # Intended: unknown fields are rejected (spec §1), and the document says so.
    assert served["additionalProperties"] is False
