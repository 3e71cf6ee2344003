"""Default settings; instance/config.py and VOREL_* environment variables override them."""

# A peewee database URL; None means a SQLite file in the instance folder.
DATABASE_URL = None
# Seconds a SQLite writer waits for the write lock before giving up.
DATABASE_BUSY_TIMEOUT = 15
# PostgreSQL connections one process keeps at most (its threads share them).
DATABASE_POOL_SIZE = 20

RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_PER_KEY = "200 per minute"
RATELIMIT_PER_TENANT = "5000 per minute"
RATELIMIT_AUTH_FAILURES = "60 per minute"
RATELIMIT_KEY_PREFIX = "vorel"
# Failed sign-ins to the console one address may make (a successful one is not counted).
CONSOLE_SIGNIN_RATELIMIT = "10 per minute"
# Test events a tenant's operators may send from the console (each POSTs to a receiver now).
CONSOLE_TEST_EVENT_RATELIMIT = "10 per minute"
# The console's session cookie (the API sets none). Set VOREL_SESSION_COOKIE_SECURE=true when
# the console is served over HTTPS, so the browser never sends the cookie over plain HTTP.
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False

MAX_CONTENT_LENGTH = 1024 * 1024

# How many proxies in front of vorel-lite to trust for X-Forwarded-For and X-Forwarded-Proto
# (Werkzeug's ProxyFix): 0 takes the socket's address and scheme, whatever the headers say.
TRUSTED_PROXIES = 0

# Hours a POST's Idempotency-Key and its stored answer are kept (then the key is free again).
IDEMPOTENCY_TTL_HOURS = 24

# Where the operator is told of a lead handoff: "email" or "slack" (checked at start-up).
HANDOFF_CHANNEL = "email"

# Webhook delivery: seconds per attempt, attempts before dead-lettering, first back-off
# (each later one doubles, with jitter), and how often an idle worker looks for work.
WEBHOOK_TIMEOUT_SECONDS = 10
WEBHOOK_MAX_ATTEMPTS = 6
WEBHOOK_RETRY_BASE_SECONDS = 30
WEBHOOK_POLL_SECONDS = 1.0
# Attempts one delivery worker makes at once (threads), at most one per subscription.
WEBHOOK_CONCURRENCY = 8
# Deliveries of one subscription a worker claims at once and sends in order over one
# kept-alive connection.
WEBHOOK_BATCH_SIZE = 100
# A batch's attempts are recorded, one transaction each time, once this many wait (or the
# oldest has waited 50 ms). A worker killed mid-batch resends at most this many: those it had
# sent but not recorded, each as the same attempt.
WEBHOOK_RECORD_EVERY = 20
# "deny" refuses webhook and CRM targets that resolve to loopback, private, link-local
# (cloud metadata) or other non-public addresses; "allow" suits a local n8n.
WEBHOOK_PRIVATE_TARGETS = "allow"

# Seconds a CRM push may take in all (connect, send, and the whole answer).
CRM_TIMEOUT_SECONDS = 10
# CRM pushes one tenant may have in flight at once, per process: each holds a server thread
# until its CRM answers; more get crm_unavailable (retry) at once.
CRM_PUSHES_PER_TENANT = 2

# Encrypts webhook secrets at rest; None: generated once into <instance>/secret-key.
SECRET_KEY = None

# `flask serve` (waitress): connections open at once, and seconds an idle one is kept. Slow
# clients hold connections, not threads: allow many.
SERVE_CONNECTION_LIMIT = 1000
SERVE_CHANNEL_TIMEOUT = 30

# Level of the one-line-per-request log written to stderr.
LOG_LEVEL = "INFO"

# GET /metrics (Prometheus' text format, no key: keep it off the public internet).
METRICS_ENABLED = False
