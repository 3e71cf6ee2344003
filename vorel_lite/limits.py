"""Rate limits per key, per tenant and per address for failed authentication."""
import math
import time

from flask import current_app, g
from flask_limiter import ApplicationLimit
from flask_limiter.util import get_remote_address

from .limitcache import ResolvingLimiter
from .metrics import count_refusal

AUTH_FAILURES = "auth-failures"


def _authenticated():
    return g.get("api_key") is not None


def _not_failing():
    """Tell whether the request did not fail authentication (valid key, or none needed)."""
    return g.get("auth_error") is None


def _limit_setting(name):
    return lambda: current_app.config[name]


def init_app(app):
    """Attach a limiter to app; it must run after identify_key and before the 401."""
    # Registered before the limiter's own after_request hook, so it runs after it, once the
    # limiter has counted a failed authentication.
    app.after_request(add_rate_limit_headers)
    limiter = ResolvingLimiter(
        get_remote_address,
        application_limits=[
            ApplicationLimit(_limit_setting("RATELIMIT_PER_KEY"), scope="key",
                             key_function=lambda: g.api_key.key_hash,
                             exempt_when=lambda: not _authenticated()),
            ApplicationLimit(_limit_setting("RATELIMIT_PER_TENANT"), scope="tenant",
                             key_function=lambda: g.api_key.tenant_id,
                             exempt_when=lambda: not _authenticated()),
            # Only requests that fail authentication are limited and counted: behind a NAT
            # or a proxy, a guesser must not lock out every valid key of its address.
            ApplicationLimit(_limit_setting("RATELIMIT_AUTH_FAILURES"), scope=AUTH_FAILURES,
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
    app.extensions["vorel_limiter"] = limiter
    return limiter


def header_limit(limits):
    """Choose the limit the headers describe: the breached one, else the closest to exhaustion.

    Return it with its window (reset time, remaining), read from the storage once.
    """
    breached = [lim for lim in limits if lim.breached]
    if breached:
        return breached[0], breached[0].window
    if _authenticated():
        limits = [lim for lim in limits if lim.request_args[-1] != AUTH_FAILURES] or limits
    return min(((lim, lim.window) for lim in limits), key=lambda pair: pair[1][1])


def add_rate_limit_headers(response):
    """Describe the chosen limit in X-RateLimit-*, and add Retry-After to a 429."""
    limits = current_app.extensions["vorel_limiter"].current_limits
    if not limits:
        return response
    chosen, (reset_at, remaining) = header_limit(limits)
    response.headers["X-RateLimit-Limit"] = str(chosen.limit.amount)
    response.headers["X-RateLimit-Remaining"] = str(max(remaining, 0))
    response.headers["X-RateLimit-Reset"] = str(math.ceil(reset_at))
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, math.ceil(reset_at - time.time())))
    return response
