"""/settings/integrations/webhooks: the tenant's subscriptions; add one (its secret shown once),
send a test event, see its recent deliveries, redrive the dead ones, remove one."""
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..models import WebhookSubscription
from ..outbound import redact_url
from ..webhooks.subscriptions import (add_subscription, delivery_counts, recent_deliveries,
                                      redrive, remove_subscription, send_test_event)
from .blueprint import bp
from .forms import ConfirmForm, WebhookForm

PAGE = "/settings/integrations/webhooks"
RECENT_DELIVERIES = 50

bp.add_app_template_filter(redact_url, "redact_url")


def tenant_subscriptions(tenant_id):
    """Return the tenant's subscriptions, newest first."""
    return list(WebhookSubscription.select().where(WebhookSubscription.tenant == tenant_id)
                .order_by(WebhookSubscription.created_at.desc(), WebhookSubscription.id))


def get_tenant_subscription(subscription_id):
    """Return the signed-in tenant's subscription, or 404 as for one that does not exist."""
    subscription = WebhookSubscription.get_or_none(
        (WebhookSubscription.id == subscription_id)
        & (WebhookSubscription.tenant == current_user.tenant_id))
    if subscription is None:
        abort(404, "No such webhook subscription.")
    return subscription


def show_subscriptions(form, added=None, status=200):
    """Render the list; added is (row, secret) of a subscription just made, shown this once."""
    subscriptions = tenant_subscriptions(current_user.tenant_id)
    return render_template("console/webhooks.html", subscriptions=subscriptions,
                           counts=delivery_counts([row.id for row in subscriptions]),
                           form=form, added=added), status


def back_to(subscription):
    """Answer a POST on a subscription with a 303 to its page."""
    return redirect(url_for("console.show_webhook", subscription_id=subscription.id), 303)


@bp.get(PAGE)
def list_webhooks():
    """List the tenant's subscriptions with their delivery counts, and the form to add one."""
    return show_subscriptions(WebhookForm())


@bp.post(PAGE)
def create_webhook():
    """Subscribe a URL to the tenant's events and show its signing secret, this once."""
    form = WebhookForm()
    if not form.validate():
        return show_subscriptions(form, status=400)
    added = add_subscription(current_user.operator.tenant, form.url.data, form.events.data or (),
                             form.description.data or None)
    return show_subscriptions(WebhookForm(formdata=None), added=added, status=201)


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
    """Send a signed webhook.test event to the subscription now; flash what came of it."""
    subscription = get_tenant_subscription(subscription_id)
    outcome = send_test_event(subscription)
    flash(outcome.summary, "success" if outcome.delivered else "error")
    return back_to(subscription)


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
    flash(f"Removed the webhook to {redact_url(subscription.url)}.", "success")
    return redirect(url_for("console.list_webhooks"), 303)
