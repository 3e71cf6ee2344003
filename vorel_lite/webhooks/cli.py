"""`flask webhooks ...`: manage subscriptions and run the delivery worker."""
import signal
import threading

import click
from flask.cli import AppGroup

from ..commands import find_tenant
from ..models import EVENT_TYPES, Tenant, WebhookSubscription
from ..outbound import redact_url
from .delivery import run_worker
from .subscriptions import (add_subscription, delivery_counts, redrive, remove_subscription,
                            send_test_event)

webhooks = AppGroup("webhooks", help="Manage webhook subscriptions and deliver events.")


def find_subscription(subscription_id):
    """Return the subscription, or fail the command."""
    row = WebhookSubscription.get_or_none(WebhookSubscription.id == subscription_id)
    if row is None:
        raise click.ClickException(f"no webhook subscription {subscription_id!r}")
    return row


@webhooks.command("add")
@click.option("--tenant", "slug", required=True, help="Slug of the subscription's tenant.")
@click.argument("url")
@click.option("--event", "events", multiple=True, type=click.Choice(EVENT_TYPES),
              help="An event type to receive; repeat for several (default: all).")
@click.option("--description", help="A note for operators.")
def add(slug, url, events, description):
    """Subscribe URL to events; print the id, then the secret (shown only this once)."""
    try:
        row, secret = add_subscription(find_tenant(slug), url, events, description)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(row.id)
    click.echo(secret)
    click.echo("Store the secret now: it is not shown again.", err=True)


@webhooks.command("list")
@click.option("--tenant", "slug", help="Only this tenant's subscriptions.")
def list_subscriptions(slug):
    """List subscriptions: id, tenant, URL, events, created, secret prefix, delivery counts."""
    query = WebhookSubscription.select(WebhookSubscription, Tenant).join(Tenant)
    if slug:
        query = query.where(Tenant.slug == slug)
    rows = list(query.order_by(WebhookSubscription.created_at))
    counts = delivery_counts([row.id for row in rows])
    for row in rows:
        events = "all" if row.receives_all else ",".join(row.events.split())
        tally = counts[row.id]
        click.echo("  ".join([row.id, row.tenant.slug, redact_url(row.url), events,
                              row.created_at,
                              f"{row.secret_prefix}…", f"delivered={tally['delivered']}",
                              f"pending={tally['pending']}", f"dead={tally['dead']}"]))


@webhooks.command("remove")
@click.argument("subscription_id")
def remove(subscription_id):
    """Delete a subscription and its deliveries."""
    if not remove_subscription(subscription_id):
        raise click.ClickException(f"no webhook subscription {subscription_id!r}")
    click.echo(f"Removed {subscription_id}.", err=True)


@webhooks.command("redrive")
@click.argument("subscription_id")
def redrive_command(subscription_id):
    """Re-queue a subscription's dead-lettered deliveries."""
    find_subscription(subscription_id)
    click.echo(f"Re-queued {redrive(subscription_id)} dead deliveries.", err=True)


@webhooks.command("test")
@click.argument("subscription_id")
def send_test(subscription_id):
    """Send a signed test event now and report the receiver's answer."""
    outcome = send_test_event(find_subscription(subscription_id))
    if not outcome.delivered:
        raise click.ClickException(outcome.summary)
    click.echo(outcome.summary)


@webhooks.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def deliver(once):
    """Run the delivery worker until stopped (SIGINT or SIGTERM)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    run_worker(stop, once=once)
