"""Lead and handoff bodies, the lead list query, representations (POST follows the seed)."""
from marshmallow import Schema, fields
from marshmallow.validate import Length, OneOf, Range

from ..models import HANDOFF_CHANNELS, LEAD_STATUSES
from .common import PageQuery, Representation, UpdateSchema
from .direct import DirectLoad
from .fields import CanonicalUUID, JSONInteger, NotUpdatable, OffsetDateTime, QueryInteger

ATTRIBUTES_DESCRIPTION = (
    "Vertical-specific JSONB. Real estate emits `bedrooms`/`budget_min`/`area`/etc.; salons emit "
    "`preferred_stylist`/`service_history`/etc.; clinics emit "
    "`insurance_provider`/`symptoms_summary`/etc. The shape is determined by the tenant's "
    "vertical pack — consult your operator setup for the keys to expect.")


def status_field(**options):
    """Return the lead status field."""
    return fields.String(validate=OneOf(LEAD_STATUSES), **options)


def attributes_field(**options):
    """Return the free-form attributes field (any JSON values, null included)."""
    return fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), **options)


class LeadFields(Schema):
    """The lead fields a client may write, with the seed's rules."""

    name = fields.String(allow_none=True, validate=Length(max=200))
    # The seed says format: email; RFC 5321 caps an address at 254 characters.
    email = fields.Email(allow_none=True, validate=Length(max=254))
    phone = fields.String(allow_none=True, validate=Length(max=32))
    intent = fields.String(allow_none=True, validate=Length(max=40))
    timeline = fields.String(allow_none=True, validate=Length(max=40))
    qualification_score = JSONInteger(allow_none=True, validate=Range(0, 100))
    status = status_field()
    source = fields.String(allow_none=True, validate=Length(max=40))
    attributes = attributes_field()


class LeadCreate(DirectLoad, LeadFields):
    conversation_id = CanonicalUUID(required=True)
    status = status_field(load_default="new")
    attributes = attributes_field(load_default=dict)


class LeadUpdate(UpdateSchema, LeadFields):
    attributes = attributes_field(metadata={
        "description": "Shallow-merged into the stored attributes; a key set to null is "
                       "deleted."})
    id_ = NotUpdatable(data_key="id")
    conversation_id = NotUpdatable()
    created_at = NotUpdatable()
    updated_at = NotUpdatable()


class LeadListQuery(PageQuery):
    status = status_field()
    stale_for_days = QueryInteger(
        validate=Range(1, 365),
        metadata={"description": "Only qualified leads whose conversation's last message is "
                                 "older than this many days, or absent."})


class LeadOut(Representation):
    class Meta(Representation.Meta):
        # The seed requires only the others (these are in every answer too, as null at least).
        optional = ("name", "email", "phone", "intent", "timeline", "qualification_score",
                    "source")

    id = CanonicalUUID()
    conversation_id = CanonicalUUID()
    name = fields.String(allow_none=True)
    email = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True)
    intent = fields.String(allow_none=True)
    attributes = fields.Dict(metadata={"description": ATTRIBUTES_DESCRIPTION})
    timeline = fields.String(allow_none=True)
    qualification_score = fields.Integer(allow_none=True, validate=Range(0, 100))
    status = status_field()
    source = fields.String(allow_none=True)
    created_at = OffsetDateTime()
    updated_at = OffsetDateTime()


class HandoffCreate(Schema):
    """The optional body of a handoff: no body at all is the same as {}."""

    reason = fields.String(allow_none=True, validate=Length(max=200))
    summary = fields.String(allow_none=True, validate=Length(max=1000))


class HandoffOut(Representation):
    handoff_id = CanonicalUUID(attribute="id")
    lead_id = CanonicalUUID()
    conversation_id = CanonicalUUID()
    # The handoff is created with its (locked, just updated) conversation: no second query.
    conversation_status = fields.String(attribute="conversation.status",
                                        validate=OneOf(["awaiting_human"]))
    notified_channel = fields.String(validate=OneOf(HANDOFF_CHANNELS), metadata={
        "description": "Where the operator is told: the server's HANDOFF_CHANNEL setting."})
    reason = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    created_at = OffsetDateTime()
