"""The tenant's CRM connection, the idempotency records of pushes, and the log of each push."""
from peewee import ForeignKeyField, IntegerField, TextField

from .base import BaseModel, JSONTextField, new_id, utc_now
from .tenancy import Tenant

CRM_RECORD_STATES = ("pushing", "succeeded", "failed")


class CrmConnection(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", unique=True)
    url = TextField()
    field_maps = JSONTextField(default=dict)
    encrypted_secret = TextField()
    secret_prefix = TextField()
    created_at = TextField(default=utc_now)

    class Meta:
        table_name = "crm_connections"


class CrmRecord(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=False)
    idempotency_key = TextField()
    state = TextField()
    result = JSONTextField(null=True)
    claimed_until = TextField()
    created_at = TextField(default=utc_now)

    class Meta:
        table_name = "crm_records"
        indexes = ((("tenant", "idempotency_key"), True),)


class CrmPush(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", index=False)
    object = TextField()
    idempotency_key = TextField()
    outcome = TextField()
    status_code = IntegerField(null=True)
    duration_ms = IntegerField()
    error = TextField(null=True)
    created_at = TextField(default=utc_now)

    class Meta:
        table_name = "crm_pushes"
        indexes = ((("tenant", "created_at"), False),)
