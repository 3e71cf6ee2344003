"""The server of `flask serve`: waitress, bounded against huge bodies and slow clients.

waitress reads a whole request (headers and body) on its event loop before a worker thread
runs the app, so a slow client costs a connection, not a thread: with enough connections
allowed, a few hundred slow clients leave everyone else served. A body larger than
MAX_CONTENT_LENGTH is refused from its Content-Length, before it is read; a chunked one once
waitress has received that much, its chunks' framing counted (so one within a few bytes of
the limit is refused too). The refusals waitress answers itself (400, 413, 431, 500, 501)
are answered as the app answers its own: the console's page on the console's paths, the
API's JSON envelope elsewhere, each with an X-Request-Id and its line in the request log (no
X-RateLimit-*: the limiter never ran).
"""
import json
import logging
import time

import waitress
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import InternalServerError, RequestHeaderFieldsTooLarge
from werkzeug.exceptions import default_exceptions

from .console.blueprint import console_sections, harden, is_console_path, show_error
from .errors import envelope
from .requestlog import log_request, request_id_for

log = logging.getLogger("vorel_lite.serving")

# What the request log says for a method or path never read.
UNREAD = "-"


def refused_request(task):
    """Return the request task answers for.

    For a 500 (the app's task failed before answering), task's request is waitress' stand-in,
    which keeps only the HTTP version: the request that failed is still first in the queue.
    """
    if isinstance(task.request.error, InternalServerError):
        return next(iter(task.channel.requests), task.request)
    return task.request


def environ_of(task, request):
    """Return the WSGI environ the app would have had for request; None without a request line."""
    if isinstance(request.error, RequestHeaderFieldsTooLarge):
        return None  # waitress stands "GET /" in for the request line it never read
    try:
        return WSGITask(task.channel, request).get_environment()
    except AttributeError:
        return None  # refused before its request line was parsed: waitress never set it


def console_page(app, environ, status):
    """Return (headers, body) of the console's page for status, as an unrouted error gets it."""
    # Without the client's cookies: no session to open and no operator to read from the
    # database, so the page is the signed-out one.
    environ = {name: value for name, value in environ.items() if name != "HTTP_COOKIE"}
    with app.request_context(environ):
        response = harden(show_error(default_exceptions[status]()))
    headers = [(name, value) for name, value in response.headers.to_wsgi_list()
               if name.lower() != "content-length"]
    return headers, response.get_data()


def json_envelope(error, body_limit):
    """Return (headers, body) of the API's envelope for waitress' error."""
    message = (f"Request body is larger than the limit of {body_limit} bytes."
               if error.code == 413 else f"{error.reason}: {error.body}")
    body = json.dumps(envelope(error.code, message), separators=(",", ":")).encode()
    return [("Content-Type", "application/json")], body


def answer(task, environ, path):
    """Return (headers, body) for task's refusal: the console's page on its paths, else JSON."""
    channel, error = task.channel, task.request.error
    if path is not None and is_console_path(path, channel.console_sections):
        try:
            return console_page(channel.app, environ, error.code)
        except Exception:  # noqa: BLE001
            log.exception("the console's page for a %s could not be made", error.code)
    return json_envelope(error, channel.app.config["MAX_CONTENT_LENGTH"])


class RefusalTask(ErrorTask):
    """waitress' own refusals, answered (and logged) as the app answers its own."""

    def execute(self):
        started = time.perf_counter()
        environ = environ_of(self, refused_request(self))
        request = None if environ is None else self.channel.app.request_class(environ)
        path = request.path if request else None
        headers, body = answer(self, environ, path)
        request_id = request_id_for(request.headers.get("X-Request-Id", "") if request else "")
        error = self.request.error
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend(headers)
        self.response_headers.append(("X-Request-Id", request_id))
        self.set_close_on_finish()
        self.content_length = len(body)
        log_request(request.method if request else UNREAD, path or UNREAD, error.code,
                    (time.perf_counter() - started) * 1000, "-", "-", request_id)
        self.write(body)


def refusal_channel(app):
    """Return a waitress channel class whose refusals are answered as app answers its own."""
    # The server's own application may be waitress' proxy-header middleware, not app.
    return type("RefusalChannel", (HTTPChannel,), {
        "error_task_class": RefusalTask, "app": app, "console_sections": console_sections(app)})


def make_server(app, host, port, threads):
    """Bind host:port and return the waitress server (raises OSError if the port is taken)."""
    config = app.config
    server = waitress.create_server(
        app, host=host, port=port, threads=threads, ident="vorel-lite",
        # waitress refuses max_request_body_size bytes or more; the app allows the limit itself.
        max_request_body_size=config["MAX_CONTENT_LENGTH"] + 1,
        connection_limit=config["SERVE_CONNECTION_LIMIT"],
        channel_timeout=config["SERVE_CHANNEL_TIMEOUT"])
    # One listening socket per address host resolves to (MultiSocketServer), or just one.
    listeners = server.map.values() if isinstance(server, MultiSocketServer) else [server]
    channel_class = refusal_channel(app)
    for listener in listeners:
        listener.channel_class = channel_class
    return server
