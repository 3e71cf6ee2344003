"""A secret shown once, on the page a POST redirects to (Post/Redirect/Get).

The POST keeps it in the session, encrypted with the app's key (the cookie is signed, not
secret); the next page it is taken from shows it and forgets it, so a reload shows it no more.
"""
from flask import session

from ..webhooks.secrets import decrypt_secret, encrypt_secret


def keep_secret(name, row_id, secret):
    """Keep the secret of the row with row_id under name, for the next page to show."""
    session[name] = {"id": row_id, "secret": encrypt_secret(secret)}


def take_secret(name, rows):
    """Return (row, secret) kept under name for one of rows, forgetting it; else None."""
    kept = session.pop(name, None)
    if kept is None:
        return None
    row = next((row for row in rows if row.id == kept["id"]), None)
    try:
        return (row, decrypt_secret(kept["secret"])) if row is not None else None
    except ValueError:  # SECRET_KEY changed since: the secret is lost, as it would be anyway
        return None
