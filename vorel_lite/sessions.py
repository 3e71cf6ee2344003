"""No sessions: the API is stateless."""
from flask.sessions import SessionInterface


class NoSessions(SessionInterface):
    """The API is stateless: no session cookie is ever read, signed or written."""

    def open_session(self, app, request):
        return None  # Flask then uses its null session, which refuses to be written

    def save_session(self, app, session, response):
        pass
