"""The people who sign in to the console, each acting for one tenant."""
from peewee import ForeignKeyField, IntegerField, TextField

from .base import BaseModel, new_id, utc_now
from .tenancy import Tenant


class Operator(BaseModel):
    id = TextField(primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", backref="operators", index=True)
    email = TextField(unique=True)
    password_hash = TextField()
    created_at = TextField(default=utc_now)
    # Raised by signing out: sessions signed in at an earlier value have ended.
    session_epoch = IntegerField(default=0)

    class Meta:
        table_name = "operators"
