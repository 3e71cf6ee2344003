"""Bearer-key authentication and scope checks for /api/v1."""
import functools

from flask import current_app, request

from .context import app_or_none, current_request, request_globals
from .errors import Forbidden, Unauthorized
from .keys import find_active_key, touch_last_used

API_PREFIX = "/api/v1/"


def public(view):
    """Mark a view as open to requests without a key."""
    view.is_public = True
    return view


def identify_key():
    """Find the request's API key; remember a failure so the limiter can count it first."""
    state, req = request_globals(), current_request()
    state.api_key = None
    state.auth_error = None
    endpoint = req.endpoint
    if not req.path.startswith(API_PREFIX) or endpoint is None or req.method == "OPTIONS":
        return
    if getattr(app_or_none().view_functions[endpoint], "is_public", False):
        return
    scheme, _, secret = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        state.auth_error = "Missing API key: send 'Authorization: Bearer <key>'."
        return
    key = find_active_key(secret.strip())
    if key is None:
        state.auth_error = "Invalid API key: it is malformed, unknown or revoked."
        return
    state.api_key = key
    state.tenant_id = key.tenant_id
    touch_last_used(key)


def reject_unauthenticated():
    """Answer 401 for a request whose key failed, after the limiter has counted it."""
    error = request_globals().get("auth_error")
    if error:
        raise Unauthorized(error)


def check_scope(scope):
    """Raise 403 unless the request's key has scope."""
    if scope not in request_globals().api_key.scope_set:
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
