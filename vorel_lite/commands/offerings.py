"""`flask offerings ...`: the operator's side of the catalog."""
import click
from flask.cli import AppGroup

from ..db import db
from ..models import Offering, utc_now
from ..schemas.fields import is_canonical_uuid

offerings = AppGroup("offerings", help="Manage the catalog's offerings.")


@offerings.command("delete")
@click.argument("offering_id")
def delete_offering(offering_id):
    """Soft-delete an offering: gone from the API, kept for the appointments that name it."""
    offering_id = offering_id.strip().lower()
    if not is_canonical_uuid(offering_id):
        raise click.ClickException(f"no offering with id {offering_id[:64]!r}")
    with db.atomic():
        # One conditional UPDATE: of two concurrent deletes, exactly one changes the row.
        deleted = (Offering.update(deleted_at=utc_now())
                   .where((Offering.id == offering_id) & Offering.deleted_at.is_null())
                   .execute())
        offering = Offering.get_or_none(Offering.id == offering_id)
    if not deleted:
        state = "is already deleted" if offering else "does not exist"
        raise click.ClickException(f"offering {offering_id} {state}")
    click.echo(f"Deleted offering {offering.id} ({offering.title!r}, {offering.price} "
               f"{offering.price_currency}) of tenant {offering.tenant.slug}.")
