"""Operator commands of each domain, one module each (database, tenants and keys: cli.py)."""
import click

from ..models import Tenant


def find_tenant(slug):
    """Return the tenant with slug, or fail the command."""
    tenant = Tenant.get_or_none(Tenant.slug == slug)
    if tenant is None:
        raise click.ClickException(f"no tenant with slug {slug!r}")
    return tenant
