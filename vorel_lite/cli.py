"""Operator commands: database set-up, tenants, API keys, and the demo key of `make run`."""
import contextlib
import os
import sqlite3
import re
import threading

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from peewee import IntegrityError, SqliteDatabase

from .commands import find_tenant
from .commands.conversations import conversations
from .commands.offerings import offerings
from .commands.operators import operators
from .crm.cli import crm
from .db import db
from .keys import ENVS, SCOPES, hash_key, issue_key, revoke_key
from .migrations import HISTORY_TABLE, upgrade
from .models import ApiKey, BaseModel, Tenant
from .serving import make_server
from .webhooks.cli import webhooks
from .webhooks.delivery import run_worker

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
DEMO_KEY_FILE = "demo-key"
SQLITE_FILE_SUFFIXES = ("", "-wal", "-shm", "-journal")

tenants = AppGroup("tenants", help="Manage tenants.")
keys = AppGroup("keys", help="Manage API keys.")


@click.command("init-db")
@with_appcontext
def init_db():
    """Create the schema, or bring it up to date as upgrade-db does; never drops data."""
    report_upgrade()
    click.echo("Database ready.", err=True)


@click.command("upgrade-db")
@with_appcontext
def upgrade_db():
    """Apply the schema migrations the database lacks, all in one transaction."""
    report_upgrade()


def report_upgrade():
    """Upgrade the schema and print what this process applied, at app start or now."""
    # Creating the app already upgraded; report that once, then look again.
    at_start = current_app.extensions.pop("vorel_schema_upgrade", None)
    now = upgrade(db.obj)
    applied = (at_start.applied if at_start else ()) + now.applied
    for migration in applied:
        click.echo(f"Applied {migration.name}.", err=True)
    if at_start and at_start.before is None:
        click.echo(f"Created the database schema (version {now.after}).", err=True)
    elif not applied:
        click.echo(f"Database schema is up to date (version {now.after}).", err=True)


@click.command("reset-db")
@with_appcontext
@click.confirmation_option(prompt="This deletes every tenant, key, conversation, lead, "
                                  "event and webhook. Continue?")
def reset_db():
    """Drop every table and create them again, empty."""
    with db.atomic():
        db.drop_tables(BaseModel.__subclasses__())
        db.execute_sql(f"DROP TABLE IF EXISTS {HISTORY_TABLE}")
        upgrade(db.obj)
    click.echo("Database emptied.", err=True)


@tenants.command("create")
@click.argument("slug")
@click.option("--name", help="Display name (defaults to the slug).")
def create_tenant(slug, name):
    """Create a tenant and print its id."""
    try:
        tenant = add_tenant(slug, name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(tenant.id)


def add_tenant(slug, name=None):
    """Create a tenant and return it; ValueError if the slug is malformed or taken."""
    if not SLUG.fullmatch(slug):
        raise ValueError("a slug is 1-63 lowercase letters, digits and hyphens")
    try:
        with db.atomic():
            return Tenant.create(slug=slug, name=name or slug)
    except IntegrityError:
        raise ValueError(f"a tenant with slug {slug!r} already exists") from None


@tenants.command("list")
def list_tenants():
    """List tenants: id, slug, name, created."""
    for tenant in Tenant.select().order_by(Tenant.created_at):
        click.echo(f"{tenant.id}  {tenant.slug}  {tenant.name}  {tenant.created_at}")


@keys.command("create")
@click.option("--tenant", "slug", required=True, help="Slug of the key's tenant.")
@click.option("--scope", "scopes", required=True, multiple=True, type=click.Choice(SCOPES),
              help="A scope to grant; repeat for several.")
@click.option("--env", type=click.Choice(ENVS), default="live", show_default=True)
@click.option("--name", help="A label for operators.")
def create_key(slug, scopes, env, name):
    """Issue an API key and print it, alone on its line; it is shown only this once."""
    row, secret = issue_key(find_tenant(slug), scopes, env=env, name=name)
    click.echo(f"Key {row.id} ({row.display_prefix}…{row.last4}); store it now, it is not "
               "kept.", err=True)
    click.echo(secret)


@keys.command("list")
@click.option("--tenant", "slug", required=True, help="Slug of the tenant.")
def list_keys(slug):
    """List a tenant's keys: id, name, prefix, last 4, scopes, created, last used, revoked."""
    tenant = find_tenant(slug)
    for key in ApiKey.select().where(ApiKey.tenant == tenant).order_by(ApiKey.created_at):
        click.echo("  ".join([key.id, key.name or "-", key.display_prefix, key.last4,
                              ",".join(key.scopes.split()), key.created_at,
                              key.last_used_at or "never", key.revoked_at or "active"]))


@keys.command("revoke")
@click.argument("key_or_id")
def revoke(key_or_id):
    """Revoke a key, given its id or the full key."""
    row = revoke_key(key_or_id.strip())
    if row is None:
        raise click.ClickException("no such key")
    click.echo(f"Revoked {row.id} ({row.display_prefix}…{row.last4}).", err=True)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup(path):
    """Copy the SQLite database to PATH while it serves (SQLite's online backup API)."""
    database = current_app.extensions["vorel_db"]
    if not isinstance(database, SqliteDatabase) or database.connect_params.get("uri"):
        raise click.ClickException("backup copies a SQLite file; on PostgreSQL use pg_dump "
                                   "(see the README)")
    check_backup_target(database.database, path)
    staging = f"{path}.partial"
    with contextlib.closing(sqlite3.connect(database.database)) as source, \
            contextlib.closing(sqlite3.connect(staging)) as target:
        # A consistent snapshot even while others write: the copy restarts on a change.
        source.backup(target)
    os.chmod(staging, 0o600)
    os.replace(staging, path)
    click.echo(f"Backed up {database.database} to {path}.", err=True)


def check_backup_target(database_path, path):
    """Refuse a backup target that is the live database or one of its journals, or has no dir."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise click.ClickException(f"no such directory: {directory}")
    # Replacing the live file under open WAL connections would corrupt what they see.
    live = [database_path + suffix for suffix in SQLITE_FILE_SUFFIXES]
    if os.path.realpath(path) in map(os.path.realpath, live) or any(
            os.path.exists(name) and os.path.exists(path) and os.path.samefile(name, path)
            for name in live):
        raise click.ClickException(f"{path} is the live database {database_path} or one of its "
                                   "journal files: back up to another file")


@click.command("demo")
@with_appcontext
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True)
def demo(base_url):
    """Make sure a demo tenant and an all-scopes key exist; print the key and example calls."""
    print_demo(base_url)


def print_demo(base_url):
    """Print the demo key (made once, kept in the instance folder) and two calls that work."""
    path = os.path.join(current_app.instance_path, DEMO_KEY_FILE)
    secret = read_demo_key(path)
    if secret is None or ApiKey.get_or_none(ApiKey.key_hash == hash_key(secret),
                                            ApiKey.revoked_at.is_null()) is None:
        tenant = (Tenant.get_or_none(Tenant.slug == "demo")
                  or Tenant.create(slug="demo", name="Demo"))
        _, secret = issue_key(tenant, SCOPES, env="test", name="demo")
        write_private(path, secret)
    click.echo(DEMO_TEXT.format(key=secret, base=base_url.rstrip("/")))


def read_demo_key(path):
    """Return the saved demo key, or None."""
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip() or None
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def write_private(path, text):
    """Write text to a file only its owner can read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    os.chmod(path, 0o600)


DEMO_TEXT = """
vorel-lite demo key (tenant "demo", all scopes):

    {key}

Try it (from another shell; as often as you like: a new customer each second, and the
second call uses the id of the first's answer):

    ID=$(curl -s -X POST {base}/api/v1/conversations \\
      -H "Authorization: Bearer {key}" -H "Content-Type: application/json" \\
      -d '{{"channel": "whatsapp", "customer_identifier": "+9715'$(date +%s | cut -c3-)'"}}' \\
      | tee /dev/stderr | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')

    curl -s -X POST {base}/api/v1/leads \\
      -H "Authorization: Bearer {key}" -H "Content-Type: application/json" \\
      -d '{{"conversation_id": "'$ID'", "status": "qualified"}}'

The operator console (overview, leads, conversations, API keys, webhooks) is at
{base}/login. Create its first
operator, who signs in with this email and the password you are asked for:

    .venv/bin/flask --app app operators create you@example.com --tenant demo
"""


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--no-webhooks", is_flag=True, help="Leave delivery to `webhooks deliver`.")
@click.option("--demo", "with_demo", is_flag=True,
              help="Once listening, print the demo key and example calls (make run).")
@with_appcontext
def serve(host, port, threads, no_webhooks, with_demo):
    """Serve the API with waitress, delivering webhooks from a background thread."""
    app = current_app._get_current_object()
    try:
        server = make_server(app, host, port, threads)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): stop what uses that port, "
            f"or pick another one, e.g. `make run PORT={port + 1}`.") from None
    # --port 0 takes a free port: say which (a server on several addresses has no one port).
    port = getattr(server, "effective_port", port)
    base_url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    if with_demo:
        print_demo(base_url)
    stop = threading.Event()
    if not no_webhooks:
        threading.Thread(target=deliver_in_background, args=(app, stop), daemon=True,
                         name="webhook-delivery").start()
    click.echo(f"vorel-lite is listening on {base_url} (Ctrl-C stops it).", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.close()


def deliver_in_background(app, stop):
    """Run the delivery worker in its own app context until stop is set."""
    with app.app_context():
        run_worker(stop)


def init_app(app):
    """Register the operator commands."""
    for command in (init_db, upgrade_db, reset_db, backup, tenants, keys, demo, serve, webhooks,
                    offerings, conversations, crm, operators):
        app.cli.add_command(command)
