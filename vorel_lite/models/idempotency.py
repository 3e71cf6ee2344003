"""Stored answers of POSTs that carried an Idempotency-Key."""
from peewee import ForeignKeyField, IntegerField, TextField

from .base import BaseModel, new_id, utc_now
from .tenancy import Tenant


class IdempotencyKey(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=False)
    idempotency_key = TextField()
    fingerprint = TextField()
    status_code = IntegerField(null=True)
    response_body = TextField(null=True)
    created_at = TextField(default=utc_now, index=True)

    class Meta:
        table_name = "idempotency_keys"
        indexes = ((("tenant", "idempotency_key"), True),)
