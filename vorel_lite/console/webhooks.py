"""/settings/integrations/webhooks: the tenant's subscriptions; add one (its secret shown once),
send a test event, see its recent deliveries, redrive the dead ones, remove one."""
from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup

from ..inflight import tenant_slot
from ..models import WebhookSubscription
from ..outbound import redact_url
from ..webhooks.subscriptions import (add_subscription, delivery_counts, recent_deliveries,
                                      redrive, remove_subscription, send_test_event)
from .blueprint import bp
from .forms import ConfirmForm, WebhookForm
from .once import keep_secret, take_secret
from .rows import tenant_row, tenant_rows

PAGE = "/settings/integrations/webhooks"
RECENT_DELIVERIES = 50
# Test events one tenant may have in flight at once.
TESTS_AT_ONCE = 1
# Where the session keeps a new subscription's secret until the list shows it.
ADDED = "added_webhook"

bp.add_app_template_filter(redact_url, "redact_url")


def get_tenant_subscription(subscription_id):
    """Return the signed-in tenant's subscription, or 404 as for one that does not exist."""
    return tenant_row(WebhookSubscription, subscription_id, "No such webhook subscription.")


def show_subscriptions(form, status=200):
    """Render the list, with the secret of a subscription just added, this once."""
    subscriptions = tenant_rows(WebhookSubscription, current_user.tenant_id)
    return render_template("console/webhooks.html", subscriptions=subscriptions,
                           counts=delivery_counts([row.id for row in subscriptions]),
                           form=form, added=take_secret(ADDED, subscriptions)), status


def back_to(subscription):
    """Answer a POST on a subscription with a 303 to its page."""
    return redirect(url_for("console.show_webhook", subscription_id=subscription.id), 303)


@bp.get(PAGE)
def list_webhooks():
    """List the tenant's subscriptions with their delivery counts, and the form to add one."""
    return show_subscriptions(WebhookForm())


@bp.post(PAGE)
def create_webhook():
    """Subscribe a URL to the tenant's events; 303 to the list, which shows its signing secret
    this once."""
    form = WebhookForm()
    if not form.validate():
        return show_subscriptions(form, status=400)
    row, secret = add_subscription(current_user.operator.tenant, form.url.data,
                                   form.events.data or (), form.description.data or None)
    keep_secret(ADDED, row.id, secret)
    return redirect(url_for("console.list_webhooks"), 303)


@bp.get(f"{PAGE}/<subscription_id>")
def show_webhook(subscription_id):
    """Show a subscription, its delivery counts and its newest deliveries."""
    subscription = get_tenant_subscription(subscription_id)
    return render_template("console/webhook.html", subscription=subscription,
                           counts=delivery_counts([subscription.id])[subscription.id],
                           deliveries=recent_deliveries(subscription.id, RECENT_DELIVERIES),
                           limit=RECENT_DELIVERIES)


@bp.post(f"{PAGE}/<subscription_id>/test")
def test_webhook(subscription_id):
    """Send a signed webhook.test event to the subscription now; flash what came of it.

    One at a time per tenant (in this process): each holds a server thread until its receiver
    answers (WEBHOOK_TIMEOUT_SECONDS at most); another is refused at once, saying so.
    """
    subscription = get_tenant_subscription(subscription_id)
    with tenant_slot("webhook-test", subscription.tenant_id, TESTS_AT_ONCE) as granted:
        if granted:
            outcome = send_test_event(subscription)
            flash(outcome.summary, "success" if outcome.delivered else "error")
        else:
            flash("Not sent: a test event is already being sent to one of this tenant's "
                  "webhooks; wait for its outcome, then try again.", "error")
    return back_to(subscription)


def limit_test_events(app):
    """Rate-limit test events per tenant (CONSOLE_TEST_EVENT_RATELIMIT) with the app's limiter."""
    limiter = app.extensions["vorel_limiter"]
    view = app.view_functions["console.test_webhook"]
    # Checked when the view is called: after require_operator, so current_user is known.
    app.view_functions["console.test_webhook"] = limiter.limit(
        lambda: current_app.config["CONSOLE_TEST_EVENT_RATELIMIT"],
        key_func=lambda: current_user.tenant_id, scope="console-test-event")(view)


@bp.post(f"{PAGE}/<subscription_id>/redrive")
def redrive_webhook(subscription_id):
    """Re-queue the subscription's dead deliveries, each with a fresh set of attempts."""
    subscription = get_tenant_subscription(subscription_id)
    requeued = redrive(subscription.id)
    flash(f"Re-queued {requeued} dead {'delivery' if requeued == 1 else 'deliveries'}.",
          "success")
    return back_to(subscription)


@bp.get(f"{PAGE}/<subscription_id>/remove")
def confirm_remove_webhook(subscription_id):
    """Ask for confirmation before removing one of the tenant's subscriptions."""
    subscription = get_tenant_subscription(subscription_id)
    return render_template("console/remove_webhook.html", subscription=subscription,
                           counts=delivery_counts([subscription.id])[subscription.id],
                           form=ConfirmForm())


@bp.post(f"{PAGE}/<subscription_id>/remove")
def remove_webhook(subscription_id):
    """Delete one of the tenant's subscriptions with its deliveries."""
    subscription = get_tenant_subscription(subscription_id)
    remove_subscription(subscription.id)
    flash(Markup("Removed the webhook to <bdi>{}</bdi>.").format(redact_url(subscription.url)),
          "success")
    return redirect(url_for("console.list_webhooks"), 303)
