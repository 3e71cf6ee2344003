"""`flask operators ...`: the people who sign in to the console, one tenant each."""
import sys

import click
from flask.cli import AppGroup

from . import find_tenant
from ..operators import create_operator, list_operators, remove_operator

operators = AppGroup("operators", help="Manage the operators who sign in to the console.")


def read_password(from_stdin):
    """Return the new password: standard input's first line, or asked twice at the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@operators.command("create")
@click.argument("email")
@click.option("--tenant", "slug", required=True, help="Slug of the operator's tenant.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input's first line instead of asking.")
def create(email, slug, password_stdin):
    """Create an operator who signs in to the console with EMAIL; print its id."""
    tenant = find_tenant(slug)
    password = read_password(password_stdin)
    try:
        row = create_operator(tenant, email, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Operator {row.email} of tenant {slug} can now sign in at /login.", err=True)
    click.echo(row.id)


@operators.command("list")
@click.option("--tenant", "slug", help="Only this tenant's operators.")
def list_command(slug):
    """List operators: id, email, tenant, created."""
    tenant = find_tenant(slug) if slug else None
    for row in list_operators(tenant):
        click.echo("  ".join([row.id, row.email, row.tenant.slug, row.created_at]))


@operators.command("remove")
@click.argument("email")
def remove(email):
    """Delete the operator with EMAIL; its console sessions end at their next request."""
    if not remove_operator(email):
        raise click.ClickException(f"no operator with email {email.strip()!r}")
    click.echo(f"Removed {email.strip().lower()}.", err=True)
