"""Event envelope representation and list query."""
from marshmallow import Schema, fields
from marshmallow.validate import OneOf

from ..models import EVENT_TYPES
from .common import PageQuery


class EventListQuery(PageQuery):
    event = fields.String(validate=OneOf(EVENT_TYPES))


class EventOut(Schema):
    id = fields.String()
    event = fields.String()
    created_at = fields.String()
    tenant_id = fields.String()
    data = fields.Raw()
