"""What the console's tests share: operators to sign in as, and the forms' CSRF tokens."""
import re

from vorel_lite.models import Appointment, Tenant
from vorel_lite.operators import create_operator

PASSWORD = "correct horse battery"
# The operator of tenant acme that the `console` fixture signs in as.
ACME = "ops@example.com"
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


def add_booking(app, client, headers, created_at, status="confirmed"):
    """Book an appointment through the API, then set when it was booked and its status.

    created_at: a timestamp as stored ("2030-01-01T12:00:00.000000Z"); returns the id.
    """
    response = client.post("/api/v1/appointments", headers=headers, json={
        "customer_name": "Layla Haddad", "customer_phone": "+971500000001",
        "scheduled_start": "2030-03-01T10:00:00Z", "scheduled_end": "2030-03-01T11:00:00Z"})
    assert response.status_code == 201, response.get_json()
    booking_id = response.get_json()["id"]
    with app.app_context():
        Appointment.update(created_at=created_at, status=status).where(
            Appointment.id == booking_id).execute()
    return booking_id
