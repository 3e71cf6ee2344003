-- Migration 0002: the console's operators (issue 12), as in schema.sql.

CREATE TABLE IF NOT EXISTS operators (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    email TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS operators_tenant_id ON operators (tenant_id);
