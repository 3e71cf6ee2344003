"""/settings/integrations/api-keys: the tenant's keys; issue one (shown once), revoke one."""
from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup

from ..keys import issue_key, revoke_key
from ..models import ApiKey
from .blueprint import bp
from .forms import ConfirmForm, IssueKeyForm
from .once import keep_secret, take_secret
from .rows import tenant_row, tenant_rows

PAGE = "/settings/integrations/api-keys"
# Where the session keeps a new key's secret until the list shows it.
ISSUED = "issued_key"


def get_tenant_key(key_id):
    """Return the signed-in tenant's key with key_id, or 404 as for a key that does not exist."""
    return tenant_row(ApiKey, key_id, "No such API key.")


def show_keys(form, status=200):
    """Render the keys page, with the secret of a key just issued, this once."""
    keys = tenant_rows(ApiKey, current_user.tenant_id)
    return render_template("console/api_keys.html", keys=keys, form=form,
                           issued=take_secret(ISSUED, keys)), status


@bp.get(PAGE)
def list_api_keys():
    """List the tenant's keys, with the form to issue one."""
    return show_keys(IssueKeyForm())


@bp.post(PAGE)
def create_api_key():
    """Issue a key for the tenant; 303 to the list, which shows its secret this once."""
    form = IssueKeyForm()
    if not form.validate():
        return show_keys(form, status=400)
    row, secret = issue_key(current_user.operator.tenant, form.scopes.data, env=form.env.data,
                            name=form.name.data or None)
    keep_secret(ISSUED, row.id, secret)
    return redirect(url_for("console.list_api_keys"), 303)


@bp.get(f"{PAGE}/<key_id>/revoke")
def confirm_revoke_api_key(key_id):
    """Ask for confirmation before revoking one of the tenant's keys."""
    return render_template("console/revoke_key.html", key=get_tenant_key(key_id),
                           form=ConfirmForm())


@bp.post(f"{PAGE}/<key_id>/revoke")
def revoke_api_key(key_id):
    """Revoke one of the tenant's keys; requests with it are refused from now on."""
    key = revoke_key(get_tenant_key(key_id).id)
    # Isolated: a name's bidirectional controls must not reorder the sentence around it.
    flash(Markup("Revoked <bdi>{}</bdi> ({}…{}).").format(
        key.name or "the key", key.display_prefix, key.last4), "success")
    return redirect(url_for("console.list_api_keys"), 303)
