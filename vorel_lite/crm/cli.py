"""`flask crm ...`: connect a tenant's CRM endpoint, show it, read its push log."""
import click
from flask.cli import AppGroup

from ..commands import find_tenant
from ..models import CrmConnection, CrmPush
from ..outbound import printable, redact_url
from .connection import connect, disconnect, parse_maps, push_counts

crm = AppGroup("crm", help="Connect a tenant's CRM endpoint and read its push log.")
tenant_option = click.option("--tenant", "slug", required=True, help="Slug of the tenant.")


def find_connection(tenant):
    """Return the tenant's connection, or fail the command."""
    connection = CrmConnection.get_or_none(CrmConnection.tenant == tenant)
    if connection is None:
        raise click.ClickException(f"tenant {tenant.slug!r} has no CRM connected")
    return connection


@crm.command("connect")
@tenant_option
@click.argument("url")
@click.option("--map", "maps", multiple=True, metavar="VOREL_KEY=CRM_KEY",
              help="Rename a field on its way to the CRM; repeat for several.")
def connect_command(slug, url, maps):
    """Connect (or replace) the tenant's CRM endpoint; print its secret, shown only once."""
    tenant = find_tenant(slug)
    try:
        row, secret = connect(tenant, url, parse_maps(maps))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Connected {redact_url(row.url)} for tenant {slug}; nothing was sent to it. "
               "Store the signing secret now: it is not shown again.", err=True)
    click.echo(secret)


@crm.command("show")
@tenant_option
def show(slug):
    """Show the tenant's CRM connection: URL, field maps, secret prefix, push counts."""
    tenant = find_tenant(slug)
    connection = find_connection(tenant)
    counts = push_counts(tenant)
    maps = ", ".join(f"{k}={v}" for k, v in connection.field_maps.items()) or "none"
    click.echo(f"url: {redact_url(connection.url)}\nmaps: {maps}\n"
               f"secret: {connection.secret_prefix}…\nconnected: {connection.created_at}\n"
               f"pushes: ok={counts['ok']} failed={counts['failed']} "
               f"remembered={counts['remembered']}")


@crm.command("disconnect")
@tenant_option
def disconnect_command(slug):
    """Remove the tenant's CRM connection (pushes then answer not_configured)."""
    tenant = find_tenant(slug)
    if not disconnect(tenant):
        raise click.ClickException(f"tenant {slug!r} has no CRM connected")
    click.echo(f"Disconnected the CRM of tenant {slug}.", err=True)


@crm.command("log")
@tenant_option
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
def log(slug, limit):
    """List the tenant's recent pushes: time, object, key, outcome, status, duration."""
    tenant = find_tenant(slug)
    pushes = (CrmPush.select().where(CrmPush.tenant == tenant)
              .order_by(CrmPush.created_at.desc(), CrmPush.id.desc()).limit(limit))
    for push in pushes:
        # The key is the client's text: escaped, so it cannot drive the operator's terminal.
        line = [push.created_at, push.object, printable(push.idempotency_key), push.outcome,
                str(push.status_code or "-"), f"{push.duration_ms}ms"]
        if push.error:
            line.append(printable(push.error))
        click.echo("  ".join(line))
