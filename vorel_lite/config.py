"""Default settings; instance/config.py and VOREL_* environment variables override them."""

# A peewee database URL; None means a SQLite file in the instance folder.
DATABASE_URL = None
# Seconds a SQLite writer waits for the write lock before giving up.
DATABASE_BUSY_TIMEOUT = 15

RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_PER_KEY = "200 per minute"
RATELIMIT_PER_TENANT = "5000 per minute"
RATELIMIT_AUTH_FAILURES = "60 per minute"
RATELIMIT_KEY_PREFIX = "vorel"

MAX_CONTENT_LENGTH = 1024 * 1024

# Level of the one-line-per-request log written to stderr.
LOG_LEVEL = "INFO"
