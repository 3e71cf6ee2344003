"""What the benchmarks measure: one line per endpoint.

A path or body is a template. Its placeholders are filled per request, the same way by
`fill` here (in-process runs) and by wrk_request.lua (HTTP runs):

- `{lead}`: a seeded lead of the bench tenant, rotating over all of them;
- `{conversation}`: a seeded conversation (it has a lead), rotating over all of them;
- `{fresh_conversation}`: a seeded conversation without a lead, never used before;
- `{unique}`: a number never used before by any request of the run;
- `{deep_cursor}`: the id of a lead near the end of the keyset order (the oldest leads);
- `{offering}`: a seeded offering of the bench tenant, rotating over all of them;
- `{appointment}`: a seeded appointment of the bench tenant, rotating over all of them.

To benchmark a new endpoint, add one `Endpoint(...)` line to ENDPOINTS.
"""
import re
from dataclasses import dataclass

from seed import (APPOINTMENTS, DEEP_CURSOR_INDEX, OFFERINGS, appointment_id, conversation_id,
                  fresh_conversation_id, lead_id, offering_id)


@dataclass(frozen=True)
class Endpoint:
    name: str  # as shown in the tables
    method: str
    path: str
    body: str = ""  # a JSON template; empty: no body
    status: int = 200  # the only status a successful request may answer


LEAD_BODY = ('{"conversation_id": "{fresh_conversation}", "name": "Bench Lead {unique}", '
             '"email": "lead{unique}@example.com", "phone": "+971500000000", '
             '"intent": "buy", "source": "whatsapp", "attributes": {"bedrooms": 2}}')
OFFERING_BODY = ('{"title": "Bench Offering {unique}", "price": 1850000.75, '
                 '"photos": ["https://example.com/{unique}.jpg"], "attributes": {"bedrooms": 2}}')
# Linked to a lead and its conversation: the create checks both links.
APPOINTMENT_BODY = ('{"customer_name": "Bench Customer {unique}", "customer_phone": '
                    '"+971500000000", "scheduled_start": "2030-03-01T14:00:00+04:00", '
                    '"scheduled_end": "2030-03-01T11:00:00Z", "lead_id": "{lead}", '
                    '"conversation_id": "{conversation}"}')

# The first three are the headline endpoints; the rest cover every other operation.
ENDPOINTS = (
    Endpoint("POST /api/v1/leads", "POST", "/api/v1/leads", LEAD_BODY, 201),
    Endpoint("GET /api/v1/leads/{id}", "GET", "/api/v1/leads/{lead}"),
    Endpoint("GET /api/v1/leads?limit=25", "GET", "/api/v1/leads?limit=25"),
    Endpoint("PATCH /api/v1/leads/{id}", "PATCH", "/api/v1/leads/{lead}",
             '{"name": "Bench Lead {unique}", "attributes": {"viewed": {unique}}}'),
    Endpoint("POST /api/v1/leads/{id}/handoff", "POST", "/api/v1/leads/{lead}/handoff",
             '{"reason": "bench"}', 201),
    Endpoint("POST /api/v1/conversations", "POST", "/api/v1/conversations",
             '{"channel": "webform", "customer_identifier": "bench-{unique}@example.com"}', 201),
    Endpoint("GET /api/v1/conversations/{id}", "GET", "/api/v1/conversations/{conversation}"),
    Endpoint("GET /api/v1/conversations?limit=25", "GET", "/api/v1/conversations?limit=25"),
    Endpoint("PATCH /api/v1/conversations/{id}", "PATCH",
             "/api/v1/conversations/{conversation}", '{"customer_name": "Bench {unique}"}'),
    Endpoint("POST /api/v1/conversations/{id}/send", "POST",
             "/api/v1/conversations/{conversation}/send", '{"text": "Bench message {unique}"}',
             202),
    Endpoint("POST /api/v1/offerings", "POST", "/api/v1/offerings", OFFERING_BODY, 201),
    Endpoint("GET /api/v1/offerings/{id}", "GET", "/api/v1/offerings/{offering}"),
    Endpoint("GET /api/v1/offerings?limit=25", "GET", "/api/v1/offerings?limit=25"),
    Endpoint("PATCH /api/v1/offerings/{id}", "PATCH", "/api/v1/offerings/{offering}",
             '{"price": 1999999.99, "attributes": {"viewed": {unique}}}'),
    Endpoint("POST /api/v1/appointments", "POST", "/api/v1/appointments", APPOINTMENT_BODY,
             201),
    Endpoint("GET /api/v1/appointments/{id}", "GET", "/api/v1/appointments/{appointment}"),
    Endpoint("GET /api/v1/appointments?limit=25", "GET", "/api/v1/appointments?limit=25"),
    Endpoint("PATCH /api/v1/appointments/{id}", "PATCH", "/api/v1/appointments/{appointment}",
             '{"location_text": "Bench room {unique}"}'),
    Endpoint("GET /api/v1/analytics/weekly-rollup", "GET", "/api/v1/analytics/weekly-rollup"),
    # Each push makes its real POST, to bench/crm_stub.py on loopback.
    Endpoint("POST /api/v1/crm/create-record", "POST", "/api/v1/crm/create-record",
             '{"object": "contact", "fields": {"email": "bench{unique}@example.com"}, '
             '"idempotency_key": "bench-{unique}"}'),
    Endpoint("GET /api/v1/events?limit=25", "GET", "/api/v1/events?limit=25"),
)

# The endpoints of the headline (issue 4's); the tables show every one.
HEADLINE = ENDPOINTS[:3]


# The memory run's round (5 s of each in turn): a read-heavy mix, reads of one lead twice.
MEMORY_ROUND = ENDPOINTS + (ENDPOINTS[1],)

# The ceiling: a bare Flask route returning a constant JSON (bench/bare_app.py).
BARE = Endpoint("bare route (constant JSON)", "GET", "/bare")
# The floor of a create (in-process only): the same lead and event written by a bare route.
FLOOR = Endpoint("bare create (sqlite3, nothing else)", "POST", "/bare-write", LEAD_BODY, 201)
# The floor of a read (in-process only): the lead selected by id and tenant by a bare route.
BARE_READ = Endpoint("bare read (sqlite3, nothing else)", "GET", "/bare-read/{lead}")
# The pipeline floors (bench/pipeline_floor.py): vorel-lite's app and every hook of
# POST /api/v1/leads / GET /api/v1/leads/{id}, around the bare create's / read's work; the
# validated one loads the body with the create's marshmallow schema first.
PIPELINE_CREATE = Endpoint("pipeline floor (bare create's sqlite3)", "POST",
                           "/api/v1/bench-floor/leads", LEAD_BODY, 201)
VALIDATED_CREATE = Endpoint("validated floor (bare create's sqlite3)", "POST",
                            "/api/v1/bench-floor/validated-leads", LEAD_BODY, 201)
PIPELINE_READ = Endpoint("pipeline floor (bare read's sqlite3)", "GET",
                         "/api/v1/bench-floor/leads/{lead}")

# What a part of vorel-lite costs a request, in-process: measured by turning it off.
PARTS = (
    ("the rate limiter", {"RATELIMIT_ENABLED": False}),
    ("the request log", {"LOG_LEVEL": "WARNING"}),
)
PART_ENDPOINTS = ENDPOINTS[:2] + (PIPELINE_CREATE, PIPELINE_READ)

# The servers issue 11 compares vorel-lite with over HTTP (bench/references.py): Prism's mock
# of vorel-lite's own document, and json-server on a file of leads.
PRISM_CREATE = Endpoint("Prism mock: POST /api/v1/leads", "POST", "/api/v1/leads", LEAD_BODY,
                        201)
JSON_SERVER_CREATE = Endpoint("json-server: POST /leads", "POST", "/leads", LEAD_BODY, 201)
JSON_SERVER_READ = Endpoint("json-server: GET /leads/:id", "GET", "/leads/{lead}")

# Growth with the database's size: lead creation, and the first and a deep page of the list.
GROWTH = (
    ENDPOINTS[0],
    Endpoint("first page", "GET", "/api/v1/leads?limit=25"),
    Endpoint("deep page", "GET", "/api/v1/leads?limit=25&cursor={deep_cursor}"),
)

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def takes_fresh_numbers(endpoint):
    """Tell whether each request to endpoint uses up a never-used number of the pool."""
    return any(name in ("fresh_conversation", "unique")
               for name in PLACEHOLDER.findall(endpoint.path + endpoint.body))


class Filler:
    """Fill templates for request number seq; mirrors fill() in wrk_request.lua."""

    def __init__(self, leads, conversations, fresh_start):
        self.leads = leads
        self.conversations = conversations
        self.next_unique = fresh_start

    def values(self, seq, endpoint):
        unique = self.next_unique
        if takes_fresh_numbers(endpoint):
            self.next_unique += 1
        return {
            "lead": lambda: lead_id(seq % self.leads),
            "conversation": lambda: conversation_id(seq % self.conversations),
            "fresh_conversation": lambda: fresh_conversation_id(unique),
            "unique": lambda: str(unique),
            "deep_cursor": lambda: lead_id(DEEP_CURSOR_INDEX),
            "offering": lambda: offering_id(seq % OFFERINGS),
            "appointment": lambda: appointment_id(seq % APPOINTMENTS),
        }

    def fill(self, endpoint, seq):
        """Return (path, body) of request number seq to endpoint."""
        values = self.values(seq, endpoint)

        def substitute(text):
            return PLACEHOLDER.sub(lambda m: values[m.group(1)](), text)

        return substitute(endpoint.path), substitute(endpoint.body)
