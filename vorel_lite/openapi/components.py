"""Components of the served document: the seed's, verbatim in meaning, and vorel-lite's own."""
from ..models import (APPOINTMENT_STATUSES, CHANNELS, CONVERSATION_STATUSES, EVENT_TYPES,
                      HANDOFF_CHANNELS, LEAD_STATUSES)
from ..schemas.leads import ATTRIBUTES_DESCRIPTION
from ..schemas.offerings import CURRENCY_PATTERN
from .jsonschema import nullable


STRING = {"type": "string"}
UUID = {"type": "string", "format": "uuid"}
DATE_TIME = {"type": "string", "format": "date-time"}
ATTRIBUTES = {"type": "object", "additionalProperties": True}
# A price as the API writes it: no sign, no exponent, no trailing zero after the point.
PRICE_TEXT_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{0,3}[1-9])?$"

LEAD = {
    "type": "object",
    "required": ["id", "conversation_id", "attributes", "status", "created_at", "updated_at"],
    "properties": {
        "id": UUID,
        "conversation_id": UUID,
        "name": nullable(STRING),
        "email": nullable({"type": "string", "format": "email"}),
        "phone": nullable(STRING),
        "intent": nullable(STRING),
        "attributes": {**ATTRIBUTES, "description": ATTRIBUTES_DESCRIPTION},
        "timeline": nullable(STRING),
        "qualification_score": nullable({"type": "integer", "minimum": 0, "maximum": 100}),
        "status": {"type": "string", "enum": list(LEAD_STATUSES)},
        "source": nullable(STRING),
        "created_at": DATE_TIME,
        "updated_at": DATE_TIME,
    },
}

CONVERSATION = {
    "type": "object",
    "required": ["id", "channel", "customer_identifier", "customer_name", "customer_language",
                 "status", "created_at", "first_message_at", "last_message_at"],
    "properties": {
        "id": UUID,
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "customer_identifier": STRING,
        "customer_name": nullable(STRING),
        "customer_language": nullable(STRING),
        "status": {"type": "string", "enum": list(CONVERSATION_STATUSES)},
        "created_at": DATE_TIME,
        "first_message_at": nullable(DATE_TIME),
        "last_message_at": nullable(DATE_TIME),
    },
}

HANDOFF = {
    "type": "object",
    "required": ["handoff_id", "lead_id", "conversation_id", "conversation_status",
                 "notified_channel", "reason", "summary", "created_at"],
    "properties": {
        "handoff_id": UUID,
        "lead_id": UUID,
        "conversation_id": UUID,
        "conversation_status": {"type": "string", "enum": ["awaiting_human"]},
        "notified_channel": {
            "type": "string", "enum": list(HANDOFF_CHANNELS),
            "description": "Where the operator is told: the server's HANDOFF_CHANNEL setting."},
        "reason": nullable(STRING),
        "summary": nullable(STRING),
        "created_at": DATE_TIME,
    },
}

SEND_RESULT = {
    "type": "object",
    "required": ["message_id", "sequence_number", "sent_at", "mocked"],
    "properties": {
        "message_id": UUID,
        "sequence_number": {"type": "integer", "minimum": 1,
                            "description": "1, 2, 3, … within the conversation, no gaps."},
        "sent_at": DATE_TIME,
        "mocked": {"type": "boolean", "const": True,
                   "description": "vorel-lite delivers to no real messaging channel."},
    },
}

OFFERING = {
    "type": "object",
    "required": ["id", "title", "price", "price_currency", "external_id", "reference_number",
                 "title_ar", "description", "description_ar", "address", "photos", "status",
                 "available_from", "attributes", "created_at", "updated_at"],
    "properties": {
        "id": UUID,
        "title": STRING,
        "price": {"type": "string", "pattern": PRICE_TEXT_PATTERN,
                  "description": "Exact decimal text, such as `19.99`: no trailing zeros after "
                                 "the point (19.90 is `19.9`, 100.0 is `100`)."},
        "price_currency": {"type": "string", "pattern": CURRENCY_PATTERN},
        "external_id": nullable(STRING),
        "reference_number": nullable(STRING),
        "title_ar": nullable(STRING),
        "description": nullable(STRING),
        "description_ar": nullable(STRING),
        "address": nullable(STRING),
        "photos": {"type": "array", "items": {"type": "string", "format": "uri"}},
        "status": nullable(STRING),
        "available_from": nullable({"type": "string", "format": "date"}),
        "attributes": ATTRIBUTES,
        "created_at": DATE_TIME,
        "updated_at": DATE_TIME,
    },
}

APPOINTMENT = {
    "type": "object",
    "required": ["id", "customer_name", "customer_phone", "customer_email", "scheduled_start",
                 "scheduled_end", "location_text", "status", "conversation_id", "lead_id",
                 "offering_id", "google_calendar_event_id", "created_at"],
    "properties": {
        "id": UUID,
        "customer_name": STRING,
        "customer_phone": STRING,
        "customer_email": nullable({"type": "string", "format": "email"}),
        "scheduled_start": {**DATE_TIME, "description": "UTC."},
        "scheduled_end": {**DATE_TIME, "description": "UTC; after `scheduled_start`."},
        "location_text": nullable(STRING),
        "status": {"type": "string", "enum": list(APPOINTMENT_STATUSES)},
        "conversation_id": nullable(UUID),
        "lead_id": nullable(UUID),
        "offering_id": nullable(UUID),
        "google_calendar_event_id": nullable({**STRING, "description": "Read-only."}),
        "created_at": DATE_TIME,
    },
}

EVENT = {
    "type": "object",
    "required": ["id", "event", "created_at", "tenant_id", "data"],
    "properties": {
        "id": UUID,
        "event": {"type": "string", "enum": list(EVENT_TYPES)},
        "created_at": DATE_TIME,
        "tenant_id": UUID,
        "data": {"type": "object", "description": "The resource as the API returns it."},
    },
}


KIND_COUNTS = {"type": "array", "maxItems": 5, "items": {
    "type": "object", "required": ["kind", "count"],
    "properties": {"kind": STRING, "count": {"type": "integer", "minimum": 1}}}}
NO_DATA = {"type": ["number", "null"], "nullable": True,
           "description": "Always null: vorel-lite keeps no QA scores (null means no data, "
                          "never 0)."}

WEEKLY_ROLLUP = {
    "type": "object",
    "required": ["since", "computed_at", "qa_avg", "qa_p50", "qa_p95", "conversation_count",
                 "agent_turn_count", "hallucination_flag_count", "top_flag_kinds",
                 "top_handoff_reasons"],
    "properties": {
        "since": {**DATE_TIME, "description": "Start of the period (inclusive), in UTC."},
        "computed_at": DATE_TIME,
        "qa_avg": NO_DATA,
        "qa_p50": NO_DATA,
        "qa_p95": NO_DATA,
        "conversation_count": {"type": "integer", "minimum": 0,
                               "description": "Conversations created since `since`."},
        "agent_turn_count": {"type": "integer", "minimum": 0,
                             "description": "Outbound messages stored by `send` since `since`."},
        "hallucination_flag_count": {"type": "integer", "const": 0,
                                     "description": "Always 0: vorel-lite runs no AI agent."},
        "top_flag_kinds": {**KIND_COUNTS, "maxItems": 0,
                           "description": "Always empty: vorel-lite runs no AI agent."},
        "top_handoff_reasons": {**KIND_COUNTS, "description": (
            "Up to 5 handoff reasons since `since`, most frequent first (ties by reason); "
            "handoffs without a reason are left out.")},
    },
}

CRM_ERROR_CODES = ["not_configured", "crm_rejected", "crm_unavailable", "crm_bad_answer"]
CRM_PUSH_SUCCEEDED = {
    "type": "object", "required": ["ok", "external_id"], "additionalProperties": False,
    "properties": {
        "ok": {"type": "boolean", "const": True},
        "external_id": {**STRING, "description": "The CRM's id of the record (its `id`, as "
                                                 "text)."},
        "record_url": {**STRING, "description": "The CRM's `url` of the record, when it gave "
                                                "an http(s) one."}},
}
CRM_PUSH_ERROR = {
    "type": "object", "required": ["code", "message"], "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "enum": CRM_ERROR_CODES, "description": (
            "`not_configured`: no CRM connected; `crm_rejected`: a 4xx other than 408/429; "
            "`crm_unavailable`: a 5xx, 408, 429, timeout or refused connection, or the "
            "tenant's pushes in flight are at their limit (retry later); `crm_bad_answer`: a "
            "3xx (not followed), or a 2xx that is not a JSON object with an `id`.")},
        "message": STRING},
}
CRM_PUSH_FAILED = {
    "type": "object", "required": ["ok", "error"], "additionalProperties": False,
    "properties": {"ok": {"type": "boolean", "const": False},
                   "error": {"$ref": "#/components/schemas/CrmPushError"}},
}
# Named variants: code generators make one model of each (an inline oneOf gets them
# duplicate names).
CRM_PUSH_RESULT = {"oneOf": [{"$ref": "#/components/schemas/CrmPushSucceeded"},
                             {"$ref": "#/components/schemas/CrmPushFailed"}]}


def page_of(name):
    """Return the schema of a list page of a component."""
    return {
        "type": "object",
        "required": ["data", "next_cursor", "has_more"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
            "next_cursor": nullable(UUID),
            "has_more": {"type": "boolean"},
        },
    }


ERROR_ENVELOPE = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": ["unauthorized", "forbidden", "rate_limited", "bad_request",
                             "not_found", "conflict", "internal_error"],
                    "description": "Machine-readable error category.",
                },
                "message": {
                    "type": "string",
                    "description": "Human-readable error description; safe to surface in "
                                   "tenant logs.",
                },
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": STRING},
                    "description": "vorel-lite: on a 400, each offending field and its "
                                   "messages.",
                },
                "existing_id": {
                    "type": "string",
                    "description": "vorel-lite: on a 409, the id of the row that already "
                                   "holds the natural key.",
                },
            },
        },
    },
}


def error_response(description, headers=None):
    """Return an error response object whose body is the envelope."""
    response = {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
    if headers:
        response["headers"] = headers
    return response


INTEGER_HEADER = {"schema": {"type": "integer"}}
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": INTEGER_HEADER,
    "X-RateLimit-Remaining": INTEGER_HEADER,
    "X-RateLimit-Reset": {**INTEGER_HEADER, "description": "Unix epoch seconds."},
}
REQUEST_ID_HEADER = {"X-Request-Id": {
    "schema": {"type": "string"},
    "description": "The client's X-Request-Id when it sent a sane one, else a new id; quote it "
                   "to the operator."}}
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x20-\x7E]+$"},
    "description": "vorel-lite: makes a retry safe. The first request with a key runs and its "
                   "answer (below 500) is kept 24 hours, per tenant; a retry with the same key, "
                   "path and body gets that answer again with `Idempotent-Replayed: true`. The "
                   "same key with another path or body, or while the first request still runs: "
                   "409."}
IDEMPOTENT_REPLAYED_HEADER = {"Idempotent-Replayed": {
    "schema": {"type": "string", "enum": ["true"]},
    "description": "Present when this is the stored answer of an earlier request with the "
                   "same Idempotency-Key."}}

RESPONSES = {
    "BadRequest": error_response(
        "Body validation failed. Error message names the offending field."),
    "Unauthorized": error_response("Missing, malformed, unknown, or revoked API key."),
    "Forbidden": error_response(
        "API key is valid but lacks the required scope for this endpoint. Issue a new key "
        "with the necessary scope at `/settings/integrations/api-keys`."),
    "NotFound": error_response(
        "A referenced resource (e.g. `conversation_id` on a lead create, or any of the "
        "optional FK targets on an appointment create) is not visible to your tenant. "
        "Cross-tenant rows return the same envelope as truly-non-existent rows — this is "
        "intentional to prevent enumeration."),
    "Conflict": error_response(
        "Resource already exists with a conflicting unique field. Emitted by "
        "`POST /api/v1/leads` when the conversation already has a lead, and by "
        "`POST /api/v1/conversations` when a conversation already exists for the "
        "(channel, customer_identifier) pair under your tenant."),
    "PayloadTooLarge": error_response("Request body is larger than the configured limit."),
    "UnsupportedMediaType": error_response("Request body is not `application/json`."),
    "Unavailable": error_response(
        "The database cannot be reached; nothing was written. `Retry-After` says when to "
        "retry.", headers={"Retry-After": INTEGER_HEADER}),
    "RateLimited": error_response(
        "200 req/min per API key exceeded. `Retry-After` header carries seconds-until-reset.",
        headers={"Retry-After": INTEGER_HEADER, **RATE_LIMIT_HEADERS}),
}

SECURITY_SCHEMES = {
    "BearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "vapk_<env>_<48-hex>",
        "description": "Tenant-issued API key. Format: `vapk_live_<48 hex chars>` (58 chars "
                       "total). Each key has a scope set (`read`, `conversations:write`, "
                       "`leads:write`, `appointments:write`, `offerings:write`, `crm:write`); "
                       "endpoints requiring a write scope reject keys without it with a 403 "
                       "envelope.",
    },
}

SCHEMAS = {
    "Lead": LEAD,
    "LeadPage": page_of("Lead"),
    "Conversation": CONVERSATION,
    "ConversationPage": page_of("Conversation"),
    "Handoff": HANDOFF,
    "SendResult": SEND_RESULT,
    "Appointment": APPOINTMENT,
    "AppointmentPage": page_of("Appointment"),
    "Event": EVENT,
    "EventPage": page_of("Event"),
    "Offering": OFFERING,
    "OfferingPage": page_of("Offering"),
    "WeeklyRollup": WEEKLY_ROLLUP,
    "CrmPushResult": CRM_PUSH_RESULT,
    "CrmPushSucceeded": CRM_PUSH_SUCCEEDED,
    "CrmPushFailed": CRM_PUSH_FAILED,
    "CrmPushError": CRM_PUSH_ERROR,
    "ErrorEnvelope": ERROR_ENVELOPE,
}
