-- The one source of truth for vorel-lite's tables (the peewee models mirror it; a test checks).
-- Portable SQL for SQLite and PostgreSQL. The whole current schema: a new database gets this
-- file, an existing one the numbered migrations it lacks (vorel_lite/migrations/), so a change
-- here needs its migration too. Ids are canonical UUID text; timestamps are RFC 3339 UTC text
-- with six fractional digits, so they sort as strings.

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
CREATE INDEX IF NOT EXISTS conversations_tenant_status_created
    ON conversations (tenant_id, status, created_at, id);

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
CREATE INDEX IF NOT EXISTS appointments_tenant_created ON appointments (tenant_id, created_at, id);

CREATE TABLE IF NOT EXISTS handoffs (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    lead_id TEXT NOT NULL REFERENCES leads (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    reason TEXT CHECK (length(reason) <= 200),
    summary TEXT CHECK (length(summary) <= 1000),
    notified_channel TEXT NOT NULL CHECK (notified_channel IN ('email', 'slack')),
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS handoffs_lead_id ON handoffs (lead_id);
CREATE INDEX IF NOT EXISTS handoffs_tenant_created ON handoffs (tenant_id, created_at);

CREATE TABLE IF NOT EXISTS messages (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    sequence_number INTEGER NOT NULL CHECK (sequence_number >= 1),
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 4096),
    language TEXT CHECK (language IN ('ar', 'en', 'mixed')),
    sent_at TEXT NOT NULL,
    UNIQUE (conversation_id, sequence_number)
);
CREATE INDEX IF NOT EXISTS messages_tenant_sent ON messages (tenant_id, sent_at);

CREATE TABLE IF NOT EXISTS idempotency_keys (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    idempotency_key TEXT NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    fingerprint TEXT NOT NULL,
    status_code INTEGER,
    response_body TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    encrypted_secret TEXT NOT NULL,
    secret_prefix TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_subscriptions_tenant_id ON webhook_subscriptions (tenant_id);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT NOT NULL PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL CHECK (attempts >= 0),
    attempts_at_redrive INTEGER NOT NULL CHECK (attempts_at_redrive >= 0),
    next_attempt_at TEXT NOT NULL,
    claimed_until TEXT,
    claim_token TEXT,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    -- Claims taken since its last recorded attempt: a claim finding one left, a worker
    -- stopped while holding it (migration 0004).
    claims INTEGER NOT NULL DEFAULT 0 CHECK (claims >= 0),
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_claim ON webhook_deliveries (claim_token);

CREATE TABLE IF NOT EXISTS webhook_attempts (
    id TEXT NOT NULL PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL CHECK (attempt >= 1),
    started_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    UNIQUE (delivery_id, attempt)
);

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

-- People who sign in to the console (issue 12): each belongs to one tenant, and an email to
-- one operator across all tenants. The password is kept as Werkzeug's scrypt hash.
CREATE TABLE IF NOT EXISTS operators (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    email TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- Raised by signing out: a session signed in at another value has ended (migration 0003).
    session_epoch INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS operators_tenant_id ON operators (tenant_id);

-- The migrations applied to this database, one row each (vorel_lite/migrations/).
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
