"""Flask-Limiter's limits resolved once per endpoint and setting: same answers, less work."""
import pytest
from flask import Blueprint, Flask, current_app
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter._manager import LimitManager
from flask_limiter.util import get_remote_address

from vorel_lite.limitcache import ResolvedOnce, ResolvingLimiter


def limited_app(limiter_class):
    """A small app using every kind of limit Flask-Limiter resolves per request."""
    app = Flask(__name__)
    app.config.update(APP_LIMIT="20 per hour", POST_LIMIT="2 per hour")
    limiter = limiter_class(
        get_remote_address, storage_uri="memory://", headers_enabled=True,
        application_limits=[ApplicationLimit(lambda: current_app.config["APP_LIMIT"],
                                             scope="app")],
        default_limits=["4 per hour"])
    blueprint = Blueprint("bp", __name__)
    blueprint.add_url_rule("/in-blueprint", "in_blueprint", lambda: "b")
    limiter.limit("2 per hour")(blueprint)

    @app.route("/posts-limited", methods=["GET", "POST"])
    @limiter.limit(lambda: current_app.config["POST_LIMIT"], methods=["POST"])
    def posts_limited():
        return "p"

    @app.get("/exempt")
    @limiter.exempt
    def exempt():
        return "e"

    @app.get("/plain")
    def plain():
        return "d"

    app.register_blueprint(blueprint)
    limiter.init_app(app)
    return app, limiter


def run_script(app, limiter):
    """Send the script's requests; return each status and rate-limit headers."""
    client = app.test_client()
    seen = []

    def send(method, path, times):
        for _ in range(times):
            response = client.open(path, method=method)
            seen.append((method, path, response.status_code,
                         response.headers.get("X-RateLimit-Limit"),
                         response.headers.get("X-RateLimit-Remaining")))

    send("GET", "/plain", 3)
    send("POST", "/posts-limited", 3)
    send("GET", "/posts-limited", 2)
    send("GET", "/in-blueprint", 3)
    send("GET", "/exempt", 2)
    # Settings change after requests were served: their new values apply at once.
    app.config["POST_LIMIT"] = "3 per hour"
    send("POST", "/posts-limited", 1)
    app.config["APP_LIMIT"] = "5 per hour"
    send("GET", "/plain", 3)
    # A registration after requests were served applies at once too.
    limiter.exempt(app.view_functions["plain"])
    send("GET", "/plain", 2)
    send("GET", "/posts-limited", 4)
    return seen


def test_answers_match_the_stock_limiter_request_for_request():
    stock = run_script(*limited_app(Limiter))
    resolving = run_script(*limited_app(ResolvingLimiter))
    assert resolving == stock
    # The script reaches every kind of answer: served, refused, with and without headers.
    statuses = {status for _, _, status, _, _ in stock}
    assert statuses == {200, 429}
    assert any(limit is None for *_, limit, _ in stock)


def test_the_request_context_is_the_stock_limiters():
    app, limiter = limited_app(ResolvingLimiter)
    with app.test_request_context("/plain"):
        assert limiter.context is Limiter.context.fget(limiter)
        limiter.context.seen_limits.add("marked")
        assert "marked" in Limiter.context.fget(limiter).seen_limits
    with app.test_request_context("/plain"):
        assert not limiter.context.seen_limits
    with app.test_request_context("/plain"):
        assert Limiter.context.fget(limiter) is limiter.context


@pytest.fixture
def resolutions(monkeypatch):
    """Count the stock manager's resolutions (what ResolvedOnce saves)."""
    calls = []
    resolve = LimitManager.resolve_limits

    def counted(self, *args, **kwargs):
        calls.append(args[1])
        return resolve(self, *args, **kwargs)

    monkeypatch.setattr(LimitManager, "resolve_limits", counted)
    return calls


def test_limits_are_resolved_once_per_endpoint_method_and_setting(resolutions):
    app, limiter = limited_app(ResolvingLimiter)
    assert isinstance(limiter.limit_manager, ResolvedOnce)
    client = app.test_client()
    for _ in range(3):
        client.get("/plain")
        client.get("/exempt")
    assert sorted(resolutions) == ["exempt", "plain"]
    client.post("/posts-limited")
    client.post("/posts-limited")
    client.get("/posts-limited")
    # The decorated view is resolved outside the middleware too, once per method.
    assert resolutions.count("posts_limited") == 4
    app.config["APP_LIMIT"] = "7 per hour"
    client.get("/plain")
    client.get("/plain")
    assert resolutions.count("plain") == 2


def test_vorel_limits_follow_a_setting_changed_after_requests(app, client, auth):
    assert isinstance(app.extensions["vorel_limiter"].limit_manager, ResolvedOnce)
    assert client.get("/api/v1/leads", headers=auth).headers["X-RateLimit-Limit"] == "200"
    app.config["RATELIMIT_PER_KEY"] = "2 per minute"
    answers = [client.get("/api/v1/leads", headers=auth) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
