"""Event envelope representation and list query."""
from marshmallow import fields
from marshmallow.validate import OneOf

from ..models import EVENT_TYPES
from .common import PageQuery, Representation
from .fields import CanonicalUUID, OffsetDateTime


class EventListQuery(PageQuery):
    event = fields.String(validate=OneOf(EVENT_TYPES))


class EventOut(Representation):
    id = CanonicalUUID()
    event = fields.String(validate=OneOf(EVENT_TYPES))
    created_at = OffsetDateTime()
    tenant_id = CanonicalUUID()
    data = fields.Dict(metadata={"description": "The resource as the API returns it."})
