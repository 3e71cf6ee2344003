"""Tenants and their API keys."""
from peewee import ForeignKeyField, TextField

from .base import BaseModel, new_id, utc_now


class Tenant(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    slug = TextField(unique=True)
    name = TextField()
    created_at = TextField(default=utc_now)

    class Meta:
        table_name = "tenants"


class ApiKey(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", backref="api_keys", index=True)
    name = TextField(null=True)
    env = TextField()
    key_hash = TextField(unique=True)
    display_prefix = TextField()
    last4 = TextField()
    scopes = TextField()
    created_at = TextField(default=utc_now)
    last_used_at = TextField(null=True)
    revoked_at = TextField(null=True)

    class Meta:
        table_name = "api_keys"

    @property
    def scope_set(self):
        """Return the key's scopes as a frozenset."""
        return frozenset(self.scopes.split())
