"""vorel-lite: a self-hosted implementation of the Vorel public API."""
import os


def create_app(test_config=None):
    """Create the app: defaults, then instance/config.py or test_config, then VOREL_* vars."""
    # Imported here, as in Flask's tutorial: pytest imports this package in every run (for
    # the plugin in vorel_lite/testing), and importing Flask and the rest takes half a second.
    from werkzeug.middleware.proxy_fix import ProxyFix

    from . import (auth, cli, config, db, errors, health, idempotency, keycache, limits, metrics,
                   outbound, requestlog)
    from . import api, console, docs
    from .body import limit_unsized_bodies
    from .flask_app import App
    from .api import analytics, appointments, conversations, crm, events, leads, offerings
    from .openapi import document
    from .sessions import ConsoleSessions
    from .webhooks import secrets

    test_config = dict(test_config or {})
    instance_path = test_config.pop("INSTANCE_PATH", None) or os.environ.get("VOREL_INSTANCE_PATH")
    app = App(__name__, instance_relative_config=True,
              instance_path=os.path.abspath(instance_path) if instance_path else None)
    app.config.from_object(config)
    if test_config:
        app.config.update(test_config)
    else:
        app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("VOREL")
    trusted = app.config["TRUSTED_PROXIES"]
    if isinstance(trusted, bool) or not isinstance(trusted, int) or trusted < 0:
        raise ValueError(f"TRUSTED_PROXIES must be a whole number >= 0, not {trusted!r}.")
    if trusted:
        # The scheme too: over HTTPS the console's forms also check the Referer (Flask-WTF).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted)
    app.wsgi_app = limit_unsized_bodies(app)
    # Under /api/v1 every answer is JSON: a doubled slash is a 404, not a redirect to HTML.
    app.url_map.merge_slashes = False
    # The instance folder holds the database, the secret key and the demo key: owner only.
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    os.chmod(app.instance_path, 0o700)
    # Sessions for the console's pages alone: the API never reads nor writes a cookie.
    app.session_interface = ConsoleSessions()

    # First, so that what starting the app logs (a schema upgrade, at the end) is written too.
    requestlog.init_app(app)
    db.init_app(app)
    keycache.init_app(app)
    secrets.init_app(app)
    outbound.init_app(app)
    # Before the limiter and auth, whose refusals are counted and timed too.
    metrics.init_app(app)
    # The limiter checks its limits in its own before_request hook: the key must be known
    # before it runs, and the 401 must come after it so failed attempts are counted.
    app.before_request(auth.identify_key)
    limits.init_app(app)
    app.before_request(auth.reject_unauthenticated)
    app.before_request(api.refuse_unknown_query)
    idempotency.init_app(app)
    errors.init_app(app)

    app.after_request(api.answer_options)
    for blueprint in (conversations.bp, leads.bp, appointments.bp, offerings.bp, analytics.bp,
                      crm.bp, events.bp, document.bp, health.bp, docs.bp):
        app.register_blueprint(blueprint)
    # After the limiter, which limits its sign-in attempts.
    console.init_app(app)
    cli.init_app(app)
    # Last: every setting above was checked before the database is touched.
    db.upgrade_schema(app)
    return app
