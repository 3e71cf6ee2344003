"""The operator console: server-rendered pages, outside /api/v1, for a tenant's operators."""
from ..operators import dummy_hash
# Their views join the blueprint.
from . import api_keys, conversations, leads, overview, signin, webhooks  # noqa: F401
from .blueprint import answer_unrouted, bp, csrf, limit_signin, login_manager
from .webhooks import limit_test_events


def init_app(app):
    """Add the console to app: sign-in, CSRF on its forms only, its pages; after the limiter."""
    # CSRF is checked by the console's own before_request alone: the API is key-only.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(bp)
    answer_unrouted(app)
    limit_signin(app)
    limit_test_events(app)
    # Made now (once per process), so the first unknown email's sign-in takes no longer
    # than the next ones: its time must not tell that the email has no account.
    dummy_hash()
