"""Offering bodies and representation: the tenant's catalog (properties, services, products)."""
from marshmallow import Schema, fields
from marshmallow.validate import Length

from .common import Representation, UpdateSchema
from .fields import (CanonicalUUID, Date, FullMatch, HttpUrl, NotUpdatable, OffsetDateTime,
                     Price)
from .leads import attributes_field

CURRENCY_PATTERN = r"^[A-Z]{3}$"
MAX_PHOTOS = 20
# A price as the API writes it: no sign, no exponent, no trailing zero after the point.
PRICE_TEXT_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{0,3}[1-9])?$"


def title_field(**options):
    """Return the title field (create requires it; update may change it, never to null)."""
    return fields.String(validate=Length(1, 500), **options)


def price_field(**options):
    """Return the price field: a JSON number in, exact decimal text out."""
    return Price(metadata={"description": "A JSON number >= 0 with at most 12 digits before "
                                          "the point and 4 after, kept exactly; returned as "
                                          "a string."}, **options)


def currency_field(**options):
    """Return the ISO 4217-shaped currency code field."""
    return fields.String(validate=FullMatch(CURRENCY_PATTERN), **options)


def photos_field(**options):
    """Return the photos field: http(s) URIs, repeats allowed."""
    return fields.List(HttpUrl(), validate=Length(max=MAX_PHOTOS), **options)


class OfferingFields(Schema):
    """The optional offering fields a client may write."""

    external_id = fields.String(allow_none=True, validate=Length(max=120))
    reference_number = fields.String(allow_none=True, validate=Length(max=120))
    title_ar = fields.String(allow_none=True, validate=Length(max=500))
    description = fields.String(allow_none=True, validate=Length(max=10000))
    description_ar = fields.String(allow_none=True, validate=Length(max=10000))
    address = fields.String(allow_none=True, validate=Length(max=500))
    status = fields.String(allow_none=True, validate=Length(max=40),
                           metadata={"description": "Free text, such as `available`."})
    available_from = Date(allow_none=True)


class OfferingCreate(OfferingFields):
    title = title_field(required=True)
    price = price_field(required=True)
    price_currency = currency_field(load_default="AED")
    photos = photos_field(load_default=list)
    attributes = attributes_field(load_default=dict)


class OfferingUpdate(UpdateSchema, OfferingFields):
    title = title_field()
    price = price_field()
    price_currency = currency_field()
    photos = photos_field(metadata={"description": "Replaces the stored list."})
    attributes = attributes_field(metadata={
        "description": "Shallow-merged into the stored attributes; a key set to null is "
                       "deleted."})
    id_ = NotUpdatable(data_key="id")
    created_at = NotUpdatable()
    updated_at = NotUpdatable()


class OfferingOut(Representation):
    id = CanonicalUUID()
    title = fields.String()
    price = fields.String(validate=FullMatch(PRICE_TEXT_PATTERN), metadata={
        "description": "Exact decimal text, such as `19.99`: no trailing zeros after the point "
                       "(19.90 is `19.9`, 100.0 is `100`)."})
    price_currency = currency_field()
    external_id = fields.String(allow_none=True)
    reference_number = fields.String(allow_none=True)
    title_ar = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    description_ar = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    photos = fields.List(fields.String(metadata={"format": "uri"}))
    status = fields.String(allow_none=True)
    available_from = Date(allow_none=True)
    attributes = fields.Dict()
    created_at = OffsetDateTime()
    updated_at = OffsetDateTime()
