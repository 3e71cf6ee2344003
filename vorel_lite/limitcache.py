"""Flask-Limiter's limits resolved once per endpoint and setting, not on every request.

Flask-Limiter 4.1 parses each limit string, builds its limit objects and walks the blueprint
and exemption tables again on every request. ResolvedOnce remembers what its LimitManager
answered, keyed on the question, the request's method and the current value of each limit
given as a callable (our settings), and forgets it all whenever a limit, an exemption or a hint
is registered. With each answer it keeps a Plan: what Flask-Limiter then works out the same
way on every request (the limits in checking order, their scopes, their storage keys), from
which ResolvingLimiter checks a request. LimitManager lives in a private module and the
check overrides two private methods: setup.cfg pins Flask-Limiter to 4.1.x, and
tests/test_limit_cache.py replays every kind of limit through stock Flask-Limiter and ours.
"""
import dataclasses
import itertools
import weakref
from collections import defaultdict

import flask.wrappers
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter._extension import LimiterContext, RequestLimit
from flask_limiter._limits import RuntimeLimit
from flask_limiter._manager import LimitManager
from flask_limiter.util import get_qualified_name
from ordered_set import OrderedSet

from .context import current_request, request_context

# Answers kept at most: per app, endpoint and method, and per value of the settings for each.
MAX_SITES = 4096
MAX_SETTINGS = 16
# Storage keys kept at most per limit of a plan (one per API key, tenant or address).
MAX_KEYS = 4096


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


@dataclasses.dataclass(frozen=True)
class Plan:
    """What Flask-Limiter 4.1's private __filter_limits and __evaluate_limits work out the
    same way on every request to one endpoint, with one method and the same settings."""

    # The application and default limits, each once: those a request has seen once checked.
    defaults: tuple
    # What __filter_limits returns when the request has seen no limit yet.
    limits: tuple
    # (limit, scope, storage keys) in the order checked (sorted by limit, as stock), the
    # limits exempt for the method left out; scope None where it is computed per request (a
    # callable scope); storage keys: each request's arguments' key_for, as computed once.
    checks: tuple
    # Meta limits need stock's evaluation.
    has_meta: bool

    @classmethod
    def of(cls, answer, endpoint, method):
        """The plan of resolve_limits' answer for endpoint and method (in a request)."""
        defaults, decorated = answer
        unique = tuple(OrderedSet(defaults))
        limits = unique + tuple(decorated)
        checks = tuple(
            (limit, None if callable(limit.scope) else limit.scope_for(endpoint, method), {})
            for limit in sorted(limits, key=lambda limit: limit.limit)
            if limit.methods is None or method.lower() in limit.methods)
        return cls(unique, limits, checks, any(limit.meta_limits for limit in limits))


class KeyedRequestLimit(RequestLimit):
    """Flask-Limiter's RequestLimit, given the storage key it would compute again."""

    def __init__(self, extension, limit, request_args, breached, shared, key):
        self.extension = weakref.proxy(extension)
        self.limit = limit
        self.request_args = request_args
        self.key = key
        self.breached = breached
        self.shared = shared
        self._window = None


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
        answer, _ = self.resolved(app, endpoint, blueprint, callable_name, in_middleware,
                                  marked_for_limiting)
        return tuple(list(limits) for limits in answer)

    def resolved(self, app, endpoint, blueprint, callable_name, in_middleware,
                 marked_for_limiting):
        """Return the answer of resolve_limits (two tuples: application and default limits,
        decorated limits) and its Plan for the request's method, both kept."""
        sites = self._sites
        method = current_request().method
        site = (app, endpoint, blueprint, callable_name, in_middleware, marked_for_limiting,
                method)
        entry = sites.get(site)
        if entry is None:
            entry = (self.dynamic_limits(app, endpoint, blueprint, callable_name), {})
            if len(sites) < MAX_SITES:
                sites[site] = entry
        providers, answers = entry
        settings = tuple(provider() for provider in providers)
        resolved = answers.get(settings)
        if resolved is None:
            answer = tuple(tuple(limits) for limits in super().resolve_limits(
                app, endpoint, blueprint, callable_name, in_middleware, marked_for_limiting))
            resolved = answer, Plan.of(answer, endpoint, method)
            if len(answers) < MAX_SETTINGS:
                answers[settings] = resolved
        return resolved

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
    """Flask-Limiter's Limiter with a ResolvedOnce limit manager, checking a request from its
    endpoint's Plan, and its request context found without Flask's request proxy.

    The request's check overrides two private methods of Flask-Limiter 4.1 (pinned): where a
    request could take a path the plan does not cover (a limit already seen, a decorated
    route's own check, a dead storage, meta limits), the stock methods run instead.
    """

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
        ctx = request_context()
        try:
            contexts = ctx._limiter_request_context
        except AttributeError:
            contexts = ctx._limiter_request_context = defaultdict(LimiterContext)
        return contexts[self]

    def _Limiter__filter_limits(self, endpoint, blueprint, callable_name, in_middleware=False):
        context = self.context
        if callable_name or self._storage_dead or context.seen_limits:
            return super()._Limiter__filter_limits(endpoint, blueprint, callable_name,
                                                   in_middleware)
        app = request_context().app
        view_function = app.view_functions.get(endpoint or "")
        name = get_qualified_name(view_function) if view_function else ""
        if self._Limiter__check_all_limits_exempt(endpoint):
            return []
        marked = (name in self._marked_for_limiting
                  or self.limit_manager.has_hints(endpoint or ""))
        _, plan = self.limit_manager.resolved(app, endpoint, blueprint, name, in_middleware,
                                              marked)
        context.seen_limits.update(plan.defaults)
        return plan

    def _Limiter__evaluate_limits(self, endpoint, limits):
        if type(limits) is not Plan:
            return super()._Limiter__evaluate_limits(endpoint, limits)
        if limits.has_meta or self._meta_limits:
            return super()._Limiter__evaluate_limits(endpoint, list(limits.limits))
        return self.check_plan(endpoint, limits)

    def check_plan(self, endpoint, plan):
        """Check and count the request against plan: Flask-Limiter 4.1's __evaluate_limits
        without meta limits, which the plan has worked out once."""
        context = self.context
        prefix = self._key_prefix
        view_limits, failed = [], []
        header_limit = None
        hit_key = getattr(self.limiter, "hit_key", None)
        for limit, scope, storage_keys in plan.checks:
            if limit.exempt_when and limit.exempt_when():
                continue
            if scope is None:
                scope = limit.scope_for(endpoint, current_request().method)
            key = limit.key_func()
            if not (key and scope):
                self.logger.error(f"Skipping limit: {limit.limit}. Empty value found in "
                                  "parameters.")
                continue
            args = [prefix, key, scope] if prefix else [key, scope]
            storage_key = storage_keys.get((prefix, key, scope))
            if storage_key is None:
                storage_key = limit.limit.key_for(*args)
                if len(storage_keys) >= MAX_KEYS:
                    storage_keys.clear()
                storage_keys[prefix, key, scope] = storage_key
            if limit.deduct_when:
                context.conditional_deductions[limit] = args
                allowed = self.limiter.test(limit.limit, *args, cost=limit.deduction_amount)
            elif hit_key is not None:
                allowed = hit_key(limit.limit, storage_key, limit.deduction_amount)
            else:
                allowed = self.limiter.hit(limit.limit, *args, cost=limit.deduction_amount)
            request_limit = KeyedRequestLimit(self, limit.limit, args, False, limit.shared,
                                              storage_key)
            view_limits.append(request_limit)
            if not allowed:
                self.logger.info("ratelimit %s (%s) exceeded at endpoint: %s", limit.limit, key,
                                 scope)
                failed.append((limit, args))
                request_limit.breached = True
                header_limit = request_limit
                if self._fail_on_first_breach:
                    break
        if not header_limit and view_limits:
            # As stock: a limit of this route's own over a shared one, for the headers.
            explicit = [limit for limit in view_limits if not limit.shared]
            header_limit = explicit[0] if explicit else view_limits[0]
        context.view_rate_limit = header_limit
        context.view_rate_limits = view_limits
        if failed:
            self.refuse(failed)

    def refuse(self, failed):
        """Call the breach callbacks of the failed (limit, args) pairs and raise
        RateLimitExceeded, as Flask-Limiter 4.1 does."""
        response = None
        for limit, args in failed:
            request_limit = RequestLimit(self, limit.limit, args, True, limit.shared)
            for callback in dict.fromkeys([self._on_breach, limit.on_breach]):
                if not callback:
                    continue
                try:
                    answer = callback(request_limit)
                    if isinstance(answer, flask.wrappers.Response):
                        response = answer
                except Exception as error:
                    if not self._swallow_errors:
                        raise
                    self.logger.exception("on_breach callback failed with error %s", error)
        raise RateLimitExceeded(sorted(failed, key=lambda pair: pair[0].limit)[0][0],
                                response=response)
