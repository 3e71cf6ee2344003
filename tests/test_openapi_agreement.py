"""The served request schemas say what the marshmallow schemas and the live endpoints do."""
import json
import uuid

from openapi_fixtures import lifted_rate_limits, served_document  # noqa: F401
from openapi_helpers import (fill, implemented_operations, loader_of, query_operations,
                             request_body_operations, resolve, response_schema_ref, send)
from openapi_probes import (FORMAT_CHECKER, VALID_UUID, body_probes, disagreement,
                            marshmallow_verdict, parse_query, query_object_schema,
                            query_probes, undeclared_fields, vacuity, validator_for)
from vorel_lite.models import Appointment, Conversation, Lead, Offering

# Probe values generated from the served JSON Schemas of every request body and every query
# parameter set get the same verdict from jsonschema (Draft 2020-12, formats checked), from the
# marshmallow schema instance the view actually loads with, and from the live endpoint.


def test_the_formats_used_in_request_schemas_are_really_checked():
    # A format the checker does not know is silently ignored: make sure ours are known.
    assert {"uuid", "email", "date-time"} <= set(FORMAT_CHECKER.checkers)
    validator = validator_for({"type": "string", "format": "uuid"})
    assert validator.is_valid(str(uuid.uuid4()))
    assert not validator.is_valid("not-a-uuid")
    assert not validator_for({"format": "email"}).is_valid("not-an-email")
    assert validator_for({"format": "date-time"}).is_valid("2030-03-01T14:00:00+04:00")
    assert not validator_for({"format": "date-time"}).is_valid("2030-03-01T10:00:00")
    language = validator_for({"type": "string", "pattern": r"^[a-z]{2}(-[A-Z]{2})?$"})
    assert language.is_valid("ar-AE")
    assert not language.is_valid("en\n")


# ---------------------------------------------------------------------------------------------
# 4. THE KEY TEST: the served request schemas say what the marshmallow schemas do
# ---------------------------------------------------------------------------------------------

def body_cases(app, document):
    """Yield (name, path, method, operation, schema, validator, loader, probes)."""
    views = implemented_operations(app)
    for path, method, operation, name in request_body_operations(document):
        view = views[(path, method)]
        assert view.operation.request.__name__ == name, (path, method)
        loader = loader_of(view, view.operation.request)
        schema = resolve(document["components"]["schemas"][name], document)
        probes = body_probes(schema, undeclared_fields(document, operation, schema, loader))
        yield name, path, method, operation, schema, validator_for(schema), loader, probes


def query_cases(app, document):
    """Yield (name, path, method, operation, schema, validator, loader, probes)."""
    views = implemented_operations(app)
    for path, method, operation, parameters in query_operations(document):
        view = views[(path, method)]
        loader = loader_of(view, view.operation.query)
        schema = query_object_schema(parameters)
        extras = [f.data_key or n for n, f in loader.load_fields.items()
                  if (f.data_key or n) not in schema["properties"]]
        probes = query_probes(schema, extras)
        yield (operation["operationId"], path, method, operation, schema, validator_for(schema),
               loader, probes)


def test_request_body_schemas_agree_with_marshmallow(app, document):
    names, problems, count = set(), [], 0
    for name, _, _, _, schema, validator, loader, probes in body_cases(app, document):
        names.add(name)
        verdicts = []
        for probe in probes:
            js_accepts = validator.is_valid(probe.value)
            ms_accepts, messages = marshmallow_verdict(loader, probe.value)
            verdicts.append(js_accepts)
            problem = disagreement(name, probe, js_accepts, ms_accepts, messages)
            if problem:
                problems.append(problem)
        problems += vacuity(name, probes, verdicts, schema["properties"])
        count += len(probes)
    # Discovered from the document; these four at least must be there.
    assert names >= {"LeadCreate", "LeadUpdate", "ConversationCreate", "ConversationUpdate"}
    assert count > 400
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems)


def test_query_parameters_agree_with_marshmallow(app, document):
    names, problems = set(), []
    for name, _, _, _, schema, validator, loader, probes in query_cases(app, document):
        names.add(name)
        verdicts = []
        for probe in probes:
            parsed = parse_query(probe.value, schema)
            js_accepts = validator.is_valid(parsed)
            ms_accepts, messages = marshmallow_verdict(loader, probe.value)
            verdicts.append(js_accepts)
            problem = disagreement(name, probe, js_accepts, ms_accepts, messages, parsed)
            if problem:
                problems.append(problem)
        problems += vacuity(name, probes, verdicts, schema["properties"])
    assert names >= {"listConversations", "listLeads", "listEvents"}
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems)


def bind(body, references):
    """Point the probe's placeholder uuid at a row that exists (a uuid reference is also a
    lookup: a well-formed id of nothing is a 404, which the schema cannot say)."""
    if not isinstance(body, dict):
        return body
    bound = dict(body)
    for name, real in references.items():
        if bound.get(name) == VALID_UUID:
            bound[name] = real
        elif bound.get(name) == VALID_UUID.upper():
            bound[name] = real.upper()
    return bound


def live_verdict_problem(where, probe, expected_accept, response, operation):
    """Check one live answer: the success status iff accepted, else a 400 naming the field."""
    statuses = set(operation["responses"])
    status = str(response.status_code)
    success = next(s for s in statuses if s.startswith("2"))
    if status not in statuses:
        return f"{where}: {probe.label}: answered undocumented {status}: {response.get_json()}"
    if expected_accept and status != success:
        return f"{where}: {probe.label}: expected {success}, got {status} {response.get_json()}"
    if not expected_accept:
        if status != "400":
            return f"{where}: {probe.label}: expected 400, got {status} {response.get_json()}"
        error = response.get_json()["error"]
        # An array's item is named with its index: photos.3.
        named = {name.split(".")[0] for name in error.get("fields", {})}
        if probe.target and probe.target not in named:
            return f"{where}: {probe.label}: the 400 does not name {probe.target}: {error}"
    return None


def stored_row(app, models, method, url, operation):
    """Return the row a PATCH changes, to put back after each probe, or None.

    Whether a PATCH is valid may depend on the stored row (an appointment's times are checked
    merged with it): each probe must meet the row as it was.
    """
    if method != "patch":
        return None
    model = models.get(response_schema_ref(operation["responses"]["200"]).rsplit("/", 1)[1])
    if model is None:
        return None
    with app.app_context():
        return model.get_by_id(url.rsplit("/", 1)[1])


def test_live_request_bodies_answer_as_the_schema_says(app, client, auth, lead, document):
    offering = client.post("/api/v1/offerings", headers=auth,
                           json={"title": "Probe target", "price": 1}).get_json()
    conversation_ids = {"lead_id": lead["id"], "conversation_id": lead["conversation_id"],
                        "offering_id": offering["id"]}
    # Wider than every date-time probe, so a PATCH moving either end alone keeps them in order.
    conversation_ids["appointment_id"] = client.post("/api/v1/appointments", headers=auth, json={
        "customer_name": "Probe target", "customer_phone": "+971500000001",
        "scheduled_start": "2000-01-01T00:00:00Z",
        "scheduled_end": "2100-01-01T00:00:00Z"}).get_json()["id"]
    # A conversation without a lead, for createLead's probes (each created lead is deleted).
    spare = client.post("/api/v1/conversations", headers=auth,
                        json={"channel": "webform", "customer_identifier": "spare"}).get_json()
    references = {"conversation_id": spare["id"], "lead_id": lead["id"],
                  "offering_id": offering["id"]}
    # Created rows are deleted to free their natural key; a handoff has none to free.
    models = {"Lead": Lead, "Conversation": Conversation, "Handoff": None,
              "Offering": Offering, "Appointment": Appointment}
    problems, sent = [], 0
    for name, path, method, operation, schema, validator, loader, probes in \
            body_cases(app, document):
        uuid_fields = {n for n, p in schema["properties"].items() if p.get("format") == "uuid"}
        assert uuid_fields <= set(references), f"{name}: which row do {uuid_fields} name?"
        url = fill(path, conversation_ids)
        created = operation["responses"].get("201")
        model = models[response_schema_ref(created).rsplit("/", 1)[1]] if created else None
        stored = stored_row(app, models, method, url, operation)
        for probe in probes:
            js_accepts = validator.is_valid(probe.value)
            ms_accepts, _ = marshmallow_verdict(loader, probe.value)
            # Lax-format probes: the server is marshmallow, stricter than jsonschema's check.
            expected = ms_accepts if probe.lax else js_accepts
            response = send(client, method, url, auth, raw=json.dumps(
                bind(probe.value, references)))
            sent += 1
            problem = live_verdict_problem(name, probe, expected, response, operation)
            if problem:
                problems.append(problem)
            if model is not None and response.status_code == 201:
                with app.app_context():
                    model.delete_by_id(response.get_json()["id"])
            if stored is not None and response.status_code == 200:
                with app.app_context():
                    stored.save()
    assert sent > 400
    assert not problems, f"{len(problems)} live disagreements:\n" + "\n".join(problems)


def test_live_query_parameters_answer_as_the_schema_says(app, client, auth, lead, document):
    # Two rows of each list, so that each list has a real cursor to page from.
    other = client.post("/api/v1/conversations", headers=auth,
                        json={"channel": "voice", "customer_identifier": "other"}).get_json()
    client.post("/api/v1/leads", headers=auth, json={"conversation_id": other["id"]})
    for title in ("first", "second"):
        client.post("/api/v1/offerings", headers=auth, json={"title": title, "price": 1})
    for day in (1, 2):
        client.post("/api/v1/appointments", headers=auth, json={
            "customer_name": "Layla", "customer_phone": "+971500000001",
            "scheduled_start": f"2030-03-0{day}T10:00:00Z",
            "scheduled_end": f"2030-03-0{day}T11:00:00Z"})
    problems = []
    for name, path, method, operation, schema, validator, loader, probes in \
            query_cases(app, document):
        url = fill(path, {})
        references = {}
        if "cursor" in schema["properties"]:
            page = send(client, method, url, auth, query={"limit": "1"}).get_json()
            assert page["next_cursor"], name
            references["cursor"] = page["next_cursor"]
        uuid_fields = {n for n, p in schema["properties"].items() if p.get("format") == "uuid"}
        assert uuid_fields <= set(references), f"{name}: which row do {uuid_fields} name?"
        for probe in probes:
            js_accepts = validator.is_valid(parse_query(probe.value, schema))
            ms_accepts, _ = marshmallow_verdict(loader, probe.value)
            expected = ms_accepts if probe.lax else js_accepts
            response = send(client, method, url, auth, query=bind(probe.value, references))
            problem = live_verdict_problem(name, probe, expected, response, operation)
            if problem:
                problems.append(problem)
    assert not problems, f"{len(problems)} live disagreements:\n" + "\n".join(problems)
