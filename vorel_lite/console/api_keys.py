"""/settings/integrations/api-keys: the tenant's keys; issue one (shown once), revoke one."""
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..keys import issue_key, revoke_key
from ..models import ApiKey
from .blueprint import bp
from .forms import ConfirmForm, IssueKeyForm

PAGE = "/settings/integrations/api-keys"


def tenant_keys(tenant_id):
    """Return the tenant's keys, newest first."""
    return list(ApiKey.select().where(ApiKey.tenant == tenant_id)
                .order_by(ApiKey.created_at.desc(), ApiKey.id))


def get_tenant_key(key_id):
    """Return the signed-in tenant's key with key_id, or 404 as for a key that does not exist."""
    key = ApiKey.get_or_none((ApiKey.id == key_id) & (ApiKey.tenant == current_user.tenant_id))
    if key is None:
        abort(404, "No such API key.")
    return key


def show_keys(form, issued=None, status=200):
    """Render the keys page; issued is (row, secret) of a key just made, shown this once."""
    return render_template("console/api_keys.html", keys=tenant_keys(current_user.tenant_id),
                           form=form, issued=issued), status


@bp.get(PAGE)
def list_api_keys():
    """List the tenant's keys, with the form to issue one."""
    return show_keys(IssueKeyForm())


@bp.post(PAGE)
def create_api_key():
    """Issue a key for the tenant and show its secret, this once."""
    form = IssueKeyForm()
    if not form.validate():
        return show_keys(form, status=400)
    issued = issue_key(current_user.operator.tenant, form.scopes.data, env=form.env.data,
                       name=form.name.data or None)
    return show_keys(IssueKeyForm(formdata=None), issued=issued, status=201)


@bp.get(f"{PAGE}/<key_id>/revoke")
def confirm_revoke_api_key(key_id):
    """Ask for confirmation before revoking one of the tenant's keys."""
    return render_template("console/revoke_key.html", key=get_tenant_key(key_id),
                           form=ConfirmForm())


@bp.post(f"{PAGE}/<key_id>/revoke")
def revoke_api_key(key_id):
    """Revoke one of the tenant's keys; requests with it are refused from now on."""
    key = revoke_key(get_tenant_key(key_id).id)
    flash(f"Revoked {key.name or 'the key'} ({key.display_prefix}…{key.last4}).", "success")
    return redirect(url_for("console.list_api_keys"), 303)
