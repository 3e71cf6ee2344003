"""The stand-in server of vorel_lite.testing, and the handle of one of its tenants."""
import contextlib
import os
import re
import secrets
import tempfile
import threading

from flask import g

from .. import create_app
from ..api.events import event_schema, pages
from ..cli import add_tenant, deliver_in_background
from ..keys import SCOPES, issue_key
from ..models import EVENT_TYPES, Tenant
from ..serving import make_server
from ..webhooks.subscriptions import add_subscription

# The product's settings (rate limits included), but nothing on disk, and webhook retries
# after 0.1, 0.2, 0.4, 0.8 and 1.6 s instead of 30 s and more.
TEST_CONFIG = {
    "DATABASE_URL": "sqlite:///:memory:",
    "WEBHOOK_RETRY_BASE_SECONDS": 0.1,
    "WEBHOOK_POLL_SECONDS": 0.1,
}
KEY_NAME = "vorel_lite.testing"
EVENTS_PER_PAGE = 100


class VorelServer:
    """A live vorel-lite on a loopback port with an in-memory database, delivering webhooks.

    Use it as a context manager, or call start() and stop(). port=0 takes a free port;
    config overrides TEST_CONFIG. VOREL_* environment variables are ignored, so a test never
    reaches the developer's own database.
    """

    def __init__(self, port=0, config=None, threads=8):
        self.port, self.threads = port, threads
        self.config = {**TEST_CONFIG, **(config or {})}
        self.app = self.base_url = None
        self._stopping = threading.Event()
        self._threads = []

    def start(self):
        """Create the app, bind the port and serve from background threads; return self."""
        self._instance = tempfile.TemporaryDirectory(prefix="vorel-lite-")
        with without_vorel_environment():
            self.app = create_app({**self.config, "INSTANCE_PATH": self._instance.name,
                                   "SECRET_KEY": secrets.token_urlsafe(32)})
        try:
            self._server = make_server(self.app, "127.0.0.1", self.port, self.threads)
        except OSError:
            self._release()
            self.app = None
            raise
        self.port = int(self._server.effective_port)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._threads = [
            threading.Thread(target=self._serve, name="vorel-server", daemon=True),
            threading.Thread(target=deliver_in_background, args=(self.app, self._stopping),
                             name="vorel-webhook-delivery", daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def _serve(self):
        server = self._server
        # waitress' own run() loops until every connection is gone; this loop ends on stop().
        while not self._stopping.is_set():
            server.asyncore.loop(timeout=server.adj.asyncore_loop_timeout, map=server._map,
                                 use_poll=server.adj.asyncore_use_poll, count=1)
        # The listening socket and the trigger stop() pulls are closed by stop(), after this.
        for channel in list(server._map.values()):
            if channel not in (server, server.trigger):
                channel.close()
        server.task_dispatcher.shutdown()

    def stop(self):
        """Stop serving and delivering, and free the port and the in-memory database."""
        if self.app is None or self._stopping.is_set():
            return
        self._stopping.set()
        self._server.pull_trigger()
        for thread in self._threads:
            thread.join(30)
        self._server.close()
        self._release()

    def _release(self):
        database = self.app.extensions["vorel_db"]
        if hasattr(database, "close_all"):
            database.close_all()
        keeper = self.app.extensions["vorel_db_keeper"]
        if keeper is not None:
            keeper.close()
        self._instance.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def new_tenant(self, slug=None):
        """Create a tenant with an all-scopes key; return its VorelTenant."""
        with self.app.app_context():
            tenant = add_tenant(slug or slug_for("tenant"))
            _, api_key = issue_key(tenant, SCOPES, env="test", name=KEY_NAME)
        return VorelTenant(self, tenant, api_key)

    def reset_rate_limits(self):
        """Forget every rate-limit counter, the per-address one of failed keys included."""
        self.app.extensions["vorel_limiter"].reset()


class VorelTenant:
    """One tenant of a VorelServer: base_url, api_key (every scope), tenant (its slug)."""

    def __init__(self, server, tenant, api_key):
        self.server = server
        self.base_url = server.base_url
        self.api_key = api_key
        self.tenant = tenant.slug
        self.tenant_id = tenant.id

    def __repr__(self):
        return f"<VorelTenant {self.tenant} at {self.base_url}>"

    def key(self, *scopes):
        """Return a new key of this tenant with just these scopes (from SCOPES)."""
        with self.server.app.app_context():
            _, secret = issue_key(self._row(), scopes, env="test", name=KEY_NAME)
        return secret

    def events(self, event=None):
        """Return the tenant's event envelopes, every page, newest first, as the API lists them."""
        # The list view's own query and schema, without a request: no rate limit is spent.
        if event is not None and event not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event!r}; choose from {', '.join(EVENT_TYPES)}")
        filters = {} if event is None else {"event": event}
        found, cursor = [], None
        with self.server.app.app_context():
            g.tenant_id = self.tenant_id
            while True:
                page = pages.page(EVENTS_PER_PAGE, cursor, **filters)
                found.extend(event_schema.dump(page["data"], many=True))
                if not page["has_more"]:
                    return found
                cursor = page["next_cursor"]

    def subscribe(self, url, events=()):
        """Subscribe url to the tenant's events (all, or these types); return its secret."""
        with self.server.app.app_context():
            _, secret = add_subscription(self._row(), url, events)
        return secret

    def _row(self):
        return Tenant.get_by_id(self.tenant_id)


def slug_for(name):
    """Return a new tenant slug made from name (a test's name) and random hex."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].rstrip("-")
    return f"{stem or 'tenant'}-{secrets.token_hex(4)}"


@contextlib.contextmanager
def without_vorel_environment():
    """Hide the VOREL_* environment variables while the app reads its configuration."""
    hidden = {name: os.environ.pop(name) for name in list(os.environ)
              if name.startswith("VOREL_")}
    try:
        yield
    finally:
        os.environ.update(hidden)
