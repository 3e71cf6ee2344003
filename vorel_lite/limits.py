"""Rate limits per key, per tenant and per address for failed authentication."""
import math
import time

from flask import has_request_context
from flask_limiter import ApplicationLimit
from flask_limiter.util import get_remote_address
from limits.strategies import FixedWindowRateLimiter

from .context import app_or_none, current_request, request_globals
from .limitcache import ResolvingLimiter
from .limitstorage import storage_uri
from .metrics import count_refusal

AUTH_FAILURES = "auth-failures"
# Where a request's hits leave each counter's new value (a WSGI environ key, per request).
COUNTS = "vorel.rate_limit_counts"


class CountingFixedWindow(FixedWindowRateLimiter):
    """limits' fixed window, leaving each hit's count in the request for its headers, which
    then need no second read of each counter (two round trips each to Redis)."""

    def hit(self, item, *identifiers, cost=1):
        return self.hit_key(item, item.key_for(*identifiers), cost)

    def hit_key(self, item, key, cost=1):
        """hit() for the storage key item.key_for(*identifiers), computed already."""
        count = self.storage.incr(key, item.get_expiry(), amount=cost)
        if has_request_context():
            current_request().environ.setdefault(COUNTS, {})[key] = count
        return count <= item.amount


def _authenticated():
    return request_globals().get("api_key") is not None


def _not_failing():
    """Tell whether the request did not fail authentication (valid key, or none needed)."""
    return request_globals().get("auth_error") is None


def init_app(app):
    """Attach a limiter to app; it must run after identify_key and before the 401."""
    # Registered before the limiter's own after_request hook, so it runs after it, once the
    # limiter has counted a failed authentication.
    app.after_request(add_rate_limit_headers)
    # The limiter serves this app alone: the limits read its config, not current_app's.
    config = app.config
    limiter = ResolvingLimiter(
        get_remote_address,
        # Flask-Limiter's default, without the request proxy.
        request_identifier=lambda: current_request().endpoint or "",
        storage_uri=storage_uri(app.config["RATELIMIT_STORAGE_URI"]),
        application_limits=[
            ApplicationLimit(lambda: config["RATELIMIT_PER_KEY"], scope="key",
                             key_function=lambda: request_globals().api_key.key_hash,
                             exempt_when=lambda: not _authenticated()),
            ApplicationLimit(lambda: config["RATELIMIT_PER_TENANT"], scope="tenant",
                             key_function=lambda: request_globals().api_key.tenant_id,
                             exempt_when=lambda: not _authenticated()),
            # Only requests that fail authentication are limited and counted: behind a NAT
            # or a proxy, a guesser must not lock out every valid key of its address.
            ApplicationLimit(lambda: config["RATELIMIT_AUTH_FAILURES"], scope=AUTH_FAILURES,
                             key_function=get_remote_address, exempt_when=_not_failing,
                             deduct_when=lambda response: response.status_code == 401),
        ],
        # Headers are written by add_rate_limit_headers, which picks the limit closest to
        # exhaustion and sends Retry-After only on a 429.
        headers_enabled=False,
        # A shared storage (Redis) that goes away degrades to per-process counting, not 500s.
        in_memory_fallback_enabled=True,
        on_breach=count_refusal,
    )
    limiter.init_app(app)
    # Flask-Limiter 4.1 (pinned) hits through _limiter; its in-memory fallback keeps its own.
    if type(limiter._limiter) is FixedWindowRateLimiter:
        limiter._limiter = CountingFixedWindow(limiter._limiter.storage)
    app.extensions["vorel_limiter"] = limiter
    return limiter


def header_limit(limits):
    """Choose the limit the headers describe: the breached one, else the closest to exhaustion.

    Return it with its window (reset time, remaining): from this request's hit where it made
    one, else read from the storage once.
    """
    breached = [lim for lim in limits if lim.breached]
    if breached:
        return breached[0], window(breached[0])
    if _authenticated():
        limits = [lim for lim in limits if lim.request_args[-1] != AUTH_FAILURES] or limits
    counts = current_request().environ.get(COUNTS, {})
    # min() keeps the first of equals, as the headers always did.
    chosen = min(limits, key=lambda lim: max(lim.limit.amount - counts[lim.key], 0)
                 if lim.key in counts else lim.window[1])
    return chosen, window(chosen)


def window(limit):
    """Return (reset time, remaining) of a RequestLimit, reading only what its hit did not say."""
    count = current_request().environ.get(COUNTS, {}).get(limit.key)
    if count is None:
        return limit.window
    return limit.limiter.storage.get_expiry(limit.key), max(limit.limit.amount - count, 0)


def add_rate_limit_headers(response):
    """Describe the chosen limit in X-RateLimit-*, and add Retry-After to a 429."""
    limits = app_or_none().extensions["vorel_limiter"].current_limits
    if not limits:
        return response
    chosen, (reset_at, remaining) = header_limit(limits)
    response.headers["X-RateLimit-Limit"] = str(chosen.limit.amount)
    response.headers["X-RateLimit-Remaining"] = str(max(remaining, 0))
    response.headers["X-RateLimit-Reset"] = str(math.ceil(reset_at))
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, math.ceil(reset_at - time.time())))
    return response
