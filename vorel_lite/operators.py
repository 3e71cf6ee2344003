"""Operator accounts of the console: create, list, remove, and check a sign-in."""
import functools
import secrets

from email_validator import EmailNotValidError, validate_email
from peewee import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .db import db
from .models import Operator, Tenant

HASH_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 10
# scrypt reads the whole password: a bound keeps one sign-in attempt cheap to refuse.
MAX_PASSWORD_LENGTH = 1024


def normalise_email(text):
    """Return an email address in its one stored form (trimmed, lower-case); ValueError if bad."""
    email = text.strip().lower()
    try:
        # Syntax only: no DNS look-up, and nothing leaves the machine.
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return email


def check_password_rules(password):
    """Raise ValueError unless password is long enough (and not absurdly long)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")


def create_operator(tenant, email, password):
    """Create an operator of tenant and return it; ValueError if a rule is broken or taken."""
    email = normalise_email(email)
    check_password_rules(password)
    password_hash = generate_password_hash(password, method=HASH_METHOD)
    try:
        with db.atomic():
            return Operator.create(tenant=tenant, email=email, password_hash=password_hash)
    except IntegrityError:
        raise ValueError(f"an operator with email {email!r} already exists") from None


def list_operators(tenant=None):
    """Return operators with their tenants, oldest first; only tenant's when given."""
    query = Operator.select(Operator, Tenant).join(Tenant)
    if tenant is not None:
        query = query.where(Operator.tenant == tenant)
    return list(query.order_by(Operator.created_at, Operator.id))


def remove_operator(email):
    """Delete the operator with email; return False if there is none."""
    try:
        email = normalise_email(email)
    except ValueError:
        return False
    return Operator.delete().where(Operator.email == email).execute() > 0


@functools.cache
def dummy_hash():
    """Return a hash of a random password, checked when the email is unknown."""
    return generate_password_hash(secrets.token_urlsafe(16), method=HASH_METHOD)


def authenticate(email, password):
    """Return the operator whose email and password these are, or None.

    An unknown email costs the same scrypt work as a wrong password, so the time taken does
    not tell which emails have accounts.
    """
    try:
        operator = Operator.get_or_none(Operator.email == normalise_email(email))
    except ValueError:
        operator = None
    if operator is None or len(password) > MAX_PASSWORD_LENGTH:
        check_password_hash(dummy_hash(), password[:MAX_PASSWORD_LENGTH])
        return None
    return operator if check_password_hash(operator.password_hash, password) else None
