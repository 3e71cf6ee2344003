"""The console's forms; each carries its CSRF token (Flask-WTF)."""
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import (DataRequired, InputRequired, Length, Optional, StopValidation,
                                ValidationError)
from wtforms.widgets import CheckboxInput, ListWidget

from ..body import text_problem
from ..keys import ENVS, SCOPES
from ..models import EVENT_TYPES
from ..operators import MAX_PASSWORD_LENGTH
from ..outbound import check_target


def strip(text):
    """Trim surrounding whitespace from a field's text."""
    return text.strip() if isinstance(text, str) else text


class StorableText:
    """A text field that refuses, before any other check, the text the API refuses."""

    def pre_validate(self, form):
        problem = text_problem(self.data or "", self.label.text)
        if problem:
            raise StopValidation(problem)


class TextField(StorableText, StringField):
    """A one-line text field (StringField) holding only storable text."""


class SecretField(StorableText, PasswordField):
    """A password field holding only storable text."""


class SignInForm(FlaskForm):
    # No email syntax check here: every refused sign-in gets the same one message.
    email = TextField("Email", validators=[DataRequired(), Length(max=254)], filters=[strip])
    # InputRequired, not DataRequired: a password of spaces is a password the CLI accepts.
    password = SecretField("Password",
                           validators=[InputRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IssueKeyForm(FlaskForm):
    name = TextField("Name", validators=[Optional(), Length(max=100)], filters=[strip],
                     description="A label for you, e.g. the integration that uses the key.")
    env = RadioField("Environment", choices=[SelectChoice(env) for env in ENVS], default="live",
                     invalid_choice_message=f"Choose the environment: {' or '.join(ENVS)}.")
    scopes = CheckboxesField("Scopes", choices=[SelectChoice(scope) for scope in SCOPES],
                             validators=[DataRequired(message="Choose at least one scope.")])


def receiver_url(form, field):
    """Refuse a URL for the reasons `flask webhooks add` does, in its words."""
    try:
        check_target(field.data, current_app.config["WEBHOOK_PRIVATE_TARGETS"])
    except ValueError as exc:
        reason = str(exc)
        raise ValidationError(f"{reason[:1].upper()}{reason[1:]}.") from None


class WebhookForm(FlaskForm):
    url = TextField("URL", filters=[strip], validators=[
        DataRequired(message="Enter the URL that receives the events."), Length(max=2048),
        receiver_url], description="Where each event is POSTed, e.g. your n8n webhook node.")
    events = CheckboxesField("Events", choices=[SelectChoice(event) for event in EVENT_TYPES],
                             description="None checked: every event.")
    description = TextField("Description", validators=[Optional(), Length(max=200)],
                            filters=[strip], description="A note for you and other operators.")


class ConfirmForm(FlaskForm):
    """A form with no fields but its CSRF token: sign out, revoke."""
