"""Every answer of every operation matches the served document: status, body and headers."""
import re

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from openapi_helpers import lookup

# jsonschema checks date-time only with an extra package; the spec's form is narrower anyway:
# RFC 3339 in UTC with a Z and exactly six fractional digits.
FORMATS = FormatChecker()
FORMATS.checks("date-time")(lambda value: not isinstance(value, str) or re.fullmatch(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", value) is not None)


@pytest.fixture
def check(client):
    """Return a function asserting that a response is documented for its operation."""
    document = client.get("/api/v1/openapi.json").get_json()
    checked = set()

    def check_response(path, method, response):
        operation = document["paths"][path][method]
        answer = operation["responses"].get(str(response.status_code))
        assert answer is not None, (path, method, response.status_code)
        if "$ref" in answer:
            answer = lookup(document, answer["$ref"])
        schema = {"$ref": answer["content"]["application/json"]["schema"]["$ref"],
                  "components": document["components"]}
        validator = Draft202012Validator(schema, format_checker=FORMATS)
        errors = [e.message for e in validator.iter_errors(response.get_json())]
        assert errors == [], (path, method, response.status_code, errors)
        for header in answer.get("headers", {}):
            if header == "Idempotent-Replayed":  # only on a replayed answer
                assert response.headers.get(header) in (None, "true"), (path, method)
            elif header != "Retry-After" or response.status_code == 429:
                assert header in response.headers, (path, method, header)
        checked.add((path, method, response.status_code))
        return response.get_json()
    check_response.checked = checked
    return check_response


def test_a_whole_flow_answers_as_documented(client, auth, other_auth, check):
    conversations, leads = "/api/v1/conversations", "/api/v1/leads"
    one = "/api/v1/conversations/{conversation_id}"
    lead_path = "/api/v1/leads/{lead_id}"
    body = {"channel": "email", "customer_identifier": "a@example.com"}
    conversation = check(conversations, "post", client.post(conversations, headers=auth,
                                                            json=body))
    check(conversations, "post", client.post(conversations, headers=auth, json=body))
    check(conversations, "post", client.post(conversations, headers=auth, json={}))
    check(conversations, "get", client.get(conversations, headers=auth))
    check(one, "get", client.get(f"{conversations}/{conversation['id']}", headers=auth))
    check(one, "get", client.get(f"{conversations}/{conversation['id']}", headers=other_auth))
    check(one, "patch", client.patch(f"{conversations}/{conversation['id']}", headers=auth,
                                     json={"customer_language": "en"}))
    lead = check(leads, "post", client.post(leads, headers=auth, json={
        "conversation_id": conversation["id"], "status": "qualified",
        "email": "a@example.com", "qualification_score": 80, "attributes": {"k": [1]}}))
    check(leads, "post", client.post(leads, headers=auth,
                                     json={"conversation_id": conversation["id"]}))
    check(leads, "get", client.get(f"{leads}?status=qualified&limit=1", headers=auth))
    check(leads, "get", client.get(f"{leads}?stale_for_days=1", headers=auth))
    check(lead_path, "get", client.get(f"{leads}/{lead['id']}", headers=auth))
    check(lead_path, "patch", client.patch(f"{leads}/{lead['id']}", headers=auth,
                                           json={"attributes": {"k": None}}))
    check(lead_path, "patch", client.patch(f"{leads}/{lead['id']}", headers=auth,
                                           data="x", content_type="text/plain"))
    handoff, send = f"{lead_path}/handoff", f"{one}/send"
    check(handoff, "post", client.post(f"{leads}/{lead['id']}/handoff", headers=auth))
    check(handoff, "post", client.post(f"{leads}/{lead['id']}/handoff", headers=auth,
                                       json={"reason": "price", "summary": "wants a call"}))
    check(handoff, "post", client.post(f"{leads}/{lead['id']}/handoff", headers=auth,
                                       json={"reason": 5}))
    check(handoff, "post", client.post(f"{leads}/{lead['id']}/handoff", headers=other_auth))
    check(send, "post", client.post(f"{conversations}/{conversation['id']}/send", headers=auth,
                                    json={"text": "hello", "language": "en"}))
    check(send, "post", client.post(f"{conversations}/{conversation['id']}/send", headers=auth,
                                    json={"text": ""}))
    check(send, "post", client.post(f"{conversations}/{conversation['id']}/send",
                                    headers=other_auth, json={"text": "hello"}))
    check("/api/v1/events", "get", client.get("/api/v1/events?limit=2", headers=auth))
    check("/api/v1/events", "get", client.get("/api/v1/events", headers={}))
    assert {status for _, _, status in check.checked} == {200, 201, 202, 400, 401, 404, 409,
                                                          415}


def test_appointments_answer_as_documented(client, auth, other_auth, lead, check):
    many, one = "/api/v1/appointments", "/api/v1/appointments/{appointment_id}"
    body = {"customer_name": "Layla", "customer_phone": "+971500000001",
            "scheduled_start": "2030-03-01T14:00:00+04:00",
            "scheduled_end": "2030-03-01T11:00:00Z", "lead_id": lead["id"],
            "conversation_id": lead["conversation_id"]}
    made = check(many, "post", client.post(many, headers=auth, json=body))
    check(many, "post", client.post(many, headers=auth, json={**body, "customer_email": None}))
    check(many, "post", client.post(many, headers=auth,
                                    json={**body, "scheduled_end": "2030-03-01T09:00:00Z"}))
    check(many, "post", client.post(many, headers=other_auth, json=body))
    check(many, "get", client.get(f"{many}?limit=1", headers=auth))
    url = f"{many}/{made['id']}"
    check(one, "get", client.get(url, headers=auth))
    check(one, "get", client.get(url, headers=other_auth))
    check(one, "patch", client.patch(url, headers=auth, json={"status": "cancelled"}))
    check(one, "patch", client.patch(url, headers=auth, json={"lead_id": None}))
    assert {status for _, _, status in check.checked} == {200, 201, 400, 404}
