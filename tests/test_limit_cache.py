"""Flask-Limiter's limits resolved once per endpoint and setting: same answers, less work."""
import dataclasses
import importlib.util

import pytest
from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter import ApplicationLimit, ExemptionScope, Limit, Limiter
from flask_limiter._manager import LimitManager
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage
from werkzeug.datastructures import Headers

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


# Ours against stock, path by path: each scenario builds the same app on stock Flask-Limiter
# and on ResolvingLimiter, sends the same requests to both and requires the same answers.

REDIS_MISSING = importlib.util.find_spec("redis") is None
SCENARIOS = []


def scenario(fast=True, reaches=None, marks=()):
    """Register an app builder; fast: ResolvingLimiter checks some request from its Plan;
    reaches: what stock's answers must show, so the script exercises the case it is about."""
    def register(build):
        SCENARIOS.append(pytest.param(build, fast, reaches or (lambda answers: True),
                                      id=build.__name__, marks=marks))
        return build
    return register


def hit(path, times=1, method="GET", headers=None):
    """A step of a script: send the request `times` times."""
    return (method, path, times, headers or {})


def named_view(name, status=200):
    """A view answering its name with status; named so limits and exemptions tell views apart."""
    def answer(**_):
        return name, status
    answer.__name__ = answer.__qualname__ = name
    return answer


def add_view(app_or_blueprint, rule, view, methods=("GET",)):
    """Route rule to view under the view's name."""
    app_or_blueprint.add_url_rule(rule, view.__name__, view, methods=list(methods))


def logged_breach(answer=None, error=None):
    """An on_breach callback that records the RequestLimit, then raises error or returns the
    answer's Response."""
    def on_breach(request_limit):
        current_app.extensions["seen"]["breaches"].append(
            (str(request_limit.limit), request_limit.key, request_limit.breached,
             request_limit.shared))
        if error:
            raise error
        return Response(answer, status=503) if answer else None
    return on_breach


def describe(request_limit):
    """A RequestLimit as plain values."""
    if request_limit is None:
        return None
    return (str(request_limit.limit), request_limit.key, request_limit.breached,
            request_limit.shared)


def make_app(limiter_class, **options):
    """An app and its limiter (not yet initialised) that record what each request showed."""
    app = Flask(__name__)
    app.config["TESTING"] = True
    app.extensions["seen"] = {"breaches": [], "contexts": []}
    options = {"storage_uri": "memory://", "headers_enabled": True, **options}
    limiter = limiter_class(get_remote_address, **options)

    @app.after_request
    def record_limits(response):
        context = limiter.context
        app.extensions["seen"]["contexts"].append((
            describe(context.view_rate_limit),
            [describe(limit) for limit in context.view_rate_limits],
            [(str(limit.limit), tuple(args))
             for limit, args in context.conditional_deductions.items()],
            [(str(limit.limit), limit.shared, limit.per_method) for limit in context.seen_limits],
        ))
        return response

    return app, limiter


@dataclasses.dataclass
class Answer:
    """What one request showed: the response, the limiter's view of it, the counters after."""

    request: tuple
    status: int | None
    body: bytes
    error: str | None
    headers: tuple
    limiter_context: list
    breaches: list
    counters: list
    storage_dead: bool
    # Reset and Retry-After: seconds, compared with slack (the runs are not simultaneous).
    times: tuple = dataclasses.field(compare=False)


def counters(limiter):
    """The limiter's in-memory counts: of its storage, and of its fallback storage."""
    fallback = getattr(limiter, "_fallback_storage", None)
    return [dict(storage.storage) if isinstance(storage, MemoryStorage) else None
            for storage in (limiter.storage, fallback)]


def send(app, limiter, client, method, path, headers):
    """Send one request; return its Answer."""
    seen = app.extensions["seen"]
    seen["breaches"].clear()
    seen["contexts"].clear()
    try:
        response, error = client.open(path, method=method, headers=headers), None
    except Exception as exception:  # the stock limiter lets the app raise: so must ours
        response, error = None, type(exception).__name__
    answer_headers = response.headers if response is not None else Headers()
    return Answer(
        request=(method, path, tuple(headers.items())),
        status=response.status_code if response is not None else None,
        body=response.get_data() if response is not None else b"",
        error=error,
        headers=tuple(answer_headers.getlist(name)
                      for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining")),
        limiter_context=list(seen["contexts"]),
        breaches=list(seen["breaches"]),
        counters=counters(limiter),
        storage_dead=limiter._storage_dead,
        times=tuple(answer_headers.get(name) for name in ("X-RateLimit-Reset", "Retry-After")),
    )


def run_case(app, limiter, steps):
    """Run the steps (requests, or callables changing the app between them); return the
    Answers."""
    client = app.test_client()
    answers = []
    for step in steps:
        if callable(step):
            step(app, limiter)
            continue
        method, path, times, headers = step
        answers.extend(send(app, limiter, client, method, path, headers) for _ in range(times))
    return answers


def assert_same_answers(ours, stock):
    """Require ours == stock, the reset times within two seconds."""
    assert ours == stock
    for mine, theirs in zip(ours, stock):
        for our_time, their_time in zip(mine.times, theirs.times):
            assert (our_time is None) == (their_time is None)
            if our_time is not None:
                assert abs(int(our_time) - int(their_time)) <= 2, (mine.request, mine.times)


@pytest.fixture
def planned(monkeypatch):
    """Count the requests ResolvingLimiter checks from a Plan (its fast path)."""
    calls = []
    check_plan = ResolvingLimiter.check_plan

    def counted(self, endpoint, plan):
        calls.append(endpoint)
        return check_plan(self, endpoint, plan)

    monkeypatch.setattr(ResolvingLimiter, "check_plan", counted)
    return calls


def statuses(answers):
    """The statuses of answers, in order."""
    return [answer.status for answer in answers]


@scenario(reaches=lambda answers: {(a.status, a.body) for a in answers} >= {
    (503, b"slow down"), (200, b"a")} and 429 in statuses(answers))
def breach_callbacks(limiter_class):
    """A breached limit whose on_breach returns a Response (the client gets it), and one whose
    on_breach (the limiter's, also called for the other) returns None."""
    app, limiter = make_app(
        limiter_class, on_breach=logged_breach(),
        application_limits=["5 per day"],
        default_limits=[Limit("2 per hour", key_function=get_remote_address,
                              on_breach=logged_breach("slow down"))])
    add_view(app, "/a", named_view("a"))
    add_view(app, "/app-only",
             limiter.exempt(flags=ExemptionScope.DEFAULT)(named_view("app_only")))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 3), hit("/app-only", 4)]


@scenario(reaches=lambda answers: statuses(answers) == [200, 429, 429]
          and len(answers[1].breaches) == 1)
def breach_callback_raises_swallowed(limiter_class):
    """An on_breach callback that raises, its error swallowed: the request is still refused."""
    app, limiter = make_app(limiter_class, swallow_errors=True, default_limits=["1 per hour"],
                            on_breach=logged_breach(error=ValueError("callback")))
    add_view(app, "/a", named_view("a"))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 3)]


@scenario(reaches=lambda answers: [a.error for a in answers] == [None, "ValueError"])
def breach_callback_raises(limiter_class):
    """An on_breach callback that raises, errors not swallowed: the app raises its error."""
    app, limiter = make_app(limiter_class, default_limits=["1 per hour"],
                            on_breach=logged_breach(error=ValueError("callback")))
    add_view(app, "/a", named_view("a"))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 2)]


@scenario(reaches=lambda answers: [len(answer.breaches) for answer in answers] == [0, 0, 1, 4, 4]
          and b"minute cap" in answers[2].body)
def several_breaches(limiter_class):
    """fail_on_first_breach=False: every limit is counted and the breached ones all reported."""
    app, limiter = make_app(
        limiter_class, fail_on_first_breach=False, on_breach=logged_breach(),
        application_limits=["3 per day"],
        default_limits=["3 per day", "3 per hour",
                        Limit("2 per minute", key_function=get_remote_address,
                              error_message="minute cap")])
    add_view(app, "/a", named_view("a"))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 5)]


@scenario(reaches=lambda answers: statuses(answers) == [200] * 4 + [429, 429]
          and answers[-1].counters[0]["LIMITER/127.0.0.1/a/4/1/day"] == 4)
def first_breach_in_window_order(limiter_class):
    """Two limits breached by one request: the shortest window is checked, counted and
    reported first, and the longer one is then left alone."""
    app, limiter = make_app(limiter_class, on_breach=logged_breach(),
                            application_limits=["20 per day"],
                            default_limits=["4 per day", "4 per hour"])
    add_view(app, "/a", named_view("a"))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 6)]


def failed(response):
    """Whether response is an error (what the conditional limits count)."""
    return response.status_code >= 400


def status_asked():
    """A view answering with the request's status argument (200 by default)."""
    return "asked", int(request.args.get("status", 200))


@scenario(reaches=lambda answers: statuses(answers)[:6] == [200, 200, 200, 400, 400, 429]
          and statuses(answers)[-4:] == [201, 201, 201, 429])
def conditional_deductions(limiter_class):
    """deduct_when: a limit counted only by the responses it matches, after the response."""
    app, limiter = make_app(
        limiter_class, application_limits=["3 per hour"],
        application_limits_deduct_when=lambda response: response.status_code == 201,
        default_limits=[Limit("2 per hour", key_function=get_remote_address,
                              deduct_when=failed), "10 per day"])
    add_view(app, "/answer", status_asked)
    add_view(app, "/made", named_view("made", 201))
    add_view(app, "/own", limiter.limit("3 per hour", deduct_when=failed,
                                        override_defaults=False)(named_view("own", 404)))
    limiter.init_app(app)
    return app, limiter, [hit("/answer", 3), hit("/answer?status=400", 2), hit("/answer"),
                          hit("/own", 3), hit("/made", 4)]


def header_says(name):
    """An exempt_when callable: whether the request has header name set to 1."""
    return lambda: request.headers.get(name) == "1"


@scenario(reaches=lambda answers: statuses(answers) == [200] * 5 + [429, 429]
          and answers[4].headers == ([], []))
def exempt_when(limiter_class):
    """exempt_when: a limit skipped for the requests it exempts, the others still counted."""
    app, limiter = make_app(
        limiter_class, application_limits=["5 per hour"],
        application_limits_exempt_when=header_says("X-Free"),
        default_limits=[Limit("2 per hour", key_function=get_remote_address,
                              exempt_when=header_says("X-Exempt"))])
    add_view(app, "/a", named_view("a"))
    limiter.init_app(app)
    exempt, free = {"X-Exempt": "1"}, {"X-Exempt": "1", "X-Free": "1"}
    return app, limiter, [hit("/a", 2), hit("/a", 2, headers=exempt), hit("/a", headers=free),
                          hit("/a"), hit("/a", headers=exempt)]


def cost_asked():
    """A cost callable: the request's cost argument (1 by default)."""
    return int(request.args.get("cost", 1))


@scenario(reaches=lambda answers: statuses(answers) == [200, 200, 429, 200, 200, 200, 429]
          and answers[0].headers == (["5"], ["3"]))
def costs(limiter_class):
    """cost as an int above 1 and as a callable: each request counts that much."""
    app, limiter = make_app(
        limiter_class, application_limits=[ApplicationLimit("9 per day", cost=cost_asked)],
        default_limits=[Limit("5 per hour", key_function=get_remote_address, cost=2)])
    add_view(app, "/a", named_view("a"))
    add_view(app, "/b", limiter.exempt(flags=ExemptionScope.DEFAULT)(named_view("b")))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 3), hit("/b?cost=2", 2), hit("/b?cost=3", 2)]


@scenario(reaches=lambda answers: statuses(answers) == [200] * 3 + [429] + [200, 200, 429])
def shared_limits(limiter_class):
    """A shared limit on two blueprints (checked in the middleware) and on two routes (checked
    by their decorators): one count for both."""
    app, limiter = make_app(limiter_class, application_limits=["50 per day"],
                            default_limits=["10 per hour"])
    shared = limiter.shared_limit("3 per hour", scope="group")
    pair = limiter.shared_limit("2 per hour", scope=lambda endpoint: "pair",
                                override_defaults=False)
    for name in ("one", "two"):
        blueprint = Blueprint(name, __name__, url_prefix=f"/{name}")
        add_view(blueprint, "/x", named_view(f"{name}_x"))
        shared(blueprint)
        app.register_blueprint(blueprint)
        add_view(app, f"/pair-{name}", pair(named_view(f"pair_{name}")))
    limiter.init_app(app)
    return app, limiter, [hit("/one/x", 2), hit("/two/x", 2), hit("/pair-one", 2),
                          hit("/pair-two")]


@scenario(reaches=lambda answers: statuses(answers) == [
    200, 200, 429, 200, 200, 200, 200, 200, 429, 200, 429])
def methods(limiter_class):
    """per_method limits (a count per method) and limits for some methods (others exempt)."""
    app, limiter = make_app(limiter_class, default_limits=["2 per hour"],
                            default_limits_per_method=True,
                            application_limits=["30 per hour"],
                            application_limits_per_method=True)
    add_view(app, "/m", named_view("m"), methods=("GET", "POST", "PUT"))
    blueprint = Blueprint("bp", __name__, url_prefix="/bp")
    add_view(blueprint, "/m", named_view("bp_m"), methods=("GET", "POST"))
    limiter.limit("1 per hour", methods=["POST"], per_method=True)(blueprint)
    app.register_blueprint(blueprint)
    limiter.init_app(app)
    return app, limiter, [hit("/m", 3), hit("/m", 2, "POST"), hit("/m", 1, "PUT"),
                          hit("/bp/m", 3), hit("/bp/m", 2, "POST")]


def bucket(endpoint):
    """A callable scope: the request's bucket argument."""
    return request.args.get("bucket", "")


@scenario(reaches=lambda answers: statuses(answers)[:4] == [200, 200, 429, 200]
          and 429 in statuses(answers[4:]))
def callable_scope_and_key(limiter_class):
    """A callable scope (an empty one falls back to the endpoint) and a key function that may
    answer nothing (the limit is skipped)."""
    app, limiter = make_app(
        limiter_class,
        default_limits=[Limit("2 per hour", key_function=get_remote_address, scope=bucket),
                        Limit("3 per hour", key_function=lambda: request.headers.get("X-Key"),
                              shared=True, scope="keyed")])
    add_view(app, "/a", named_view("a"))
    add_view(app, "/b", named_view("b"))
    limiter.init_app(app)
    keyed = {"X-Key": "k"}
    return app, limiter, [hit("/a?bucket=x", 3), hit("/a?bucket=y"), hit("/a", 2),
                          hit("/b?bucket=z", 2, headers=keyed), hit("/a?bucket=w", 2,
                                                                    headers=keyed)]


@scenario(reaches=lambda answers: all(key.startswith("LIMITER/tenant/")
                                      for key in answers[-1].counters[0])
          and statuses(answers) == [200, 200, 429])
def key_prefix(limiter_class):
    """key_prefix: every count under the prefix."""
    app, limiter = make_app(limiter_class, key_prefix="tenant", default_limits=["2 per hour"],
                            application_limits=["5 per day"])
    add_view(app, "/a", named_view("a"))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 3)]


@scenario(reaches=lambda answers: statuses(answers) == [200, 429, 200, 429, 200])
def custom_request_identifier(limiter_class):
    """A request identifier other than the endpoint: the scopes follow it."""
    app, limiter = make_app(limiter_class, default_limits=["1 per hour"],
                            request_identifier=lambda: request.path.strip("/"))
    add_view(app, "/a", named_view("a"))
    add_view(app, "/b/<int:number>", named_view("b"))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 2), hit("/b/1", 2), hit("/b/2")]


@scenario(fast=False, reaches=lambda answers: statuses(answers) == [200, 429, 429, 503, 503]
          and len(answers[-1].breaches) == 1)
def meta_limits(limiter_class):
    """Limiter-wide meta limits: a breach also counts the meta limit, which then refuses all."""
    app, limiter = make_app(limiter_class, meta_limits=["2 per hour"], default_limits=["1/minute"],
                            on_meta_breach=logged_breach("meta"))
    add_view(app, "/a", named_view("a"))
    add_view(app, "/b", named_view("b"))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 3), hit("/b", 2)]


@scenario(fast=False, reaches=lambda answers: statuses(answers) == [200, 429, 429, 429])
def meta_limits_of_a_limit(limiter_class):
    """Meta limits of a default limit: the whole request is checked as stock does."""
    app, limiter = make_app(limiter_class, default_limits=[
        Limit("1/minute", key_function=get_remote_address, meta_limits=["2 per hour"])])
    add_view(app, "/a", named_view("a"))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 4)]


@scenario(reaches=lambda answers: statuses(answers) == [200, 200, 200, 200, 429])
def request_filter(limiter_class):
    """A request filter: the requests it passes are not limited at all (moving windows)."""
    app, limiter = make_app(limiter_class, default_limits=["2 per hour"],
                            strategy="moving-window")
    limiter.request_filter(header_says("X-Internal"))
    add_view(app, "/a", named_view("a"))
    limiter.init_app(app)
    return app, limiter, [hit("/a", 2), hit("/a", 2, headers={"X-Internal": "1"}), hit("/a")]


@scenario(reaches=lambda answers: statuses(answers) == [200, 200, 429, 200, 200]
          and answers[0].headers == (["2", "3"], ["1", "2"]))
def two_limiters(limiter_class):
    """Two limiters on one app: each checks and counts the request on its own."""
    app, limiter = make_app(limiter_class, default_limits=["3 per hour"])
    second = limiter_class(get_remote_address, storage_uri="memory://", headers_enabled=True,
                           key_prefix="second", default_limits=["2 per hour"])
    add_view(app, "/a", named_view("a"))
    add_view(app, "/b", named_view("b"))
    limiter.init_app(app)
    second.init_app(app)
    return app, limiter, [hit("/a", 3), hit("/b", 2)]


def decorated_app(limiter_class, **options):
    """Decorated routes under application and default limits: their own limit with the
    defaults, one overriding them, a limited helper called by a view, a limited block, and a
    view checking the request's limits a second time."""
    options = {"application_limits": ["20 per hour"], "default_limits": ["4 per hour"],
               **options}
    app, limiter = make_app(limiter_class, **options)
    add_view(app, "/own", limiter.limit("3 per hour", override_defaults=False)(
        named_view("own")))
    add_view(app, "/over", limiter.limit("5 per day")(named_view("over")))
    helper = limiter.limit("2 per hour", override_defaults=False)(named_view("helper"))

    def calls_helper():
        return helper()

    add_view(app, "/calls-helper", calls_helper)

    def blocks():
        with limiter.limit("1 per minute"):
            return "block"

    add_view(app, "/blocks", blocks)

    def checks_again():
        # As the middleware does: the limits it has seen must not be counted again.
        limiter._check_request_limit()
        return "again"

    add_view(app, "/checks-again", checks_again)
    add_view(app, "/plain", named_view("plain"))
    limiter.init_app(app)
    steps = [hit("/own", 5), hit("/over", 6), hit("/calls-helper", 3), hit("/blocks", 2),
             hit("/checks-again", 2), hit("/plain", 5)]
    return app, limiter, steps


@scenario(reaches=lambda answers: 429 in statuses(answers[:5])
          and any(b"1 per 1 minute" in answer.body for answer in answers))
def decorated_under_defaults(limiter_class):
    """A decorated route's own check runs after the middleware's: no limit counted twice."""
    return decorated_app(limiter_class)


@scenario(reaches=lambda answers: statuses(answers)[:5] == [200, 200, 200, 429, 429]
          and statuses(answers)[11:16] == [200, 200, 429, 200, 429])
def decorated_without_defaults(limiter_class):
    """Decorated routes, helpers and blocks with no application or default limits."""
    return decorated_app(limiter_class, application_limits=None, default_limits=None)


def dead_redis_app(limiter_class, **options):
    """decorated_app on a Redis nobody listens to, falling back to memory."""
    return decorated_app(limiter_class, storage_uri="redis://127.0.0.1:1/",
                         in_memory_fallback_enabled=True, **options)


@scenario(marks=pytest.mark.skipif(REDIS_MISSING, reason="redis is not installed"),
          reaches=lambda answers: all(answer.storage_dead for answer in answers)
          and 429 in statuses(answers))
def dead_storage(limiter_class):
    """The storage unreachable from the first request: both fall back to memory alike."""
    return dead_redis_app(limiter_class)


@scenario(marks=pytest.mark.skipif(REDIS_MISSING, reason="redis is not installed"),
          reaches=lambda answers: statuses(answers)[:2] == [200, 429])
def dead_storage_with_fallback_limits(limiter_class):
    """The storage unreachable, with limits of its own for the fallback."""
    return dead_redis_app(limiter_class, in_memory_fallback=["1 per hour"])


class FlakyStorage(MemoryStorage):
    """Memory storage that can fail: once calls_left counts are made it answers nothing."""

    STORAGE_SCHEME = ["flaky"]
    calls_left = None

    def answer_or_fail(self):
        """Raise ConnectionError if the storage is down."""
        if self.calls_left == 0:
            raise ConnectionError("storage down")

    def incr(self, key, expiry, amount=1):
        self.answer_or_fail()
        if self.calls_left is not None:
            self.calls_left -= 1
        return super().incr(key, expiry, amount)

    def get(self, key):
        self.answer_or_fail()
        return super().get(key)

    def get_expiry(self, key):
        self.answer_or_fail()
        return super().get_expiry(key)

    def check(self):
        return self.calls_left != 0


def storage_fails_after(calls):
    """A step: the storage makes calls more counts, then fails."""
    def fail(app, limiter):
        limiter.storage.calls_left = calls
    return fail


def storage_recovers(app, limiter):
    """A step: the storage answers again, and the limiter checks it at the next request."""
    limiter.storage.calls_left = None
    limiter._Limiter__last_check_backend = 0


def flaky_app(limiter_class, **options):
    """decorated_app on a storage failing in the middle of a request's checks, then for a
    while, then recovering."""
    app, limiter, _ = decorated_app(limiter_class, storage_uri="flaky://", **options)
    steps = [hit("/plain", 2), hit("/own"), storage_fails_after(1), hit("/plain"),
             hit("/plain"), hit("/own", 2), storage_recovers, hit("/plain", 3), hit("/own", 2)]
    return app, limiter, steps


@scenario(reaches=lambda answers: [answer.storage_dead for answer in answers]
          == [False] * 3 + [True] * 4 + [False] * 5 and 429 in statuses(answers))
def storage_outage(limiter_class):
    """The storage failing mid-request, falling back to memory, then recovering."""
    return flaky_app(limiter_class, in_memory_fallback_enabled=True)


@scenario(reaches=lambda answers: statuses(answers)[3:7] == [200] * 4
          and answers[3].headers == ([], []) and 429 in statuses(answers[7:]))
def storage_outage_swallowed(limiter_class):
    """The storage failing with no fallback, its errors swallowed: requests go unlimited."""
    return flaky_app(limiter_class, swallow_errors=True)


@pytest.mark.parametrize(("build", "fast", "reaches"), SCENARIOS)
def test_scenario_answers_match_the_stock_limiter(build, fast, reaches, planned):
    stock = run_case(*build(Limiter))
    assert not planned
    assert reaches(stock), [(answer.request, answer.status) for answer in stock]
    ours = run_case(*build(ResolvingLimiter))
    assert_same_answers(ours, stock)
    assert bool(planned) == fast


def recording(calls, name, method):
    """method, recording name in calls at each call."""
    def recorded(*args, **kwargs):
        calls.append(name)
        return method(*args, **kwargs)
    return recorded


def test_a_plain_request_is_checked_from_its_plan_alone(planned, monkeypatch):
    stock_calls = []
    for name in ("_Limiter__filter_limits", "_Limiter__evaluate_limits"):
        monkeypatch.setattr(Limiter, name, recording(stock_calls, name, getattr(Limiter, name)))
    app, limiter = make_app(ResolvingLimiter, application_limits=["9 per day"],
                            default_limits=["2 per hour"])
    add_view(app, "/a", named_view("a"))
    add_view(app, "/own", limiter.limit("5 per hour")(named_view("own")))
    limiter.init_app(app)
    answers = run_case(app, limiter, [hit("/a", 3)])
    assert statuses(answers) == [200, 200, 429]
    assert planned == ["a", "a", "a"]
    assert stock_calls == []
    # A decorated route's own check is stock's (and seen by the spies).
    assert statuses(run_case(app, limiter, [hit("/own")])) == [200]
    assert planned[3:] == ["own"]
    assert stock_calls == ["_Limiter__filter_limits", "_Limiter__evaluate_limits"]
