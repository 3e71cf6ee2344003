"""The server of `flask serve`: waitress, bounded against huge bodies and slow clients.

waitress reads a whole request (headers and body) on its event loop before a worker thread
runs the app, so a slow client costs a connection, not a thread: with enough connections
allowed, a few hundred slow clients leave everyone else served. A body larger than
MAX_CONTENT_LENGTH is refused from its Content-Length, before it is read, and the refusals
waitress answers itself are the API's JSON envelope too.
"""
import json

import waitress
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer
from waitress.task import ErrorTask

from .errors import envelope


class JSONErrorTask(ErrorTask):
    """waitress' own refusals (413, 400 on a malformed request...) as the JSON envelope."""

    def execute(self):
        error = self.request.error
        message = (f"Request body is larger than the limit of "
                   f"{self.channel.server.adj.max_request_body_size} bytes."
                   if error.code == 413 else f"{error.reason}: {error.body}")
        body = json.dumps(envelope(error.code, message), separators=(",", ":")).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JSONErrorChannel(HTTPChannel):
    error_task_class = JSONErrorTask


def make_server(app, host, port, threads):
    """Bind host:port and return the waitress server (raises OSError if the port is taken)."""
    config = app.config
    server = waitress.create_server(
        app, host=host, port=port, threads=threads, ident="vorel-lite",
        max_request_body_size=config["MAX_CONTENT_LENGTH"],
        connection_limit=config["SERVE_CONNECTION_LIMIT"],
        channel_timeout=config["SERVE_CHANNEL_TIMEOUT"])
    # One listening socket per address host resolves to (MultiSocketServer), or just one.
    listeners = server.map.values() if isinstance(server, MultiSocketServer) else [server]
    for listener in listeners:
        listener.channel_class = JSONErrorChannel
    return server
