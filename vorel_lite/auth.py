"""Bearer-key authentication and scope checks for /api/v1."""
import functools

from flask import current_app, g, request

from .errors import Forbidden, Unauthorized
from .keys import find_active_key, touch_last_used

API_PREFIX = "/api/v1/"


def public(view):
    """Mark a view as open to requests without a key."""
    view.is_public = True
    return view


def identify_key():
    """Find the request's API key; remember a failure so the limiter can count it first."""
    g.api_key = None
    g.auth_error = None
    if (not request.path.startswith(API_PREFIX) or request.endpoint is None
            or request.method == "OPTIONS"):
        return
    if getattr(current_app.view_functions[request.endpoint], "is_public", False):
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        g.auth_error = "Missing API key: send 'Authorization: Bearer <key>'."
        return
    key = find_active_key(secret.strip())
    if key is None:
        g.auth_error = "Invalid API key: it is malformed, unknown or revoked."
        return
    g.api_key = key
    g.tenant_id = key.tenant_id
    touch_last_used(key)


def reject_unauthenticated():
    """Answer 401 for a request whose key failed, after the limiter has counted it."""
    if g.get("auth_error"):
        raise Unauthorized(g.auth_error)


def check_scope(scope):
    """Raise 403 unless the request's key has scope."""
    if scope not in g.api_key.scope_set:
        raise Forbidden(f"This API key lacks the '{scope}' scope required here.")


def required_scope():
    """Return the scope the request's view requires, or None."""
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "required_scope", None)


def require_scope(scope):
    """Refuse the view with 403 unless the request's key has scope."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            check_scope(scope)
            return view(*args, **kwargs)
        wrapper.required_scope = scope
        return wrapper
    return decorator
