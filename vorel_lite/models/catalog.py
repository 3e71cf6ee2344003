"""The tenant's catalog: offerings (properties, services, products)."""
from peewee import ForeignKeyField, TextField

from .base import BaseModel, JSONTextField, MergesAttributes, new_id, utc_now
from .tenancy import Tenant


class Offering(MergesAttributes, BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=False)
    title = TextField()
    # Exact decimal text, such as "19.99": never a float.
    price = TextField()
    price_currency = TextField(default="AED")
    external_id = TextField(null=True)
    reference_number = TextField(null=True)
    title_ar = TextField(null=True)
    description = TextField(null=True)
    description_ar = TextField(null=True)
    address = TextField(null=True)
    photos = JSONTextField(default=list)
    status = TextField(null=True)
    available_from = TextField(null=True)
    attributes = JSONTextField(default=dict)
    created_at = TextField(default=utc_now)
    updated_at = TextField(default=utc_now)
    deleted_at = TextField(null=True)

    class Meta:
        table_name = "offerings"
        indexes = ((("tenant", "created_at", "id"), False),)
