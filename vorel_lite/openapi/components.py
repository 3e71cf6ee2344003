"""Components of the served document: named schemas, shared responses, headers, security."""
from ..schemas.analytics import RollupOut
from ..schemas.appointments import AppointmentOut
from ..schemas.common import page_of
from ..schemas.conversations import ConversationOut, SendResultOut
from ..schemas.crm import CrmPushError, CrmPushFailed, CrmPushSucceeded
from ..schemas.errors import ErrorEnvelope
from ..schemas.events import EventOut
from ..schemas.leads import HandoffOut, LeadOut
from ..schemas.offerings import OfferingOut

SCHEMAS_REF = "#/components/schemas/"

# Each named once: a nested schema is a $ref to its name when named before it, else inlined.
SCHEMAS = {
    "Lead": LeadOut,
    "LeadPage": page_of(LeadOut),
    "Conversation": ConversationOut,
    "ConversationPage": page_of(ConversationOut),
    "Handoff": HandoffOut,
    "SendResult": SendResultOut,
    "Appointment": AppointmentOut,
    "AppointmentPage": page_of(AppointmentOut),
    "Event": EventOut,
    "EventPage": page_of(EventOut),
    "Offering": OfferingOut,
    "OfferingPage": page_of(OfferingOut),
    "WeeklyRollup": RollupOut,
    "CrmPushSucceeded": CrmPushSucceeded,
    "CrmPushError": CrmPushError,
    "CrmPushFailed": CrmPushFailed,
    "ErrorEnvelope": ErrorEnvelope,
}
# Named variants: code generators make one model of each (an inline oneOf gets them
# duplicate names).
UNIONS = {"CrmPushResult": {"oneOf": [{"$ref": SCHEMAS_REF + "CrmPushSucceeded"},
                                      {"$ref": SCHEMAS_REF + "CrmPushFailed"}]}}


def error_response(description, headers=None):
    """Return an error response object whose body is the envelope."""
    response = {"description": description,
                "content": {"application/json": {"schema": ErrorEnvelope}}}
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
