"""Request ids and the one log line per request (never a key, never a body)."""
import logging
import random
import re
import time
from urllib.parse import quote

from .context import current_request, request_globals

log = logging.getLogger("vorel_lite.requests")

SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# What quote() below leaves as it is: a path made only of these is logged unchanged.
PATH_SAFE = "/:@!$&'()*+,;=~"
LOGGED_AS_IS = re.compile(r"[A-Za-z0-9_.\-%s]*" % re.escape(PATH_SAFE))
LINE = "%s %s %s %.1fms tenant=%s key=%s request_id=%s"
# How vorel-lite's records are written to stderr (unless its logger has a handler already).
STDERR_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def request_id_for(offered):
    """Return the client's offered X-Request-Id when it is sane, else a new one."""
    # Unique, not secret: 128 random bits without uuid4's system call (random is reseeded in
    # every forked worker).
    return offered if SANE_REQUEST_ID.fullmatch(offered) else f"{random.getrandbits(128):032x}"


def start_request():
    """Adopt the client's X-Request-Id when it is sane, else make one; start the clock."""
    state = request_globals()
    state.started_at = time.perf_counter()
    state.request_id = request_id_for(current_request().headers.get("X-Request-Id", ""))


def finish_request(response):
    """Echo the request id and log method, path, status, duration, tenant and key prefix."""
    state, request = request_globals(), current_request()
    response.headers["X-Request-Id"] = state.get("request_id", "")
    key = state.get("api_key")
    elapsed_ms = (time.perf_counter() - state.get("started_at", time.perf_counter())) * 1000
    # Without a key, the tenant of a signed-in console operator, if any.
    log_request(request.method, request.path, response.status_code, elapsed_ms,
                key.tenant_id if key else state.get("tenant_id", "-"),
                key.display_prefix if key else "-", state.get("request_id"))
    return response


def log_request(method, path, status, elapsed_ms, tenant, key_prefix, request_id):
    """Log a request's one line (also for the refusals the server answers without the app)."""
    # The path is the client's text: percent-encoded again (a space, a newline, a NUL...), so
    # it cannot add fields to the line or split it.
    if not log.isEnabledFor(logging.INFO):
        return
    if not LOGGED_AS_IS.fullmatch(path):
        path = quote(path, safe=PATH_SAFE, errors="backslashreplace")
    # The record made here, as Logger.info makes it but for the caller's file and line, which
    # it finds by walking the stack (a quarter of a line's cost): they are always this
    # function's own.
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, LOG_REQUEST_LINE, LINE,
                              (method, path, status, elapsed_ms, tenant, key_prefix,
                               request_id), None, "log_request"))


LOG_REQUEST_LINE = log_request.__code__.co_firstlineno


class StderrFormatter(logging.Formatter):
    """logging.Formatter, writing each second's date and time once, not on every record."""

    _second = (None, "")

    def formatTime(self, record, datefmt=None):
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second, text = self._second
        if second != int(record.created):
            second = int(record.created)
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = second, text
        return self.default_msec_format % (text, record.msecs)


def log_to_stderr(logger):
    """Send logger's records to stderr in the request log's format, unless it has a handler."""
    # Flask-Limiter adds a NullHandler at every init_app: that one does not count.
    if any(not isinstance(h, logging.NullHandler) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(StderrFormatter(STDERR_FORMAT))
    logger.addHandler(handler)
    # Servers such as waitress configure the root logger too: one line per record.
    logger.propagate = False


def init_app(app):
    """Register the request-id hooks; send the request log and the limiter's warnings to stderr."""
    app.before_request(start_request)
    app.after_request(finish_request)
    logger = logging.getLogger("vorel_lite")
    logger.setLevel(str(app.config["LOG_LEVEL"]).upper())
    log_to_stderr(logger)
    # Warnings only (such as Redis unreachable, counting per process): the limiter's INFO
    # lines come once per refused request and name the key's hash.
    limiter_log = logging.getLogger("flask-limiter")
    limiter_log.setLevel(max(logging.WARNING, logger.getEffectiveLevel()))
    log_to_stderr(limiter_log)
