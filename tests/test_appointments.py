"""POST/GET/PATCH /api/v1/appointments: times as instants, links, lifecycle events, paging."""
import uuid

import pytest

from helpers import assert_error
from vorel_lite.models import Appointment, Event, Offering, Tenant, utc_now

APPOINTMENTS = "/api/v1/appointments"
START, END = "2030-03-01T10:00:00Z", "2030-03-01T11:00:00Z"
BODY = {"customer_name": "Layla Haddad", "customer_phone": "+971500000001",
        "scheduled_start": START, "scheduled_end": END}


def create(client, auth, **fields):
    """Create an appointment from BODY with fields changed; return it as the API did."""
    response = client.post(APPOINTMENTS, headers=auth, json={**BODY, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def events(app):
    """Return a function listing (event, data) of the booking events, oldest first."""
    def booking_events():
        with app.app_context():
            return [(e.event, e.data) for e in Event.select().order_by(Event.created_at, Event.id)
                    if e.event.startswith("booking.")]
    return booking_events


@pytest.fixture
def counts(app):
    """Return a function counting appointments and events, to prove nothing was written."""
    def count():
        with app.app_context():
            return Appointment.select().count(), Event.select().count()
    return count


@pytest.fixture
def make_offering(app):
    """Return a function creating an offering of a tenant (through the model) and its id."""
    def make(slug="acme", deleted=False):
        with app.app_context():
            tenant = Tenant.get(Tenant.slug == slug)
            row = Offering.create(tenant=tenant, title="Marina flat", price="100",
                                  deleted_at=utc_now() if deleted else None)
        return row.id
    return make


def soft_delete(app, offering_id):
    with app.app_context():
        Offering.update(deleted_at=utc_now()).where(Offering.id == offering_id).execute()


def without_id(message, row_id):
    """The message with the id it quotes blanked, to compare the answers of two ids."""
    return message.replace(row_id, "<id>")


# --- create and read -------------------------------------------------------------------------

def test_create_returns_the_appointment_with_defaults(client, auth, events):
    response = client.post(APPOINTMENTS, headers=auth, json=BODY)
    assert response.status_code == 201
    made = response.get_json()
    assert uuid.UUID(made["id"]).version == 4
    assert made["scheduled_start"] == "2030-03-01T10:00:00.000000Z"
    assert made["scheduled_end"] == "2030-03-01T11:00:00.000000Z"
    assert made["status"] == "confirmed"
    for name in ("customer_email", "location_text", "conversation_id", "lead_id", "offering_id",
                 "google_calendar_event_id"):
        assert made[name] is None
    assert made["created_at"].endswith("Z") and len(made["created_at"]) == 27
    assert client.get(f"{APPOINTMENTS}/{made['id']}", headers=auth).get_json() == made
    assert events() == [("booking.created", made)]


def test_create_keeps_every_field_and_links(client, auth, lead, make_offering):
    offering_id = make_offering()
    body = {**BODY, "customer_email": "layla@example.com", "location_text": "Marina, tower 2",
            "status": "rescheduled", "conversation_id": lead["conversation_id"],
            "lead_id": lead["id"], "offering_id": offering_id}
    made = create(client, auth, **body)
    kept = {k: v for k, v in body.items() if not k.startswith("scheduled_")}
    assert {k: made[k] for k in kept} == kept


def test_times_are_stored_as_the_same_instant_in_utc(client, auth):
    made = create(client, auth, scheduled_start="2030-03-01t14:00:00.5+04:00",
                  scheduled_end="2030-03-01T06:30:00-04:00")
    assert made["scheduled_start"] == "2030-03-01T10:00:00.500000Z"
    assert made["scheduled_end"] == "2030-03-01T10:30:00.000000Z"


def test_end_after_start_compares_instants_not_text(client, auth, counts):
    # 13:00+04:00 is 09:00Z: before 10:00Z although its text sorts after it.
    early, late = "2030-03-01T13:00:00+04:00", "2030-03-01T10:00:00Z"
    made = create(client, auth, scheduled_start=early, scheduled_end=late)
    assert made["scheduled_start"] == "2030-03-01T09:00:00.000000Z"
    before = counts()
    response = client.post(APPOINTMENTS, headers=auth,
                           json={**BODY, "scheduled_start": late, "scheduled_end": early})
    assert_error(response, 400, "bad_request", "scheduled_end")
    assert counts() == before


def test_customer_phone_is_any_text_kept_as_given(client, auth):
    assert create(client, auth, customer_phone="call me!")["customer_phone"] == "call me!"
    assert create(client, auth, customer_phone="ل" * 32)["customer_phone"] == "ل" * 32


BAD_CREATE = [
    ({"customer_name": None}, "customer_name"),
    ({"customer_name": ""}, "customer_name"),
    ({"customer_name": "x" * 201}, "customer_name"),
    ({"customer_name": 5}, "customer_name"),
    ({"customer_phone": None}, "customer_phone"),
    ({"customer_phone": "1234"}, "customer_phone"),
    ({"customer_phone": "1" * 33}, "customer_phone"),
    ({"customer_phone": 971500000001}, "customer_phone"),
    ({"customer_email": "not-an-email"}, "customer_email"),
    ({"customer_email": "a" * 250 + "@x.io"}, "customer_email"),
    ({"location_text": "x" * 501}, "location_text"),
    ({"status": "booked"}, "status"),
    ({"status": None}, "status"),
    ({"status": "CONFIRMED"}, "status"),
    ({"scheduled_start": None}, "scheduled_start"),
    ({"scheduled_start": "2030-03-01T10:00:00"}, "scheduled_start"),
    ({"scheduled_start": "2030-03-01"}, "scheduled_start"),
    ({"scheduled_start": "2030-03-01 10:00:00Z"}, "scheduled_start"),
    ({"scheduled_start": "2030-02-30T10:00:00Z"}, "scheduled_start"),
    ({"scheduled_start": "2030-03-01T10:00:00+0400"}, "scheduled_start"),
    ({"scheduled_start": "2030-03-01T24:00:00Z"}, "scheduled_start"),
    ({"scheduled_start": 1900000000}, "scheduled_start"),
    ({"scheduled_start": "tomorrow at ten"}, "scheduled_start"),
    ({"scheduled_start": "0001-01-01T00:30:00+01:00"}, "scheduled_start"),
    ({"scheduled_end": "9999-12-31T23:00:00-05:00"}, "scheduled_end"),
    ({"scheduled_end": START}, "scheduled_end"),
    ({"scheduled_end": "2030-03-01T09:59:59.999999Z"}, "scheduled_end"),
    ({"conversation_id": "not-a-uuid"}, "conversation_id"),
    ({"lead_id": 42}, "lead_id"),
    ({"offering_id": "0" * 32}, "offering_id"),
    ({"google_calendar_event_id": "abc"}, "google_calendar_event_id"),
    ({"google_calendar_event_id": None}, "google_calendar_event_id"),
    ({"id": str(uuid.uuid4())}, "id"),
    ({"created_at": "2030-01-01T00:00:00Z"}, "created_at"),
    ({"whatever": 1}, "whatever"),
]


@pytest.mark.parametrize("change,field", BAD_CREATE)
def test_bad_create_bodies_are_400_naming_the_field(client, auth, counts, events, change, field):
    before = counts()
    response = client.post(APPOINTMENTS, headers=auth, json={**BODY, **change})
    assert_error(response, 400, "bad_request", field)
    assert counts() == before and events() == []


@pytest.mark.parametrize("field", ["customer_name", "customer_phone", "scheduled_start",
                                   "scheduled_end"])
def test_required_fields_are_400_when_missing(client, auth, counts, field):
    before = counts()
    body = {k: v for k, v in BODY.items() if k != field}
    assert_error(client.post(APPOINTMENTS, headers=auth, json=body), 400, "bad_request", field)
    assert counts() == before


def test_a_bad_body_is_400_before_a_bad_link_is_404(client, auth):
    response = client.post(APPOINTMENTS, headers=auth, json={
        **BODY, "customer_name": "", "lead_id": str(uuid.uuid4())})
    assert_error(response, 400, "bad_request", "customer_name")


# --- links -----------------------------------------------------------------------------------

LINK_NAMES = ("conversation_id", "lead_id", "offering_id")


@pytest.fixture
def links(lead, make_offering):
    """A valid value for each link of tenant acme."""
    return {"conversation_id": lead["conversation_id"], "lead_id": lead["id"],
            "offering_id": make_offering()}


@pytest.mark.parametrize("name", LINK_NAMES)
def test_each_missing_link_is_404_naming_only_it(client, auth, links, counts, events, name):
    before = counts()
    missing = str(uuid.uuid4())
    response = client.post(APPOINTMENTS, headers=auth, json={**BODY, **links, name: missing})
    error = assert_error(response, 404, "not_found")
    assert name in error["message"] and missing in error["message"]
    assert [other for other in LINK_NAMES if other in error["message"]] == [name]
    assert counts() == before and events() == []


@pytest.mark.parametrize("name", LINK_NAMES)
def test_another_tenants_link_answers_as_a_missing_one(client, auth, other_auth, links,
                                                       make_offering, counts, name):
    other_conversation = client.post("/api/v1/conversations", headers=other_auth, json={
        "channel": "voice", "customer_identifier": "+15550000001"}).get_json()
    other_lead = client.post("/api/v1/leads", headers=other_auth, json={
        "conversation_id": other_conversation["id"]}).get_json()
    theirs = {"conversation_id": other_conversation["id"], "lead_id": other_lead["id"],
              "offering_id": make_offering("globex")}[name]
    missing = str(uuid.uuid4())
    before = counts()
    answers = [client.post(APPOINTMENTS, headers=auth, json={**BODY, **links, name: row_id})
               for row_id in (theirs, missing)]
    assert [r.status_code for r in answers] == [404, 404]
    first, second = (r.get_json() for r in answers)
    assert without_id(first["error"]["message"], theirs) == \
        without_id(second["error"]["message"], missing)
    assert set(first["error"]) == set(second["error"]) == {"code", "message"}
    assert counts() == before


def test_a_soft_deleted_offering_is_404(client, auth, make_offering):
    gone = make_offering(deleted=True)
    error = assert_error(client.post(APPOINTMENTS, headers=auth,
                                     json={**BODY, "offering_id": gone}), 404, "not_found")
    assert "offering_id" in error["message"]


def test_an_appointment_whose_offering_is_deleted_later_still_reads(app, client, auth,
                                                                    make_offering):
    offering_id = make_offering()
    made = create(client, auth, offering_id=offering_id)
    soft_delete(app, offering_id)
    assert client.get(f"{APPOINTMENTS}/{made['id']}", headers=auth).get_json() == made
    assert client.get(APPOINTMENTS, headers=auth).get_json()["data"] == [made]
    response = client.patch(f"{APPOINTMENTS}/{made['id']}", headers=auth,
                            json={"location_text": "Lobby"})
    assert response.status_code == 200
    assert response.get_json()["offering_id"] == offering_id


def test_uppercase_links_find_their_rows(client, auth, lead):
    made = create(client, auth, lead_id=lead["id"].upper())
    assert made["lead_id"] == lead["id"]


def test_null_links_are_no_links(client, auth):
    made = create(client, auth, **dict.fromkeys(LINK_NAMES))
    assert [made[name] for name in LINK_NAMES] == [None, None, None]


# --- update ----------------------------------------------------------------------------------

def patch(client, auth, appointment, body):
    return client.patch(f"{APPOINTMENTS}/{appointment['id']}", headers=auth, json=body)


def test_patch_changes_only_given_fields(client, auth, appointment, events):
    response = patch(client, auth, appointment, {"customer_email": "l@example.com",
                                                 "location_text": "Lobby"})
    assert response.status_code == 200
    updated = response.get_json()
    assert updated == {**appointment, "customer_email": "l@example.com",
                       "location_text": "Lobby"}
    assert client.get(f"{APPOINTMENTS}/{appointment['id']}", headers=auth).get_json() == updated
    updated = patch(client, auth, appointment, {"customer_email": None}).get_json()
    assert updated["customer_email"] is None
    assert [name for name, _ in events()] == ["booking.created"]


@pytest.mark.parametrize("field,value,stored", [
    ("scheduled_start", "2030-03-01T12:30:00+04:00", "2030-03-01T08:30:00.000000Z"),
    ("scheduled_start", "2030-03-01T10:59:59.999999Z", "2030-03-01T10:59:59.999999Z"),
    ("scheduled_end", "2030-03-01T10:00:00.000001Z", "2030-03-01T10:00:00.000001Z"),
    ("scheduled_end", "2030-03-01T08:00:00-04:00", "2030-03-01T12:00:00.000000Z"),
])
def test_patch_may_move_one_end_when_the_result_is_valid(client, auth, appointment, events,
                                                         field, value, stored):
    response = patch(client, auth, appointment, {field: value})
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert updated == {**appointment, field: stored}
    assert events()[1:] == [("booking.rescheduled", updated)]


@pytest.mark.parametrize("field,value", [
    ("scheduled_start", END), ("scheduled_start", "2030-03-01T15:00:00+04:00"),
    ("scheduled_start", "2031-01-01T00:00:00Z"),
    ("scheduled_end", START), ("scheduled_end", "2030-03-01T13:59:59+04:00"),
    ("scheduled_end", "2029-01-01T00:00:00Z"),
])
def test_patch_moving_one_end_past_the_other_is_400(client, auth, appointment, counts,
                                                    field, value):
    before = counts()
    assert_error(patch(client, auth, appointment, {field: value}), 400, "bad_request", field)
    assert counts() == before
    assert client.get(f"{APPOINTMENTS}/{appointment['id']}", headers=auth).get_json() \
        == appointment


def test_patch_may_move_both_ends_past_the_stored_ones(client, auth, appointment):
    body = {"scheduled_start": "2030-03-02T10:00:00Z", "scheduled_end": "2030-03-02T11:00:00Z"}
    assert patch(client, auth, appointment, body).status_code == 200
    body = {"scheduled_start": "2030-03-01T10:00:00Z", "scheduled_end": "2030-03-01T09:00:00Z"}
    assert_error(patch(client, auth, appointment, body), 400, "bad_request", "scheduled_end")


def test_repeating_the_stored_time_is_not_a_reschedule(client, auth, appointment, events):
    response = patch(client, auth, appointment, {"scheduled_start": "2030-03-01T14:00:00+04:00",
                                                 "scheduled_end": END})
    assert response.get_json() == appointment
    assert [name for name, _ in events()] == ["booking.created"]


@pytest.mark.parametrize("status", ["confirmed", "no_show", "cancelled"])
def test_a_reschedule_keeps_the_status(client, auth, events, status):
    made = create(client, auth, status=status)
    updated = patch(client, auth, made, {"scheduled_end": "2030-03-01T12:00:00Z"}).get_json()
    assert updated["status"] == status
    assert events()[1:] == [("booking.rescheduled", updated)]


def test_a_reschedule_and_a_cancel_emit_both_rescheduled_first(client, auth, appointment,
                                                               events):
    response = patch(client, auth, appointment, {"status": "cancelled",
                                                 "scheduled_start": "2030-03-01T09:00:00Z"})
    updated = response.get_json()
    assert updated["status"] == "cancelled"
    assert events()[1:] == [("booking.rescheduled", updated), ("booking.cancelled", updated)]


@pytest.mark.parametrize("status,event", [("cancelled", "booking.cancelled"),
                                          ("completed", "booking.completed")])
def test_status_moves_to_cancelled_or_completed_emit_their_event(client, auth, appointment,
                                                                 events, status, event):
    updated = patch(client, auth, appointment, {"status": status}).get_json()
    assert updated == {**appointment, "status": status}
    assert events()[1:] == [(event, updated)]
    # Already there: the status does not move, nothing is emitted.
    patch(client, auth, appointment, {"status": status})
    assert len(events()) == 2


@pytest.mark.parametrize("body", [
    {"status": "rescheduled"}, {"status": "no_show"}, {"customer_name": "Layla H."},
    {"customer_phone": "+971500000002"}, {"customer_email": "l@example.com"},
    {"location_text": "Lobby"}, {"location_text": None},
])
def test_other_changes_emit_nothing(client, auth, appointment, events, body):
    response = patch(client, auth, appointment, body)
    assert response.status_code == 200
    assert response.get_json() == {**appointment, **body}
    assert [name for name, _ in events()] == ["booking.created"]


def test_status_may_move_from_any_value_to_any_value(client, auth, appointment, events):
    for status in ("cancelled", "confirmed", "completed", "no_show", "cancelled", "rescheduled",
                   "completed"):
        assert patch(client, auth, appointment, {"status": status}).get_json()["status"] \
            == status
    assert [name for name, _ in events()] == ["booking.created", "booking.cancelled",
                                              "booking.completed", "booking.cancelled",
                                              "booking.completed"]


BAD_PATCH = [
    ({}, "_schema"),
    ({"conversation_id": str(uuid.uuid4())}, "conversation_id"),
    ({"lead_id": None}, "lead_id"),
    ({"offering_id": str(uuid.uuid4())}, "offering_id"),
    ({"google_calendar_event_id": "abc"}, "google_calendar_event_id"),
    ({"id": str(uuid.uuid4())}, "id"),
    ({"created_at": "2030-01-01T00:00:00Z"}, "created_at"),
    ({"customer_name": None}, "customer_name"),
    ({"customer_name": ""}, "customer_name"),
    ({"customer_phone": "1234"}, "customer_phone"),
    ({"customer_email": "nope"}, "customer_email"),
    ({"location_text": "x" * 501}, "location_text"),
    ({"status": None}, "status"),
    ({"status": "booked"}, "status"),
    ({"scheduled_start": None}, "scheduled_start"),
    ({"scheduled_start": "2030-03-01T09:00:00"}, "scheduled_start"),
    ({"scheduled_end": "2030-03-01"}, "scheduled_end"),
    ({"scheduled_end": "9999-12-31T23:00:00-05:00"}, "scheduled_end"),
    ({"whatever": 1}, "whatever"),
]


@pytest.mark.parametrize("body,field", BAD_PATCH)
def test_bad_patch_bodies_are_400_and_change_nothing(client, auth, appointment, counts, events,
                                                     body, field):
    before = counts()
    error = assert_error(patch(client, auth, appointment, body), 400, "bad_request")
    assert field in error["fields"]
    assert counts() == before
    assert client.get(f"{APPOINTMENTS}/{appointment['id']}", headers=auth).get_json() \
        == appointment
    assert [name for name, _ in events()] == ["booking.created"]


# --- tenancy, ids, scopes --------------------------------------------------------------------

@pytest.mark.parametrize("appointment_id", [str(uuid.uuid4()), "not-a-uuid", "1", "x" * 300])
def test_unknown_appointment_ids_are_404(client, auth, appointment_id):
    assert_error(client.get(f"{APPOINTMENTS}/{appointment_id}", headers=auth), 404, "not_found")
    assert_error(client.patch(f"{APPOINTMENTS}/{appointment_id}", headers=auth,
                              json={"status": "cancelled"}), 404, "not_found")


def test_another_tenants_appointment_answers_as_a_missing_one(client, auth, other_auth,
                                                              appointment, counts, events):
    missing = str(uuid.uuid4())
    before = counts()
    for method, body in (("GET", None), ("PATCH", {"status": "cancelled"})):
        theirs, nothing = (client.open(f"{APPOINTMENTS}/{row_id}", method=method,
                                       headers=other_auth, json=body)
                           for row_id in (appointment["id"], missing))
        assert theirs.status_code == nothing.status_code == 404
        assert without_id(theirs.get_json()["error"]["message"], appointment["id"]) == \
            without_id(nothing.get_json()["error"]["message"], missing)
    assert counts() == before and len(events()) == 1
    assert client.get(APPOINTMENTS, headers=other_auth).get_json()["data"] == []
    assert client.get(f"{APPOINTMENTS}/{appointment['id']}", headers=auth).get_json() \
        == appointment


def test_writes_need_the_appointments_write_scope(client, make_key, appointment, counts):
    read_only = make_key("acme", ["read", "leads:write"])
    before = counts()
    error = assert_error(client.post(APPOINTMENTS, headers=read_only, json=BODY), 403,
                         "forbidden")
    assert "appointments:write" in error["message"]
    assert_error(client.patch(f"{APPOINTMENTS}/{appointment['id']}", headers=read_only,
                              json={"status": "cancelled"}), 403, "forbidden")
    assert counts() == before
    assert client.get(APPOINTMENTS, headers=read_only).status_code == 200
    assert client.get(f"{APPOINTMENTS}/{appointment['id']}", headers=read_only).status_code \
        == 200


def test_reads_need_the_read_scope_and_writes_only_theirs(client, make_key, appointment):
    writer = make_key("acme", ["appointments:write"])
    assert_error(client.get(APPOINTMENTS, headers=writer), 403, "forbidden")
    assert_error(client.get(f"{APPOINTMENTS}/{appointment['id']}", headers=writer), 403,
                 "forbidden")
    assert client.post(APPOINTMENTS, headers=writer, json=BODY).status_code == 201


def test_every_operation_needs_a_key(client, appointment):
    for method, url in (("GET", APPOINTMENTS), ("POST", APPOINTMENTS),
                        ("GET", f"{APPOINTMENTS}/{appointment['id']}"),
                        ("PATCH", f"{APPOINTMENTS}/{appointment['id']}")):
        assert_error(client.open(url, method=method, json={}), 401, "unauthorized")


# --- list ------------------------------------------------------------------------------------

def walk(client, auth, limit):
    """Return every row of the list, page by page, and the number of pages."""
    rows, cursor, pages = [], None, 0
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = client.get(APPOINTMENTS, headers=auth, query_string=query).get_json()
        rows += page["data"]
        pages += 1
        assert page["has_more"] is (page["next_cursor"] is not None)
        if not page["has_more"]:
            return rows, pages
        cursor = page["next_cursor"]


def test_list_is_by_scheduled_start_latest_first_ties_by_id(client, auth, other_auth):
    # Three share one instant, written three ways; the others are around it.
    starts = ["2030-03-01T10:00:00Z", "2030-03-01T14:00:00+04:00", "2030-03-01T06:00:00-04:00",
              "2030-03-01T09:59:59.999999Z", "2030-03-01T10:00:00.000001Z",
              "2031-01-01T00:00:00Z", "2029-12-31T23:00:00-01:00", "2030-03-01T10:00:00Z"]
    made = [create(client, auth, scheduled_start=start, scheduled_end="2032-01-01T00:00:00Z")
            for start in starts]
    create(client, other_auth)
    expected = sorted(made, key=lambda a: (a["scheduled_start"], a["id"]), reverse=True)
    page = client.get(APPOINTMENTS, headers=auth).get_json()
    assert page["data"] == expected
    assert page["has_more"] is False and page["next_cursor"] is None
    for limit in (1, 2, 3):
        rows, pages = walk(client, auth, limit)
        assert rows == expected
        assert pages == -(-len(expected) // limit)


def test_rows_created_while_paging_are_neither_skipped_nor_repeated(client, auth):
    made = [create(client, auth) for _ in range(4)]  # all four at one instant
    first = client.get(APPOINTMENTS, headers=auth, query_string={"limit": 2}).get_json()
    later = create(client, auth, scheduled_start="2029-01-01T00:00:00Z")
    rest = walk_from(client, auth, first["next_cursor"])
    seen = [a["id"] for a in first["data"] + rest]
    by_id = sorted(made, key=lambda a: a["id"], reverse=True)
    assert seen == [a["id"] for a in by_id] + [later["id"]]


def walk_from(client, auth, cursor):
    rows = []
    while cursor:
        page = client.get(APPOINTMENTS, headers=auth,
                          query_string={"limit": 2, "cursor": cursor}).get_json()
        rows += page["data"]
        cursor = page["next_cursor"]
    return rows


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"),
    ("cursor=nope", "cursor"), (f"cursor={uuid.uuid4()}", "cursor"), ("status=cancelled", "status"),
])
def test_bad_list_queries_are_400_naming_the_parameter(client, auth, query, field):
    assert_error(client.get(f"{APPOINTMENTS}?{query}", headers=auth), 400, "bad_request", field)


def test_another_tenants_row_is_no_cursor(client, auth, other_auth):
    theirs = create(client, other_auth)
    assert_error(client.get(APPOINTMENTS, headers=auth, query_string={"cursor": theirs["id"]}),
                 400, "bad_request", "cursor")


# --- the other documented errors, and retries ------------------------------------------------

def test_bodies_that_are_not_json_objects_are_refused(app, client, auth, appointment, counts):
    before = counts()
    url = f"{APPOINTMENTS}/{appointment['id']}"
    for method, target in (("POST", APPOINTMENTS), ("PATCH", url)):
        assert_error(client.open(target, method=method, headers=auth, data="{}",
                                 content_type="text/plain"), 415, "bad_request")
        assert_error(client.open(target, method=method, headers=auth, json=[BODY]), 400,
                     "bad_request")
        too_large = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
        assert_error(client.open(target, method=method, headers=auth, data=too_large,
                                 content_type="application/json"), 413, "bad_request")
    assert counts() == before


def test_a_retry_with_the_idempotency_key_books_once(client, auth, counts, events):
    headers = {**auth, "Idempotency-Key": "book-layla-1"}
    first = client.post(APPOINTMENTS, headers=headers, json=BODY)
    before = counts()
    again = client.post(APPOINTMENTS, headers=headers, json=BODY)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert counts() == before and len(events()) == 1
    other = client.post(APPOINTMENTS, headers=headers, json={**BODY, "customer_name": "Omar"})
    assert_error(other, 409, "conflict")
    assert counts() == before


def test_every_operation_is_rate_limited(app, client, make_key, appointment):
    app.config["RATELIMIT_PER_KEY"] = "1 per minute"
    url = f"{APPOINTMENTS}/{appointment['id']}"
    for method, target, body in (("GET", APPOINTMENTS, None), ("POST", APPOINTMENTS, BODY),
                                 ("GET", url, None), ("PATCH", url, {"status": "no_show"})):
        headers = make_key("acme")
        assert client.open(target, method=method, headers=headers, json=body).status_code < 400
        response = client.open(target, method=method, headers=headers, json=body)
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) >= 0


def test_a_retry_after_a_missing_link_replays_the_404(client, auth):
    headers = {**auth, "Idempotency-Key": "book-missing-lead"}
    body = {**BODY, "lead_id": str(uuid.uuid4())}
    first = client.post(APPOINTMENTS, headers=headers, json=body)
    assert_error(first, 404, "not_found")
    again = client.post(APPOINTMENTS, headers=headers, json=body)
    assert again.status_code == 404 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
