-- The one source of truth for vorel-lite's tables (the peewee models mirror it; a test checks).
-- Portable SQL for SQLite and PostgreSQL. Every statement is idempotent: `init-db` may run any
-- number of times and never drops or changes data. Ids are canonical UUID text; timestamps are
-- RFC 3339 UTC text with six fractional digits, so they sort as strings.

CREATE TABLE IF NOT EXISTS tenants (
    id TEXT NOT NULL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT,
    env TEXT NOT NULL CHECK (env IN ('live', 'test')),
    key_hash TEXT NOT NULL UNIQUE,
    display_prefix TEXT NOT NULL,
    last4 TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_tenant_id ON api_keys (tenant_id);

CREATE TABLE IF NOT EXISTS conversations (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    channel TEXT NOT NULL
        CHECK (channel IN ('whatsapp', 'voice', 'webform', 'instagram', 'email')),
    customer_identifier TEXT NOT NULL
        CHECK (length(customer_identifier) BETWEEN 1 AND 255),
    customer_name TEXT CHECK (length(customer_name) <= 200),
    customer_language TEXT CHECK (length(customer_language) IN (2, 5)),
    status TEXT NOT NULL CHECK (status IN ('active', 'awaiting_human', 'closed')),
    created_at TEXT NOT NULL,
    first_message_at TEXT,
    last_message_at TEXT,
    UNIQUE (tenant_id, channel, customer_identifier)
);
CREATE INDEX IF NOT EXISTS conversations_tenant_created
    ON conversations (tenant_id, created_at, id);

CREATE TABLE IF NOT EXISTS leads (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    conversation_id TEXT NOT NULL UNIQUE REFERENCES conversations (id),
    name TEXT CHECK (length(name) <= 200),
    email TEXT CHECK (length(email) <= 254),
    phone TEXT CHECK (length(phone) <= 32),
    intent TEXT CHECK (length(intent) <= 40),
    timeline TEXT CHECK (length(timeline) <= 40),
    qualification_score INTEGER CHECK (qualification_score BETWEEN 0 AND 100),
    status TEXT NOT NULL
        CHECK (status IN ('new', 'qualified', 'booked', 'converted', 'lost')),
    source TEXT CHECK (length(source) <= 40),
    attributes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS leads_tenant_created ON leads (tenant_id, created_at, id);
CREATE INDEX IF NOT EXISTS leads_tenant_status_created
    ON leads (tenant_id, status, created_at, id);

CREATE TABLE IF NOT EXISTS events (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    event TEXT NOT NULL CHECK (event IN (
        'lead.created', 'lead.updated', 'lead.qualified',
        'conversation.created', 'conversation.handoff_requested', 'conversation.closed',
        'booking.created', 'booking.rescheduled', 'booking.cancelled', 'booking.completed',
        'offering.created', 'offering.updated')),
    created_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_tenant_created ON events (tenant_id, created_at, id);
CREATE INDEX IF NOT EXISTS events_tenant_event_created
    ON events (tenant_id, event, created_at, id);
