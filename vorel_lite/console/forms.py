"""The console's forms; each carries its CSRF token (Flask-WTF)."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..keys import ENVS, SCOPES
from ..models import EVENT_TYPES
from ..operators import MAX_PASSWORD_LENGTH
from ..outbound import check_url


def strip(text):
    """Trim surrounding whitespace from a field's text."""
    return text.strip() if isinstance(text, str) else text


class SignInForm(FlaskForm):
    # No email syntax check here: every refused sign-in gets the same one message.
    email = StringField("Email", validators=[DataRequired(), Length(max=254)], filters=[strip])
    # InputRequired, not DataRequired: a password of spaces is a password the CLI accepts.
    password = PasswordField("Password",
                             validators=[InputRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IssueKeyForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=100)], filters=[strip],
                       description="A label for you, e.g. the integration that uses the key.")
    env = RadioField("Environment", choices=[SelectChoice(env) for env in ENVS], default="live")
    scopes = CheckboxesField("Scopes", choices=[SelectChoice(scope) for scope in SCOPES],
                             validators=[DataRequired(message="Choose at least one scope.")])


def receiver_url(form, field):
    """Refuse a URL for the reasons `flask webhooks add` does, in its words."""
    try:
        check_url(field.data)
    except ValueError as exc:
        reason = str(exc)
        raise ValidationError(f"{reason[:1].upper()}{reason[1:]}.") from None


class WebhookForm(FlaskForm):
    url = StringField("URL", filters=[strip], validators=[
        DataRequired(message="Enter the URL that receives the events."), Length(max=2048),
        receiver_url], description="Where each event is POSTed, e.g. your n8n webhook node.")
    events = CheckboxesField("Events", choices=[SelectChoice(event) for event in EVENT_TYPES],
                             description="None checked: every event.")
    description = StringField("Description", validators=[Optional(), Length(max=200)],
                              filters=[strip], description="A note for you and other operators.")


class ConfirmForm(FlaskForm):
    """A form with no fields but its CSRF token: sign out, revoke."""
