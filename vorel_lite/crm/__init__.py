"""CRM push: the tenant's CRM connection, one signed POST per record, its idempotency."""
