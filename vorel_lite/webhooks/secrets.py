"""Webhook secrets: generated, shown once, kept encrypted with the instance's key, used to sign."""
import base64
import hashlib
import hmac
import os
import secrets

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

SECRET_KEY_FILE = "secret-key"
MIN_SECRET_KEY_LENGTH = 16


def generate_secret():
    """Return a new subscription secret: whsec_ and 48 lowercase hex characters."""
    return "whsec_" + secrets.token_hex(24)


def sign(secret, body):
    """Return the lowercase hex HMAC-SHA256 of the exact body bytes, keyed by secret."""
    return hmac.new(secret.encode("ascii"), body, hashlib.sha256).hexdigest()


def sign_standard(secret, message_id, timestamp, body):
    """Return the Standard Webhooks signature header value, `v1,<base64 HMAC-SHA256>`.

    Signed: `{id}.{timestamp}.{body}`. Key: the base64-decoding of the text after `whsec_`,
    as the `standardwebhooks` library reads a secret (48 hex characters are valid base64).
    """
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode("utf-8") + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _cipher():
    digest = hashlib.sha256(str(current_app.config["SECRET_KEY"]).encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(secret):
    """Encrypt a secret for storage."""
    return _cipher().encrypt(secret.encode("ascii")).decode("ascii")


def decrypt_secret(token):
    """Decrypt a stored secret, or raise ValueError when SECRET_KEY has changed since."""
    try:
        return _cipher().decrypt(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise ValueError("cannot decrypt the webhook secret: SECRET_KEY changed since it was "
                         "created; remove and add the subscription again") from None


def check_secret_key(key):
    """Raise ValueError unless key is a string of at least MIN_SECRET_KEY_LENGTH characters."""
    if isinstance(key, str) and len(key) >= MIN_SECRET_KEY_LENGTH:
        return
    # Never the value itself: it is a secret, and start-up errors end up in logs.
    if isinstance(key, str):
        found = f"{len(key)} characters"
    else:
        found = "null" if key is None else f"a value of type {type(key).__name__}"
    raise ValueError(
        f"SECRET_KEY must be a string of at least {MIN_SECRET_KEY_LENGTH} characters, not "
        f"{found}. VOREL_SECRET_KEY is read as JSON, so null, false, 0 or 123 are not strings; "
        "use e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`,"
        " or leave it unset to have one generated into the instance folder.")


def init_app(app):
    """Check SECRET_KEY, or create the instance's key file on first start when it is unset."""
    key = app.config["SECRET_KEY"]
    # VOREL_SECRET_KEY=null arrives as None too: set, it must not mean "generate one here",
    # or each host would encrypt with a key of its own.
    if key is not None or "VOREL_SECRET_KEY" in os.environ:
        check_secret_key(key)
        return
    path = os.path.join(app.instance_path, SECRET_KEY_FILE)
    if not os.path.exists(path):
        # Written aside and linked into place, so concurrent first starts agree on one key.
        staging = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(staging, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(staging)
    with open(path, encoding="ascii") as handle:
        app.config["SECRET_KEY"] = handle.read().strip()
