"""The create-a-lead seed (../shared/seeds/create-a-lead.md), transcribed from its YAML."""
from openapi_helpers import RESPONSES_REF

# Embedded here because the seed file is not part of a clone. The folded (>-) strings are joined
# with single spaces exactly as a YAML parser joins them.

LEAD_STATUSES = ["new", "qualified", "booked", "converted", "lost"]

SEED_LEAD_CREATE = {
    "type": "object",
    "required": ["conversation_id"],
    "properties": {
        "conversation_id": {"type": "string", "format": "uuid"},
        "name": {"type": "string", "maxLength": 200, "nullable": True},
        "email": {"type": "string", "format": "email", "nullable": True},
        "phone": {"type": "string", "maxLength": 32, "nullable": True},
        "intent": {"type": "string", "maxLength": 40, "nullable": True},
        "timeline": {"type": "string", "maxLength": 40, "nullable": True},
        "qualification_score": {"type": "integer", "minimum": 0, "maximum": 100,
                                "nullable": True},
        "status": {"type": "string", "enum": LEAD_STATUSES},
        "source": {"type": "string", "maxLength": 40, "nullable": True},
        "attributes": {"type": "object", "additionalProperties": True},
    },
}

SEED_LEAD = {
    "type": "object",
    "required": ["id", "conversation_id", "attributes", "status", "created_at", "updated_at"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "conversation_id": {"type": "string", "format": "uuid"},
        "name": {"type": "string", "nullable": True},
        "email": {"type": "string", "format": "email", "nullable": True},
        "phone": {"type": "string", "nullable": True},
        "intent": {"type": "string", "nullable": True},
        "attributes": {
            "type": "object",
            "additionalProperties": True,
            "description": "Vertical-specific JSONB. Real estate emits "
                           "`bedrooms`/`budget_min`/`area`/etc.; salons emit "
                           "`preferred_stylist`/`service_history`/etc.; clinics emit "
                           "`insurance_provider`/`symptoms_summary`/etc. The shape is "
                           "determined by the tenant's vertical pack — consult your operator "
                           "setup for the keys to expect.",
        },
        "timeline": {"type": "string", "nullable": True},
        "qualification_score": {"type": "integer", "minimum": 0, "maximum": 100,
                                "nullable": True},
        "status": {"type": "string", "enum": LEAD_STATUSES},
        "source": {"type": "string", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

SEED_ERROR_ENVELOPE = {
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
            },
        },
    },
}

SEED_RESPONSE_DESCRIPTIONS = {
    "BadRequest": "Body validation failed. Error message names the offending field.",
    "Unauthorized": "Missing, malformed, unknown, or revoked API key.",
    "Forbidden": "API key is valid but lacks the required scope for this endpoint. Issue a "
                 "new key with the necessary scope at `/settings/integrations/api-keys`.",
    "NotFound": "A referenced resource (e.g. `conversation_id` on a lead create, or any of "
                "the optional FK targets on an appointment create) is not visible to your "
                "tenant. Cross-tenant rows return the same envelope as truly-non-existent "
                "rows — this is intentional to prevent enumeration.",
    "Conflict": "Resource already exists with a conflicting unique field. Emitted by "
                "`POST /api/v1/leads` when the conversation already has a lead, and by "
                "`POST /api/v1/conversations` when a conversation already exists for the "
                "(channel, customer_identifier) pair under your tenant.",
    "RateLimited": "200 req/min per API key exceeded. `Retry-After` header carries "
                   "seconds-until-reset.",
}

SEED_RATE_LIMITED_HEADERS = {
    "Retry-After": {"schema": {"type": "integer"}},
    "X-RateLimit-Limit": {"schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Unix epoch seconds."},
}

SEED_CREATE_LEAD = {
    "tags": ["Leads"],
    "summary": "Create a lead",
    "description": "Strict-create: returns 409 if the conversation already has a lead. The "
                   "schema allows exactly one lead per conversation.",
    "operationId": "createLead",
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/LeadCreate"}}}},
    "responses": {
        "201": {
            "description": "Lead created. Emits `lead.created` (and `lead.qualified` when the "
                           "create-time status is `qualified`).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Lead"}}},
        },
        "400": {"$ref": "#/components/responses/BadRequest"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/Forbidden"},
        "404": {"$ref": "#/components/responses/NotFound"},
        "409": {"$ref": "#/components/responses/Conflict"},
        "429": {"$ref": "#/components/responses/RateLimited"},
    },
    "security": [{"BearerAuth": ["leads:write"]}],
}

SEED_BEARER_AUTH = {"type": "http", "scheme": "bearer", "bearerFormat": "vapk_<env>_<48-hex>"}

# The error statuses whose component the seed names; every operation must use the same one.
SEED_ERROR_REFS = {status: response["$ref"]
                   for status, response in SEED_CREATE_LEAD["responses"].items()
                   if "$ref" in response}
SEED_ERROR_REFS["413"] = RESPONSES_REF + "PayloadTooLarge"
SEED_ERROR_REFS["415"] = RESPONSES_REF + "UnsupportedMediaType"
