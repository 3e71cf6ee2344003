"""Flask-Limiter's limits resolved once per endpoint and setting, not on every request.

Flask-Limiter 4.1 parses each limit string, builds its limit objects and walks the blueprint
and exemption tables again on every request. ResolvedOnce remembers what its LimitManager
answered, keyed on the question, the request's method and the current value of each limit
given as a callable (our settings), and forgets it all whenever a limit, an exemption or a hint
is registered. LimitManager lives in a private module: setup.cfg pins Flask-Limiter to 4.1.x,
and tests/test_limit_cache.py checks the behaviour relied on against the stock manager.
"""
import dataclasses
import itertools
from collections import defaultdict

from flask import request
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter._extension import LimiterContext
from flask_limiter._limits import RuntimeLimit
from flask_limiter._manager import LimitManager

# Answers kept at most: per app, endpoint and method, and per value of the settings for each.
MAX_SITES = 4096
MAX_SETTINGS = 16


class HashedOnce(RuntimeLimit):
    """A RuntimeLimit that computes its hash once: Flask-Limiter hashes each limit many times
    a request, to keep the application and default limits apart from those already checked."""

    def __post_init__(self):
        super().__post_init__()
        self._hash = RuntimeLimit.__hash__(self)

    def __hash__(self):
        return self._hash

    @classmethod
    def of(cls, limit):
        """Return a copy of the RuntimeLimit limit."""
        return cls(**{field.name: getattr(limit, field.name)
                      for field in dataclasses.fields(limit)})


class ResolvedOnce(LimitManager):
    """A LimitManager that resolves each endpoint's limits once per method and setting."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.forget()

    def forget(self):
        """Drop every remembered answer (the registered limits or exemptions changed)."""
        # Replaced, not cleared: an answer computed meanwhile goes into the old dict and is lost.
        self._sites = {}
        self._exemption_scopes = {}

    def dynamic_limits(self, app, endpoint, blueprint, callable_name):
        """Return the callables giving the limits a resolution for endpoint may read.

        These are the application and default limits, and the decorated and blueprint limits
        that may apply to endpoint: only callables Flask-Limiter would call for it anyway.
        """
        names = [callable_name, *self._endpoint_hints.get(endpoint or "", ())]
        blueprints = set(blueprint.split(".")) if blueprint else set()
        if blueprint in app.blueprints:
            blueprints.add(app.blueprints[blueprint].name)
        groups = itertools.chain(
            self._application_limits, self._default_limits,
            *(self._decorated_limits.get(name, ()) for name in names),
            *(self._blueprint_limits.get(name, ()) for name in blueprints))
        return tuple(group.limit_provider for group in groups if callable(group.limit_provider))

    @property
    def application_limits(self):
        return [HashedOnce.of(limit) for limit in super().application_limits]

    @property
    def default_limits(self):
        return [HashedOnce.of(limit) for limit in super().default_limits]

    def resolve_limits(self, app, endpoint=None, blueprint=None, callable_name=None,
                       in_middleware=False, marked_for_limiting=False):
        sites = self._sites
        site = (app, endpoint, blueprint, callable_name, in_middleware, marked_for_limiting,
                request.method)
        entry = sites.get(site)
        if entry is None:
            entry = (self.dynamic_limits(app, endpoint, blueprint, callable_name), {})
            if len(sites) < MAX_SITES:
                sites[site] = entry
        providers, answers = entry
        settings = tuple(provider() for provider in providers)
        answer = answers.get(settings)
        if answer is None:
            answer = super().resolve_limits(app, endpoint, blueprint, callable_name,
                                            in_middleware, marked_for_limiting)
            if len(answers) < MAX_SETTINGS:
                answers[settings] = answer
        return tuple(list(limits) for limits in answer)

    def exemption_scope(self, app, endpoint, blueprint):
        scopes = self._exemption_scopes
        key = (app, endpoint, blueprint)
        scope = scopes.get(key)
        if scope is None:
            scope = super().exemption_scope(app, endpoint, blueprint)
            if len(scopes) < MAX_SITES:
                scopes[key] = scope
        return scope

    def set_application_limits(self, limits):
        super().set_application_limits(limits)
        self.forget()

    def set_default_limits(self, limits):
        super().set_default_limits(limits)
        self.forget()

    def add_decorated_limit(self, route, limit, override=False):
        super().add_decorated_limit(route, limit, override)
        self.forget()

    def add_blueprint_limit(self, blueprint, limit):
        super().add_blueprint_limit(blueprint, limit)
        self.forget()

    def add_route_exemption(self, route, scope):
        super().add_route_exemption(route, scope)
        self.forget()

    def add_blueprint_exemption(self, blueprint, scope):
        super().add_blueprint_exemption(blueprint, scope)
        self.forget()

    def add_endpoint_hint(self, endpoint, hint):
        known = hint in self._endpoint_hints.get(endpoint, ())
        super().add_endpoint_hint(endpoint, hint)
        if not known:
            self.forget()


class ResolvingLimiter(Limiter):
    """Flask-Limiter's Limiter with a ResolvedOnce limit manager, and its request context
    found without going through Flask's request proxy twice each time (eight times a request)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stock = self.limit_manager
        self.limit_manager = ResolvedOnce(
            application_limits=stock._application_limits,
            default_limits=stock._default_limits,
            decorated_limits=stock._decorated_limits,
            blueprint_limits=stock._blueprint_limits,
            route_exemptions=stock._route_exemptions,
            blueprint_exemptions=stock._blueprint_exemptions,
        )

    @property
    def context(self):
        ctx = request_ctx._get_current_object()
        try:
            contexts = ctx._limiter_request_context
        except AttributeError:
            contexts = ctx._limiter_request_context = defaultdict(LimiterContext)
        return contexts[self]
