"""Signing in to the console and out of it (Flask-Login sessions)."""
import hashlib
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user

from ..models import Operator
from ..operators import authenticate
from .blueprint import bp, login_manager
from .forms import SignInForm

REFUSED = "Wrong email or password."


class SignedInOperator(UserMixin):
    """The operator of the request, as Flask-Login sees it."""

    def __init__(self, operator):
        self.operator = operator
        self.tenant_id = operator.tenant_id
        self.email = operator.email

    def get_id(self):
        """Return the session's token: operator id, session epoch, digest of the password hash."""
        # Signing out (a new epoch), a new password or a removed operator ends the sessions
        # signed in before: the cookie alone, kept by whoever copied it, no longer holds.
        operator = self.operator
        return f"{operator.id}:{operator.session_epoch}:{password_digest(operator)}"


def password_digest(operator):
    """Return a short digest of the operator's password hash (the hash never leaves the db)."""
    return hashlib.sha256(operator.password_hash.encode("utf-8")).hexdigest()[:16]


@login_manager.user_loader
def load_operator(token):
    """Return the signed-in operator for a session's token, or None once it no longer holds."""
    operator_id, _, rest = token.partition(":")
    epoch, _, digest = rest.partition(":")
    operator = Operator.get_or_none(Operator.id == operator_id)
    if (operator is None or str(operator.session_epoch) != epoch
            or password_digest(operator) != digest):
        return None
    return SignedInOperator(operator)


def safe_next(target):
    """Return target if it is a path on this site, else the overview's."""
    parts = urlsplit(target or "")
    if (not target or parts.scheme or parts.netloc or not target.startswith("/")
            or target.startswith("//") or "\\" in target):
        return url_for("console.overview")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; sign in with an email and password."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("console.overview"))
    form = SignInForm()
    refused = False
    if form.validate_on_submit():
        operator = authenticate(form.email.data, form.password.data)
        if operator is not None:
            # A fresh session: nothing from before signing in carries over.
            session.clear()
            login_user(SignedInOperator(operator))
            return redirect(safe_next(request.args.get("next")), 303)
        refused = True
    return render_template("console/login.html", form=form, refused=refused,
                           message=REFUSED), 400 if form.errors else 200


@bp.post("/logout")
def logout():
    """Sign out: end every session of the operator (a copied cookie too), forget this one."""
    Operator.update(session_epoch=Operator.session_epoch + 1).where(
        Operator.id == current_user.operator.id).execute()
    logout_user()
    session.clear()
    return redirect(url_for("console.login"), 303)
