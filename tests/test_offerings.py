"""POST/GET/PATCH /api/v1/offerings, exact prices, and the operator's soft delete."""
import json
import uuid

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from helpers import assert_error
from vorel_lite.keys import SCOPES
from vorel_lite.models import Appointment, Event, Offering, Tenant

OFFERINGS = "/api/v1/offerings"
BODY = {"title": "Marina View 2BR", "price": 1850000}
URL = "https://cdn.example.com/photos/1.jpg"


@pytest.fixture
def written(app):
    """Return a function giving the offerings and events tables' rows, to prove nothing moved."""
    def rows():
        with app.app_context():
            return {model.__name__: sorted(map(repr, model.select().tuples()))
                    for model in (Offering, Event)}
    return rows


def events_of(app, *names):
    """Return (event, data) of the recorded events with these names, oldest first."""
    with app.app_context():
        query = Event.select().where(Event.event.in_(names)).order_by(Event.created_at, Event.id)
        return [(event.event, event.data) for event in query]


def post_raw(client, auth, text):
    """POST a body written as JSON text (so a number is sent exactly as written)."""
    return client.post(OFFERINGS, headers=auth, data=text, content_type="application/json")


def delete(runner, offering_id):
    return runner.invoke(args=["offerings", "delete", offering_id])


# ---------------------------------------------------------------------------------------------
# Create and read
# ---------------------------------------------------------------------------------------------

def test_create_returns_the_offering_with_defaults(app, client, auth):
    response = client.post(OFFERINGS, headers=auth, json=BODY)
    assert response.status_code == 201
    offering = response.get_json()
    assert uuid.UUID(offering["id"]).version == 4
    assert offering["title"] == "Marina View 2BR"
    assert offering["price"] == "1850000" and offering["price_currency"] == "AED"
    assert offering["photos"] == [] and offering["attributes"] == {}
    for name in ("external_id", "reference_number", "title_ar", "description",
                 "description_ar", "address", "status", "available_from"):
        assert offering[name] is None, name
    assert offering["created_at"] == offering["updated_at"]
    assert offering["created_at"].endswith("Z") and len(offering["created_at"]) == 27
    assert client.get(f"{OFFERINGS}/{offering['id']}", headers=auth).get_json() == offering


def test_create_keeps_every_field(client, auth):
    body = {"title": "Marina View 2BR", "price": 19.99, "price_currency": "USD",
            "external_id": "crm-991", "reference_number": "REF/2030/7",
            "title_ar": "إطلالة المارينا", "description": "Two bedrooms.",
            "description_ar": "غرفتا نوم.", "address": "Dubai Marina",
            "photos": [URL, "http://example.com/a%20b.jpg?w=800#top", URL],
            "status": "available", "available_from": "2030-03-01",
            "attributes": {"bedrooms": 2, "view": {"sea": True}, "tags": [1, None]}}
    offering = client.post(OFFERINGS, headers=auth, json=body).get_json()
    assert {name: offering[name] for name in body} == {**body, "price": "19.99"}


def test_responses_match_the_served_offering_schema(client, auth, offering):
    document = client.get("/api/v1/openapi.json").get_json()
    schema = {"$ref": "#/components/schemas/Offering", "components": document["components"]}
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    full = client.post(OFFERINGS, headers=auth, json={
        **BODY, "price": 0.1, "photos": [URL], "available_from": "2030-03-01"}).get_json()
    for body in (offering, full):
        assert [error.message for error in validator.iter_errors(body)] == []
    page = client.get(OFFERINGS, headers=auth).get_json()
    assert [o["id"] for o in page["data"]] == [full["id"], offering["id"]]
    page_validator = Draft202012Validator(
        {**schema, "$ref": "#/components/schemas/OfferingPage"}, format_checker=FormatChecker())
    assert [error.message for error in page_validator.iter_errors(page)] == []


# ---------------------------------------------------------------------------------------------
# Prices: a JSON number in, kept exactly, a string out
# ---------------------------------------------------------------------------------------------

# Returned as the shortest text of the value: a JSON number has no scale (19.90 is 19.9).
EXACT_PRICES = [
    ("19.99", "19.99"), ("0.1", "0.1"), ("123456789012.1234", "123456789012.1234"),
    ("999999999999.9999", "999999999999.9999"), ("19.9900", "19.99"), ("19.90", "19.9"),
    ("100.0", "100"), ("1e2", "100"), ("1.5E3", "1500"), ("0.0001", "0.0001"),
    ("12345e-4", "1.2345"), ("0", "0"), ("-0", "0"), ("-0.0", "0"), ("0.0000", "0"),
    ("1850000", "1850000"), ("999999999999", "999999999999"),
    ("0.30000000000000000000", "0.3"),
]


@pytest.mark.parametrize("sent,returned", EXACT_PRICES)
def test_prices_are_kept_exactly(app, client, auth, sent, returned):
    response = post_raw(client, auth, f'{{"title": "t", "price": {sent}}}')
    assert response.status_code == 201, response.get_json()
    offering = response.get_json()
    assert offering["price"] == returned
    with app.app_context():
        assert Offering.get_by_id(offering["id"]).price == returned
    assert client.get(f"{OFFERINGS}/{offering['id']}", headers=auth).get_json()["price"] == returned


@pytest.mark.parametrize("sent", [
    "1234567890123", "1000000000000", "1e12", "0.00001", "19.99999", "1E-5",
    "0.30000000000000004", '"19.99"', "true", "false", "-1", "-0.0001", "null", "[19.99]",
    '{"amount": 19.99}', "1e300", "1e-300",
])
def test_bad_prices_are_400_naming_price(client, auth, written, sent):
    before = written()
    response = post_raw(client, auth, f'{{"title": "t", "price": {sent}}}')
    error = assert_error(response, 400, "bad_request")
    assert "price" in error["message"]
    assert written() == before


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused_as_json(client, auth, written, token):
    before = written()
    assert_error(post_raw(client, auth, f'{{"title": "t", "price": {token}}}'), 400,
                 "bad_request")
    assert written() == before


def test_patch_keeps_a_price_exactly(client, auth, offering):
    response = client.patch(f"{OFFERINGS}/{offering['id']}", headers=auth,
                            data='{"price": 0.1000}', content_type="application/json")
    assert response.get_json()["price"] == "0.1"


# ---------------------------------------------------------------------------------------------
# Every other field: bounds accepted, bad values refused
# ---------------------------------------------------------------------------------------------

VALID_BOUNDS = [
    ("title", "x" * 500), ("title", "ل" * 500), ("title", "x"),
    ("title_ar", "ل" * 500), ("address", "x" * 500), ("external_id", "x" * 120),
    ("reference_number", "x" * 120), ("description", "x" * 10000),
    ("description_ar", "ل" * 10000), ("status", "x" * 40), ("status", "under offer"),
    ("price_currency", "USD"), ("photos", [URL] * 20), ("photos", [URL, URL]),
    ("photos", ["https://example.com/" + "p" * 2028]), ("photos", ["http://example.com"]),
    ("photos", []), ("available_from", "2028-02-29"), ("available_from", "0001-01-01"),
    ("attributes", {"nested": {"deep": [1, 2, None]}}),
] + [(name, None) for name in ("external_id", "reference_number", "title_ar", "description",
                               "description_ar", "address", "status", "available_from")]


@pytest.mark.parametrize("field,value", VALID_BOUNDS)
def test_values_at_the_bounds_are_accepted(client, auth, field, value):
    response = client.post(OFFERINGS, headers=auth, json={**BODY, field: value})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()[field] == value


BAD_CREATE = [
    ({"price": 1}, "title"),
    ({"title": ""}, "title"),
    ({"title": "x" * 501}, "title"),
    ({"title": None}, "title"),
    ({"title": 5}, "title"),
    ({"title": "t"}, "price"),
    ({"price": None}, "price"),
    ({"price": 1234567890123}, "price"),
    ({"price": 0.00001}, "price"),
    ({"price": "19.99"}, "price"),
    ({"price": True}, "price"),
    ({"price": -1}, "price"),
    ({"price_currency": "aed"}, "price_currency"),
    ({"price_currency": "AEDX"}, "price_currency"),
    ({"price_currency": "AED\n"}, "price_currency"),
    ({"price_currency": None}, "price_currency"),
    ({"external_id": "x" * 121}, "external_id"),
    ({"reference_number": "x" * 121}, "reference_number"),
    ({"title_ar": "x" * 501}, "title_ar"),
    ({"description": "x" * 10001}, "description"),
    ({"description_ar": "x" * 10001}, "description_ar"),
    ({"address": "x" * 501}, "address"),
    ({"status": "x" * 41}, "status"),
    ({"status": 5}, "status"),
    ({"photos": [URL] * 21}, "photos"),
    ({"photos": None}, "photos"),
    ({"photos": URL}, "photos"),
    ({"photos": ["ftp://example.com/a.jpg"]}, "photos.0"),
    ({"photos": [URL, "javascript:alert(1)"]}, "photos.1"),
    ({"photos": ["https://example.com/" + "p" * 2029]}, "photos.0"),
    ({"photos": ["https://exa mple.com/a.jpg"]}, "photos.0"),
    ({"photos": ["https://example.com/ل.jpg"]}, "photos.0"),
    ({"photos": ["example.com/a.jpg"]}, "photos.0"),
    ({"photos": [None]}, "photos.0"),
    ({"available_from": "2030-02-30"}, "available_from"),
    ({"available_from": "2030-3-1"}, "available_from"),
    ({"available_from": "2030-03-01T10:00:00Z"}, "available_from"),
    ({"available_from": "20300301"}, "available_from"),
    ({"available_from": ""}, "available_from"),
    ({"available_from": 20300301}, "available_from"),
    ({"attributes": None}, "attributes"),
    ({"attributes": [1, 2]}, "attributes"),
    ({"id": str(uuid.uuid4())}, "id"),
    ({"created_at": "2026-01-01T00:00:00.000000Z"}, "created_at"),
    ({"updated_at": "2026-01-01T00:00:00.000000Z"}, "updated_at"),
    ({"deleted_at": "2026-01-01T00:00:00.000000Z"}, "deleted_at"),
    ({"tenant_id": str(uuid.uuid4())}, "tenant_id"),
    ({"unknown_field": 1}, "unknown_field"),
]


@pytest.mark.parametrize("change,field", BAD_CREATE)
def test_bad_create_bodies_are_400_naming_the_field(client, auth, written, change, field):
    body = {**BODY, **change}
    if field in ("title", "price") and field not in change:
        del body[field]
    before = written()
    assert_error(client.post(OFFERINGS, headers=auth, json=body), 400, "bad_request", field)
    assert written() == before


# ---------------------------------------------------------------------------------------------
# Update
# ---------------------------------------------------------------------------------------------

def test_patch_changes_only_given_fields(app, client, auth):
    offering = client.post(OFFERINGS, headers=auth, json={
        **BODY, "status": "available", "photos": [URL], "address": "Marina"}).get_json()
    response = client.patch(f"{OFFERINGS}/{offering['id']}", headers=auth, json={
        "title": "Marina View 3BR", "address": None, "photos": [], "price_currency": "USD",
        "available_from": "2030-03-01"})
    assert response.status_code == 200
    updated = response.get_json()
    assert updated == {**offering, "title": "Marina View 3BR", "address": None, "photos": [],
                       "price_currency": "USD", "available_from": "2030-03-01",
                       "updated_at": updated["updated_at"]}
    assert updated["updated_at"] > offering["updated_at"]
    assert client.get(f"{OFFERINGS}/{offering['id']}", headers=auth).get_json() == updated


def test_patch_shallow_merges_attributes_and_null_deletes(client, auth):
    offering = client.post(OFFERINGS, headers=auth, json={
        **BODY, "attributes": {"bedrooms": 2, "area": "Marina", "budget": {"min": 1},
                               "kept": None}}).get_json()
    response = client.patch(f"{OFFERINGS}/{offering['id']}", headers=auth, json={
        "attributes": {"bedrooms": 3, "area": None, "budget": {"max": 9}, "new": True}})
    assert response.get_json()["attributes"] == {"bedrooms": 3, "budget": {"max": 9},
                                                 "kept": None, "new": True}


BAD_PATCH = [
    ({}, "_schema"),
    ({"id": str(uuid.uuid4())}, "id"),
    ({"created_at": "2026-01-01T00:00:00.000000Z"}, "created_at"),
    ({"updated_at": "2026-01-01T00:00:00.000000Z"}, "updated_at"),
    ({"title": None}, "title"),
    ({"title": ""}, "title"),
    ({"price": None}, "price"),
    ({"price": "1"}, "price"),
    ({"price": 0.00001}, "price"),
    ({"price_currency": None}, "price_currency"),
    ({"photos": None}, "photos"),
    ({"photos": ["ftp://example.com/a.jpg"]}, "photos.0"),
    ({"available_from": "2030-02-30"}, "available_from"),
    ({"attributes": None}, "attributes"),
    ({"status": "x" * 41}, "status"),
    ({"title": "fine", "whatever": 1}, "whatever"),
]


@pytest.mark.parametrize("body,field", BAD_PATCH)
def test_bad_patch_bodies_are_400_and_change_nothing(client, auth, offering, written,
                                                     body, field):
    before = written()
    response = client.patch(f"{OFFERINGS}/{offering['id']}", headers=auth, json=body)
    error = assert_error(response, 400, "bad_request")
    assert field in error["fields"], error
    assert written() == before
    assert client.get(f"{OFFERINGS}/{offering['id']}", headers=auth).get_json() == offering


# ---------------------------------------------------------------------------------------------
# Errors: unknown ids, other tenants, scopes, every documented status
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("offering_id", [str(uuid.uuid4()), "not-a-uuid", "1", "x" * 300])
def test_unknown_offering_ids_are_404(client, auth, written, offering_id):
    before = written()
    assert_error(client.get(f"{OFFERINGS}/{offering_id}", headers=auth), 404, "not_found")
    assert_error(client.patch(f"{OFFERINGS}/{offering_id}", headers=auth, json={"title": "x"}),
                 404, "not_found")
    assert written() == before


def test_other_tenants_offering_is_404_exactly_as_a_missing_one(client, other_auth, offering,
                                                                written):
    missing = str(uuid.uuid4())
    before = written()
    for method, body in (("GET", None), ("PATCH", {"title": "taken over"})):
        theirs = client.open(f"{OFFERINGS}/{offering['id']}", method=method,
                             headers=other_auth, json=body)
        nothing = client.open(f"{OFFERINGS}/{missing}", method=method, headers=other_auth,
                              json=body)
        assert_error(theirs, 404, "not_found")
        assert theirs.data == nothing.data.replace(missing.encode(), offering["id"].encode())
    assert client.get(OFFERINGS, headers=other_auth).get_json()["data"] == []
    assert written() == before


@pytest.mark.parametrize("method,path,body", [
    ("POST", "", BODY), ("PATCH", "/{id}", {"title": "x"}),
])
def test_writes_need_offerings_write(client, make_key, offering, written, method, path, body):
    others = make_key("acme", [s for s in SCOPES if s != "offerings:write"])
    before = written()
    response = client.open(OFFERINGS + path.format(id=offering["id"]), method=method,
                           headers=others, json=body)
    assert "offerings:write" in assert_error(response, 403, "forbidden")["message"]
    only = make_key("acme", ["offerings:write"])
    assert client.open(OFFERINGS + path.format(id=offering["id"]), method=method,
                       headers=only, json=body).status_code in (200, 201)
    assert written() != before


@pytest.mark.parametrize("path", ["", "/{id}"])
def test_reads_need_read(client, make_key, offering, path):
    url = OFFERINGS + path.format(id=offering["id"])
    writer = make_key("acme", [s for s in SCOPES if s != "read"])
    assert "read" in assert_error(client.get(url, headers=writer), 403, "forbidden")["message"]
    assert client.get(url, headers=make_key("acme", ["read"])).status_code == 200
    assert_error(client.get(url), 401, "unauthorized")


@pytest.mark.parametrize("method,path", [("POST", ""), ("PATCH", "/{id}")])
def test_bodies_that_are_not_json_objects(app, client, auth, offering, written, method, path):
    url = OFFERINGS + path.format(id=offering["id"])
    before = written()
    assert_error(client.open(url, method=method, headers=auth, data="[]",
                             content_type="application/json"), 400, "bad_request")
    assert_error(client.open(url, method=method, headers=auth, data="{}",
                             content_type="text/plain"), 415, "bad_request")
    too_big = " " * (app.config["MAX_CONTENT_LENGTH"] + 1)
    assert_error(client.open(url, method=method, headers=auth, data=too_big,
                             content_type="application/json"), 413, "bad_request")
    assert_error(client.open(url, method=method, data="{}", content_type="application/json"),
                 401, "unauthorized")
    assert written() == before


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"),
    ("cursor=nope", "cursor"), (f"cursor={uuid.uuid4()}", "cursor"), ("status=x", "status"),
])
def test_bad_list_queries_are_400_naming_the_parameter(client, auth, query, field):
    assert_error(client.get(f"{OFFERINGS}?{query}", headers=auth), 400, "bad_request", field)


def test_over_the_rate_limit_is_429(app, client, auth, offering):
    app.config["RATELIMIT_PER_KEY"] = "1 per minute"
    assert client.get(f"{OFFERINGS}/{offering['id']}", headers=auth).status_code == 200
    response = client.post(OFFERINGS, headers=auth, json=BODY)
    assert_error(response, 429, "rate_limited")
    assert "Retry-After" in response.headers


def test_a_reused_idempotency_key_with_another_body_is_409(client, auth, written):
    headers = {**auth, "Idempotency-Key": "offer-1"}
    first = client.post(OFFERINGS, headers=headers, json=BODY)
    again = client.post(OFFERINGS, headers=headers, json=BODY)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"]
    before = written()
    assert_error(client.post(OFFERINGS, headers=headers, json={**BODY, "price": 2}), 409,
                 "conflict")
    assert written() == before


# ---------------------------------------------------------------------------------------------
# Lists: newest first, keyset pages across ties
# ---------------------------------------------------------------------------------------------

def make_offerings(client, auth, count):
    return [client.post(OFFERINGS, headers=auth, json={**BODY, "title": f"#{n}"}).get_json()
            for n in range(count)]


def walk(client, auth, limit):
    """Return the pages of the whole list, as lists of ids."""
    pages, cursor = [], None
    while True:
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"{OFFERINGS}?{query}", headers=auth).get_json()
        pages.append([offering["id"] for offering in page["data"]])
        assert page["has_more"] is (page["next_cursor"] is not None)
        if not page["has_more"]:
            return pages
        cursor = page["next_cursor"]


def test_list_is_newest_first(client, auth):
    made = make_offerings(client, auth, 3)
    page = client.get(OFFERINGS, headers=auth).get_json()
    assert [o["id"] for o in page["data"]] == [o["id"] for o in reversed(made)]
    assert page["data"][0] == made[-1]
    assert page["has_more"] is False and page["next_cursor"] is None


def test_keyset_pages_across_equal_created_at(app, client, auth):
    made = make_offerings(client, auth, 7)
    with app.app_context():
        Offering.update(created_at="2030-01-01T00:00:00.000000Z").execute()
    pages = walk(client, auth, 2)
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    # Ties on created_at go by id, descending: every row once, none skipped.
    assert [i for page in pages for i in page] == sorted((o["id"] for o in made), reverse=True)


# ---------------------------------------------------------------------------------------------
# The operator's soft delete
# ---------------------------------------------------------------------------------------------

def test_delete_prints_what_it_deleted_and_hides_the_offering(app, client, auth, runner,
                                                              offering):
    result = delete(runner, offering["id"])
    assert result.exit_code == 0, result.output
    assert offering["id"] in result.output and offering["title"] in result.output
    assert "acme" in result.output
    url = f"{OFFERINGS}/{offering['id']}"
    assert_error(client.get(url, headers=auth), 404, "not_found")
    assert_error(client.patch(url, headers=auth, json={"title": "back"}), 404, "not_found")
    assert client.get(OFFERINGS, headers=auth).get_json()["data"] == []
    with app.app_context():
        row = Offering.get_by_id(offering["id"])
    assert row.deleted_at is not None and row.title == offering["title"]


def test_delete_emits_no_event_and_refuses_twice_and_unknown_ids(app, runner, offering):
    before = events_of(app, "offering.created", "offering.updated")
    assert delete(runner, offering["id"].upper()).exit_code == 0
    again = delete(runner, offering["id"])
    assert again.exit_code != 0 and "already deleted" in again.output
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        result = delete(runner, unknown)
        assert result.exit_code != 0 and unknown in result.output
    assert events_of(app, "offering.created", "offering.updated") == before


def test_a_cursor_at_a_deleted_offering_still_pages_on(client, auth, runner):
    oldest, middle, newest = make_offerings(client, auth, 3)
    first = client.get(f"{OFFERINGS}?limit=1", headers=auth).get_json()
    assert first["next_cursor"] == newest["id"]
    assert delete(runner, newest["id"]).exit_code == 0
    assert delete(runner, middle["id"]).exit_code == 0
    rest = client.get(f"{OFFERINGS}?limit=1&cursor={newest['id']}", headers=auth).get_json()
    assert [o["id"] for o in rest["data"]] == [oldest["id"]] and rest["has_more"] is False


def test_a_deleted_offering_stays_linked_to_earlier_appointments(app, runner, offering):
    with app.app_context():
        appointment = Appointment.create(
            tenant=Tenant.get(Tenant.slug == "acme"), customer_name="Layla",
            customer_phone="+971500000001", scheduled_start="2030-03-01T10:00:00.000000Z",
            scheduled_end="2030-03-01T11:00:00.000000Z", offering=offering["id"])
    assert delete(runner, offering["id"]).exit_code == 0
    with app.app_context():
        kept = Appointment.get_by_id(appointment.id)
        assert kept.offering_id == offering["id"]
        assert kept.offering.title == offering["title"]


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------

def test_create_and_update_emit_their_events_with_the_offering(app, client, auth):
    created = client.post(OFFERINGS, headers=auth, data='{"title": "t", "price": 19.990}',
                          content_type="application/json").get_json()
    updated = client.patch(f"{OFFERINGS}/{created['id']}", headers=auth,
                           json={"attributes": {"a": 1}}).get_json()
    assert events_of(app, "offering.created", "offering.updated") == [
        ("offering.created", created), ("offering.updated", updated)]
    assert created["price"] == "19.99"
    listed = client.get("/api/v1/events?event=offering.updated", headers=auth).get_json()
    assert [event["data"] for event in listed["data"]] == [updated]
    assert json.dumps(listed).count(created["id"]) == 1
