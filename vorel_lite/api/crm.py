"""CRM push: create a record in the CRM the tenant's operator connected."""
from flask import Blueprint, g

from ..auth import require_scope
from ..body import load_body
from ..crm.pushing import create_record
from ..idempotency import forget_answer
from ..openapi.registry import documented
from ..schemas.crm import CrmRecordCreate
from . import PREFIX

bp = Blueprint("crm", __name__, url_prefix=f"{PREFIX}/crm")

create_schema = CrmRecordCreate()


@bp.post("/create-record")
@documented("createCrmRecord", "Create a record in the connected CRM", request=CrmRecordCreate,
            response="CrmPushResult",
            description="Makes one signed POST of `{object, fields, idempotency_key, tenant_id}` "
                        "to the CRM endpoint the operator connected (fields renamed by its "
                        "field maps), with `X-Webhook-Signature` (hex HMAC-SHA256 of the body) "
                        "and `Idempotency-Key`. Once the key and the body pass, the answer is "
                        "HTTP 200 with `ok` true or false. A success is remembered per "
                        "`idempotency_key` and answered again without a second push; a failure "
                        "is not, so a retry pushes again; concurrent requests with one key push "
                        "once and all answer its result.",
            success_description="What came of the push (`ok` true or false).")
@require_scope("crm:write")
def create_crm_record():
    """Push a record to the tenant's CRM, once per idempotency_key that succeeds."""
    data = load_body(create_schema)
    result = create_record(g.tenant_id, data["object_name"], data["record_fields"],
                           data["idempotency_key"])
    if not result["ok"]:
        # A failure is not remembered (spec section 3), by an Idempotency-Key header neither.
        forget_answer()
    return result
