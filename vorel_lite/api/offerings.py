"""Offerings: create, read, list, update the tenant's catalog (operators soft-delete)."""
from flask import Blueprint, g

from ..auth import require_scope
from ..body import load_body, load_query
from ..db import db
from ..events import emit_events
from ..models import Offering, utc_now
from ..openapi.registry import documented
from ..pagination import Pages
from ..schemas.common import PageQuery
from ..schemas.offerings import OfferingCreate, OfferingOut, OfferingUpdate
from ..statements import insert, update
from . import PREFIX, dump_page, get_owned

bp = Blueprint("offerings", __name__, url_prefix=f"{PREFIX}/offerings")

create_schema = OfferingCreate()
update_schema = OfferingUpdate()
page_query = PageQuery()
offering_schema = OfferingOut()
# A soft-deleted offering is not listed, but still anchors a cursor handed out before.
pages = Pages(Offering, visible=Offering.deleted_at.is_null())


@bp.post("")
@documented("createOffering", "Create an offering", request=OfferingCreate, response="Offering",
            status=201,
            description="`price` is a JSON number, kept exactly and returned as a string.",
            success_description="Offering created. Emits `offering.created`.")
@require_scope("offerings:write")
def create_offering():
    """Add an offering to the tenant's catalog."""
    data = load_body(create_schema)
    now = utc_now()
    with db.atomic():
        offering = insert(Offering, tenant=g.tenant_id, created_at=now, updated_at=now, **data)
        body = offering_schema.dump(offering)
        emit_events(body, "offering.created")
    return body, 201


@bp.get("")
@documented("listOfferings", "List offerings", query=PageQuery, response="OfferingPage",
            description="Newest first; offerings deleted by the operator are not listed.")
@require_scope("read")
def list_offerings():
    """List the tenant's offerings, newest first."""
    args = load_query(page_query)
    return dump_page(pages.page(args["limit"], args.get("cursor")), offering_schema)


@bp.get("/<offering_id>")
@documented("getOffering", "Get an offering", response="Offering", errors=(404,),
            description="An offering deleted by the operator is a 404.")
@require_scope("read")
def get_offering(offering_id):
    """Return one offering."""
    return offering_schema.dump(get_owned(Offering, offering_id))


@bp.patch("/<offering_id>")
@documented("updateOffering", "Update an offering", request=OfferingUpdate, response="Offering",
            errors=(404,),
            description="Strict-partial; `attributes` shallow-merges and a key set to null "
                        "is deleted; `photos` replaces the list. Emits `offering.updated`.")
@require_scope("offerings:write")
def update_offering(offering_id):
    """Change some fields of an offering."""
    changes = load_body(update_schema)
    with db.atomic():
        offering = get_owned(Offering, offering_id, for_update=True)
        offering.apply_changes(changes)
        update(offering)
        body = offering_schema.dump(offering)
        emit_events(body, "offering.updated")
    return body
