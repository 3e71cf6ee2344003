-- Migration 0001: the tables and indexes of appointments, offerings and the CRM (issue 8).
-- Idempotent, as later migrations need not be: version 0 is any database made before versions
-- were recorded, whether it already has these tables or not.

CREATE TABLE IF NOT EXISTS offerings (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    -- Exact decimal text (never a float): at most 12 digits before the point and 4 after.
    price TEXT NOT NULL CHECK (length(price) BETWEEN 1 AND 17),
    price_currency TEXT NOT NULL CHECK (length(price_currency) = 3),
    external_id TEXT CHECK (length(external_id) <= 120),
    reference_number TEXT CHECK (length(reference_number) <= 120),
    title_ar TEXT CHECK (length(title_ar) <= 500),
    description TEXT CHECK (length(description) <= 10000),
    description_ar TEXT CHECK (length(description_ar) <= 10000),
    address TEXT CHECK (length(address) <= 500),
    photos TEXT NOT NULL,
    status TEXT CHECK (length(status) <= 40),
    available_from TEXT CHECK (length(available_from) = 10),
    attributes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- Set by the operator's soft delete; such a row is hidden from the API.
    deleted_at TEXT
);
CREATE INDEX IF NOT EXISTS offerings_tenant_created ON offerings (tenant_id, created_at, id);

CREATE TABLE IF NOT EXISTS appointments (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    customer_name TEXT NOT NULL CHECK (length(customer_name) BETWEEN 1 AND 200),
    customer_phone TEXT NOT NULL CHECK (length(customer_phone) BETWEEN 5 AND 32),
    customer_email TEXT CHECK (length(customer_email) <= 254),
    -- Both in the one timestamp format, so comparing the text compares the instants.
    scheduled_start TEXT NOT NULL,
    scheduled_end TEXT NOT NULL,
    location_text TEXT CHECK (length(location_text) <= 500),
    status TEXT NOT NULL
        CHECK (status IN ('confirmed', 'cancelled', 'completed', 'rescheduled', 'no_show')),
    conversation_id TEXT REFERENCES conversations (id),
    lead_id TEXT REFERENCES leads (id),
    offering_id TEXT REFERENCES offerings (id),
    google_calendar_event_id TEXT,
    created_at TEXT NOT NULL,
    CHECK (scheduled_end > scheduled_start)
);
CREATE INDEX IF NOT EXISTS appointments_tenant_start
    ON appointments (tenant_id, scheduled_start, id);

CREATE INDEX IF NOT EXISTS handoffs_tenant_created ON handoffs (tenant_id, created_at);
CREATE INDEX IF NOT EXISTS messages_tenant_sent ON messages (tenant_id, sent_at);

CREATE TABLE IF NOT EXISTS crm_connections (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL UNIQUE REFERENCES tenants (id),
    url TEXT NOT NULL,
    -- JSON object: vorel-lite field name -> the CRM's field name.
    field_maps TEXT NOT NULL,
    encrypted_secret TEXT NOT NULL,
    secret_prefix TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One row per (tenant, idempotency_key) of POST /api/v1/crm/create-record: the claim of the
-- push in flight, then its remembered success (a failed one may be claimed again).
CREATE TABLE IF NOT EXISTS crm_records (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    idempotency_key TEXT NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    state TEXT NOT NULL CHECK (state IN ('pushing', 'succeeded', 'failed')),
    result TEXT,
    claimed_until TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);

-- Every POST made to a tenant's CRM, for `flask crm log`.
CREATE TABLE IF NOT EXISTS crm_pushes (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    object TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    outcome TEXT NOT NULL,
    status_code INTEGER,
    duration_ms INTEGER NOT NULL,
    error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS crm_pushes_tenant_created ON crm_pushes (tenant_id, created_at);
