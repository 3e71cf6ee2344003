"""Rate limits per key, per tenant and per address for failed authentication."""
import math
import time

from flask import current_app, g
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address


def _authenticated():
    return g.get("api_key") is not None


def _limit_setting(name):
    return lambda: current_app.config[name]


def init_app(app):
    """Attach a limiter to app; it must run after identify_key and before the 401."""
    limiter = Limiter(
        get_remote_address,
        application_limits=[
            ApplicationLimit(_limit_setting("RATELIMIT_PER_KEY"), scope="key",
                             key_function=lambda: g.api_key.key_hash,
                             exempt_when=lambda: not _authenticated()),
            ApplicationLimit(_limit_setting("RATELIMIT_PER_TENANT"), scope="tenant",
                             key_function=lambda: g.api_key.tenant_id,
                             exempt_when=lambda: not _authenticated()),
            ApplicationLimit(_limit_setting("RATELIMIT_AUTH_FAILURES"), scope="auth-failures",
                             key_function=get_remote_address,
                             exempt_when=lambda: not g.get("auth_error")),
        ],
        # Headers are written by add_rate_limit_headers, which picks the limit closest to
        # exhaustion and sends Retry-After only on a 429.
        headers_enabled=False,
    )
    limiter.init_app(app)
    app.extensions["vorel_limiter"] = limiter
    app.after_request(add_rate_limit_headers)
    return limiter


def add_rate_limit_headers(response):
    """Describe the limit closest to exhaustion (or the breached one) in X-RateLimit-*."""
    limiter = current_app.extensions["vorel_limiter"]
    limits = limiter.current_limits
    if not limits:
        return response
    breached = [lim for lim in limits if lim.breached]
    chosen = breached[0] if breached else min(limits, key=lambda lim: lim.remaining)
    reset_at = int(chosen.reset_at)
    response.headers["X-RateLimit-Limit"] = str(chosen.limit.amount)
    response.headers["X-RateLimit-Remaining"] = str(max(chosen.remaining, 0))
    response.headers["X-RateLimit-Reset"] = str(reset_at)
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, math.ceil(reset_at - time.time())))
    return response
