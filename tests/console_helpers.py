"""What the console's tests share: operators to sign in as, and the forms' CSRF tokens."""
import re

from vorel_lite.models import Tenant
from vorel_lite.operators import create_operator

PASSWORD = "correct horse battery"
KEYS_PAGE = "/settings/integrations/api-keys"
CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
SECRET = re.compile(r"vapk_(?:live|test)_[0-9a-f]{48}")


def add_operator(app, email, slug="acme", password=PASSWORD):
    """Create an operator (and its tenant, if new) with password; return the tenant's id."""
    with app.app_context():
        tenant = Tenant.get_or_none(Tenant.slug == slug) or Tenant.create(slug=slug, name=slug)
        create_operator(tenant, email, password)
        return tenant.id


def csrf_token(client, path):
    """Return the CSRF token of the first form on the page at path."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return CSRF_FIELD.search(response.text).group(1)


def sign_in(client, email, password=PASSWORD, next_path=None):
    """Post the sign-in form (with its token) and return the answer."""
    path = "/login" + (f"?next={next_path}" if next_path else "")
    return client.post(path, data={"csrf_token": csrf_token(client, "/login"), "email": email,
                                   "password": password})
