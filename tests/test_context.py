"""The request's objects found without Flask's proxies are the ones the proxies give."""
from flask import Flask, current_app, g, request

from vorel_lite.context import (app_extension, app_or_none, current_request, request_context,
                                request_globals)
from vorel_lite.flask_app import App


def test_each_helper_gives_what_flasks_proxy_gives(app):
    assert app_or_none() is None
    with app.test_request_context("/api/v1/leads?limit=2", headers={"X-Request-Id": "r-1"}):
        assert current_request() is request._get_current_object()
        assert request_globals() is g._get_current_object()
        assert app_or_none() is current_app._get_current_object() is app
        assert request_context().request is current_request()
        assert current_request().args["limit"] == "2"
    with app.app_context():
        assert app_or_none() is app and request_globals() is g._get_current_object()
    assert app_or_none() is None


def test_an_extension_of_the_current_app_or_the_default(app):
    assert app_extension("vorel_key_cache", "none") == "none"
    with app.app_context():
        assert app_extension("vorel_key_cache") is app.extensions["vorel_key_cache"]
        assert app_extension("not-there") is None and app_extension("not-there", 3) == 3


def test_the_app_remembers_whether_each_callable_is_sync(monkeypatch):
    app = App(__name__)
    asked = []
    flasks = Flask.ensure_sync

    def counting(self, func):
        asked.append(func)
        return flasks(self, func)

    monkeypatch.setattr(Flask, "ensure_sync", counting)

    def hook():
        return None

    assert app.ensure_sync(hook) is hook and app.ensure_sync(hook) is hook
    # An unhashable callable is answered too, just not remembered.
    unhashable = type("Unhashable", (), {"__call__": lambda self: 1, "__hash__": None})()
    assert app.ensure_sync(unhashable) is unhashable
    assert app.ensure_sync(unhashable) is unhashable
    assert asked == [hook, unhashable, unhashable]
