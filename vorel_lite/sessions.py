"""Signed-cookie sessions for the console's pages alone: the API stays stateless."""
from flask import request
from flask.sessions import SecureCookieSessionInterface

# Where no cookie is ever read, signed or written: the key-only API and what machines call.
COOKIE_FREE_PREFIXES = ("/api", "/healthz", "/metrics", "/docs")


def serves_sessions(path):
    """Tell whether a request to path may have a session (the console's pages)."""
    return not path.startswith(COOKIE_FREE_PREFIXES)


class ConsoleSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except on cookie-free paths, which get the null session."""

    def open_session(self, app, request):
        if not serves_sessions(request.path):
            return None  # Flask then uses its null session, which refuses to be written
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if serves_sessions(request.path):
            super().save_session(app, session, response)
