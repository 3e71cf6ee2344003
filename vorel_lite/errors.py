"""The one error envelope: every exception, from every layer, becomes {"error": {...}}."""
import json
import logging

from flask import current_app, g, jsonify
from flask_limiter import RateLimitExceeded
from marshmallow import ValidationError
from peewee import InterfaceError, OperationalError
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException

log = logging.getLogger("vorel_lite.errors")

CODE_BY_STATUS = {401: "unauthorized", 403: "forbidden", 404: "not_found",
                  409: "conflict", 429: "rate_limited"}
# Spec section 1: an error quotes at most this many characters of any text the client sent.
MAX_QUOTED = 100


def clip(text, limit=MAX_QUOTED):
    """Cut client text quoted in an error to limit characters, with an ellipsis."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class ApiError(Exception):
    """An error the API answers on purpose, with its status and envelope members."""

    status = 400

    def __init__(self, message, *, status=None, fields=None, existing_id=None):
        super().__init__(message)
        self.message = message
        self.status = status or self.status
        self.fields = fields
        self.existing_id = existing_id


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


def code_for(status):
    """Map an HTTP status to the closed list of envelope codes."""
    if status >= 500:
        return "internal_error"
    return CODE_BY_STATUS.get(status, "bad_request")


def envelope(status, message, **extra):
    """Return the error envelope's body for a status."""
    error = {"code": code_for(status), "message": message}
    error.update({k: v for k, v in extra.items() if v is not None})
    return {"error": error}


def flatten_messages(messages):
    """Turn marshmallow's nested messages into {field path: [message, ...]}.

    Each name in a path may be the client's (an unknown field, a key of attributes): each is
    clipped to MAX_QUOTED characters, and so is each message.
    """
    flat = {}
    for field, value in messages.items():
        name = clip(field)
        if isinstance(value, dict):
            for inner, inner_messages in flatten_messages(value).items():
                flat.setdefault(f"{name}.{inner}", []).extend(inner_messages)
        else:
            flat.setdefault(name, []).extend(clip(m, 4 * MAX_QUOTED) for m in value)
    return flat


def describe_fields(fields):
    """Say which fields are wrong and why, in one line."""
    return "; ".join(f"{name}: {' '.join(msgs)}" if name != "_schema" else " ".join(msgs)
                     for name, msgs in fields.items())


def handle_api_error(error):
    """Answer an ApiError with its status and envelope."""
    body = envelope(error.status, error.message, fields=error.fields,
                    existing_id=error.existing_id)
    return jsonify(body), error.status


def handle_validation_error(error):
    """Answer a marshmallow ValidationError with a 400 naming every offending field."""
    fields = flatten_messages(error.messages)
    return jsonify(envelope(400, describe_fields(fields), fields=fields)), 400


def handle_rate_limited(error):
    """Answer a breached rate limit with a 429 envelope."""
    return with_envelope(error.get_response(), 429,
                         f"Rate limit exceeded: {error.description}.")


def handle_http_exception(error):
    """Answer werkzeug's HTTP errors (routing 404, 405, 413...) with the envelope."""
    message = error.description
    if error.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        message = f"Request body is larger than the limit of {limit} bytes."
    # Start from the exception's own response so headers such as Allow survive.
    return with_envelope(error.get_response(), error.code, message)


def with_envelope(response, status, message):
    """Replace a response's body with the envelope, keeping its status and headers."""
    response.set_data(json.dumps(envelope(status, message), separators=(",", ":")))
    response.content_type = "application/json"
    return response


def handle_unexpected(error):
    """Log an unexpected exception with the request id and answer a bare 500."""
    log.exception("unhandled error, request_id=%s", g.get("request_id"))
    message = f"An unexpected error occurred. Quote request id {g.get('request_id')} to support."
    return jsonify(envelope(500, message)), 500


# Seconds a client is asked to wait when the database cannot be reached.
RETRY_AFTER_UNAVAILABLE = 5


def handle_database_unavailable(error):
    """Answer 503 with Retry-After when the database cannot be reached (or stays locked).

    The request's transaction, if any, was rolled back: nothing of it was written.
    """
    log.warning("database unavailable (%s), request_id=%s", type(error).__name__,
                g.get("request_id"))
    message = (f"The database is unavailable; retry in {RETRY_AFTER_UNAVAILABLE} seconds. "
               f"Request id {g.get('request_id')}.")
    return (jsonify(envelope(503, message)), 503,
            {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)})


# (exception class, handler): every exception the app answers, each with its envelope.
HANDLERS = ((OperationalError, handle_database_unavailable),
            (InterfaceError, handle_database_unavailable),
            (MaxConnectionsExceeded, handle_database_unavailable),
            (ApiError, handle_api_error),
            (ValidationError, handle_validation_error),
            (RateLimitExceeded, handle_rate_limited),
            (HTTPException, handle_http_exception),
            (Exception, handle_unexpected))


def init_app(app):
    """Register the envelope handlers."""
    for exception, handler in HANDLERS:
        app.register_error_handler(exception, handler)
