"""The people who sign in to the console, each acting for one tenant."""
from peewee import ForeignKeyField, TextField

from .base import BaseModel, new_id, utc_now
from .tenancy import Tenant


class Operator(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", backref="operators", index=True)
    email = TextField(unique=True)
    password_hash = TextField()
    created_at = TextField(default=utc_now)

    class Meta:
        table_name = "operators"
