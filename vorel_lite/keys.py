"""Issuing, finding and revoking API keys; only a hash of each key is ever stored."""
import hashlib
import re
import secrets

from .keycache import key_cache
from .models import ApiKey, utc_now
from .statements import Select, param

SCOPES = ("read", "conversations:write", "leads:write", "appointments:write",
          "offerings:write", "crm:write")
ENVS = ("live", "test")
KEY_SHAPE = re.compile(r"vapk_(live|test)_[0-9a-f]{48}")
LAST_USED_RESOLUTION = 60  # seconds

ACTIVE_KEY = Select(ApiKey, lambda: ApiKey.select().where(
    (ApiKey.key_hash == param("key_hash")) & ApiKey.revoked_at.is_null()).limit(1))


def hash_key(key):
    """Return the stored form of a key."""
    # Keys carry 192 random bits, so a fast unsalted SHA-256 cannot be brute-forced; a slow
    # password hash would only add latency to every request.
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def issue_key(tenant, scopes, env="live", name=None):
    """Create a key for tenant and return (row, secret); the secret is never stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}; choose from {', '.join(SCOPES)}"
                         if unknown else "at least one scope is required")
    if env not in ENVS:
        raise ValueError(f"env must be one of {', '.join(ENVS)}")
    random_hex = secrets.token_hex(24)
    secret = f"vapk_{env}_{random_hex}"
    row = ApiKey.create(tenant=tenant, name=name, env=env, key_hash=hash_key(secret),
                        display_prefix=f"vapk_{env}_{random_hex[:4]}", last4=random_hex[-4:],
                        scopes=" ".join(s for s in SCOPES if s in scopes))
    return row, secret


def find_active_key(secret):
    """Return the unrevoked key row for a well-formed secret, or None.

    Within an app, the row may come from its key cache: read at most half a second ago.
    """
    if not KEY_SHAPE.fullmatch(secret):
        return None
    cache = key_cache()
    if cache is None:
        return read_active_key(hash_key(secret))
    return cache.lookup(hash_key(secret), read_active_key)


def read_active_key(key_hash):
    """Read the unrevoked key row whose hash is key_hash from the database, or None."""
    return ACTIVE_KEY.first(key_hash=key_hash)


def touch_last_used(key):
    """Record that key was used, writing at most once a minute per key."""
    threshold = utc_now(-LAST_USED_RESOLUTION)
    if key.last_used_at is not None and key.last_used_at > threshold:
        return
    now = utc_now()
    # Conditional, so that processes holding the same key's row do not all write it.
    (ApiKey.update(last_used_at=now)
     .where((ApiKey.id == key.id)
            & (ApiKey.last_used_at.is_null() | (ApiKey.last_used_at <= threshold)))
     .execute())
    # The row may be the key cache's: it must know of the write, or it would write again.
    key.last_used_at = now


def revoke_key(key_or_id):
    """Revoke a key given its id or its full secret; return the row, or None if unknown."""
    if KEY_SHAPE.fullmatch(key_or_id):
        row = ApiKey.get_or_none(ApiKey.key_hash == hash_key(key_or_id))
    else:
        row = ApiKey.get_or_none(ApiKey.id == key_or_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utc_now()
        row.save()
    cache = key_cache()
    if row is not None and cache is not None:
        # At once in this app; other apps and processes see it within the cache's bound.
        cache.forget(row.key_hash)
    return row
