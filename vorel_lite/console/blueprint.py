"""The console's blueprint, its extensions, and what every one of its requests goes through."""
import json

from flask import Blueprint, current_app, g, render_template, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException, default_exceptions

from ..errors import HANDLERS, handle_http_exception

bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
               static_url_path="/console/static")
login_manager = LoginManager()
login_manager.login_view = "console.login"
login_manager.login_message = "Sign in to see that page."
csrf = CSRFProtect()

# Endpoints open without signing in.
PUBLIC_ENDPOINTS = frozenset({"console.login", "console.static"})
# Inline scripts and styles are refused: the page runs only its own files.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@bp.before_request
def require_operator():
    """Send the signed-out to /login, then refuse a form without its CSRF token (400)."""
    if request.method == "OPTIONS":
        return None  # Flask's answer (the Allow header) tells nothing of any tenant
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.is_authenticated:
        # The request's tenant, as an API key sets it: the request log names it.
        g.tenant_id = current_user.tenant_id
    csrf.protect()
    return None


@bp.after_request
def harden(response):
    """Keep the console's pages out of caches and frames; run only the console's own files."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        # Pages carry tenant data, and a new key is shown once: never from a cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def as_page(response, error):
    """Replace response's body with the console's page for error (an HTTPException)."""
    response.set_data(render_template("console/error.html", error=error,
                                      signed_in=current_user.is_authenticated))
    response.content_type = "text/html; charset=utf-8"
    return response


def show_error(error):
    """Answer an HTTP error inside the console with a page, not the API's JSON envelope."""
    # Start from the exception's own response so headers such as Allow survive.
    return as_page(error.get_response(), error)


def show_failure(handler):
    """Return a handler answering as handler does (status, headers, log line) with a page."""
    def answer(error):
        response = current_app.make_response(handler(error))
        # The envelope's message is written for a client: it names no exception.
        message = json.loads(response.get_data())["error"]["message"]
        try:
            return as_page(response, default_exceptions[response.status_code](message))
        except Exception:  # noqa: BLE001
            # The page reads the signed-in operator from the database: when that is what
            # failed, the envelope is all that can be answered.
            return response
    return answer


# Every exception the app answers with its envelope (a 500 too) gets the console's page.
for exception, handler in HANDLERS:
    if not issubclass(exception, HTTPException):
        bp.register_error_handler(exception, show_failure(handler))
bp.register_error_handler(HTTPException, show_error)
# The app's own handler is registered for 429 by status, which Flask looks up before a
# handler registered for a class; the console's must be registered the same way.
bp.register_error_handler(429, show_error)


def console_sections(app):
    """Return the first path segments of the console's routes: {"login", "settings", ...}."""
    return frozenset(rule.rule.split("/")[1] for rule in app.url_map.iter_rules()
                     if rule.endpoint.startswith(f"{bp.name}.")) - {""}


def is_console_path(path, sections):
    """Tell whether path is the console's: "/" or under one of its sections."""
    return path == "/" or path.split("/")[1] in sections


def answer_unrouted(app):
    """Make a 404 or 405 under the console's sections its page; elsewhere, the API's envelope."""
    sections = console_sections(app)

    def show_routing_error(error):
        # Routing errors belong to no blueprint, so the path decides, never Accept: a
        # browser's unknown /api/v2/x is still the API's (JSON), /settings/x the console's.
        if is_console_path(request.path, sections):
            # A routing error runs none of the blueprint's after_request hooks: add its headers.
            return harden(show_error(error))
        return handle_http_exception(error)

    # By status, which Flask looks up before any handler registered for a class; so this one
    # also sees the 404s of the console's own views, which it answers as their blueprint does.
    for status in (404, 405):
        app.register_error_handler(status, show_routing_error)


def limit_signin(app):
    """Rate-limit sign-in attempts per address with the app's limiter; successes are free."""
    from flask_limiter.util import get_remote_address
    limiter = app.extensions["vorel_limiter"]
    view = app.view_functions["console.login"]
    app.view_functions["console.login"] = limiter.limit(
        lambda: current_app.config["CONSOLE_SIGNIN_RATELIMIT"], key_func=get_remote_address,
        methods=["POST"], scope="console-signin",
        deduct_when=lambda response: response.status_code != 303)(view)
