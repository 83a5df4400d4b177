"""Flask-WTF forms: the admin's (CSRF-protected) and the widget's (token-authenticated).

Widget forms take a ``labels`` callable so that every message a visitor reads comes from the
widget's language file.
"""

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FileField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

import availability
from branding import ImageProblem, accent_problem, image_type
from labels import language_choices
from models import MESSAGE_MAX_LENGTH, NAME_MAX_LENGTH, Agent, AuthType, Rating
from origins import DomainListError, clean_allowed_domains

# The four client authentication types, in the order the admin sees them, with their one-line
# explanation (the admin is English-only; the widget's own texts come from the language files).
AUTH_TYPE_NAMES = {
    AuthType.NONE: 'No data required – client will appear as "visitor"',
    AuthType.CODE: "You provide information about client through code",
    AuthType.FORM: "Client provides information through form",
    AuthType.OPTIONAL_FORM: "Client can optionally provide information through form",
}

AUTH_TYPE_HELP = {
    AuthType.NONE: "Visitors chat at once, anonymously; agents see them as “Visitor #N”.",
    AuthType.CODE: "Your site passes its signed-in user's data to the widget; "
    "visitors who are not signed in do not see the widget.",
    AuthType.FORM: "Visitors give their name and email before chatting and are saved as contacts.",
    AuthType.OPTIONAL_FORM: "The same form, with a “Continue as guest” button "
    "for those who skip it.",
}


class WidgetForm(FlaskForm):
    """A form posted from inside the widget iframe: no CSRF token, texts from the labels.

    Nothing ambient (no cookie) authenticates widget requests, so there is nothing for a
    cross-site request to borrow; the visitor token header is what identifies the client.
    """

    class Meta:
        csrf = False

    def __init__(self, labels, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.labels = labels


class ContactForm(WidgetForm):
    """The widget's login form: name and email, both required."""

    name = StringField()
    email = StringField()

    def validate_name(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError(self.labels("error.name_required"))
        if len(field.data) > NAME_MAX_LENGTH:
            raise ValidationError(self.labels("error.name_too_long", max=NAME_MAX_LENGTH))

    def validate_email(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError(self.labels("error.email_required"))
        try:
            # Deliverability needs DNS: too slow for a chat and it leaks the visitor's domain.
            field.data = validate_email(field.data, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValidationError(self.labels("error.email_invalid")) from error


class LeaveEmailForm(WidgetForm):
    """A visitor's or guest's email, left so the team can answer there (unconfirmed)."""

    email = StringField()
    validate_email = ContactForm.validate_email


class MessageForm(WidgetForm):
    """A client's message, with the id the composer was given so a resend is stored once."""

    body = TextAreaField()
    client_msg_id = HiddenField()

    def validate_body(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError(self.labels("error.message_empty"))
        if len(field.data) > MESSAGE_MAX_LENGTH:
            raise ValidationError(self.labels("error.message_too_long", max=MESSAGE_MAX_LENGTH))

    def validate_client_msg_id(self, field):
        if field.data and (len(field.data) > 64 or not field.data.replace("-", "").isalnum()):
            raise ValidationError(self.labels("error.generic"))


class LoginForm(FlaskForm):
    """The admin sign-in form."""

    email = EmailField("Email", validators=[DataRequired("Enter your email."), Email()])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Keep me signed in on this computer")


class WidgetGeneralForm(FlaskForm):
    """Administration > Website widget > General."""

    name = StringField(
        "Widget name",
        validators=[
            DataRequired("Give the widget a name, such as your site's."),
            Length(max=100, message="Keep the name under 100 characters."),
        ],
    )
    auth_type = RadioField(
        "Client authentication type",
        choices=[SelectChoice(value, label) for value, label in AUTH_TYPE_NAMES.items()],
        validators=[InputRequired("Choose how clients identify.")],
    )
    language = SelectField("Widget language")
    follow_browser_language = BooleanField(
        "Speak the visitor's browser language when there is a file for it "
        "(otherwise the language above)"
    )
    require_verified_identity = BooleanField(
        "Require verified identity (a token signed by your server; see Install)"
    )
    allowed_domains = TextAreaField("Allowed domains")
    # Looks (see ``branding``) and office hours (see ``availability``): migration 014.
    accent_color = StringField("Accent colour")
    launcher_position = RadioField(
        "Launcher position",
        choices=[SelectChoice("right", "Bottom right"), SelectChoice("left", "Bottom left")],
    )
    launcher_style = RadioField(
        "Launcher style",
        choices=[SelectChoice("labelled", "Icon and label"), SelectChoice("icon", "Icon only")],
    )
    team_name = StringField(
        "Team name", validators=[Length(max=60, message="Keep the team name under 60 characters.")]
    )
    logo_upload = FileField("Logo")
    remove_logo = BooleanField("Remove the logo")
    office_hours_on = BooleanField(
        "Keep office hours (outside them the widget says when you're back)"
    )
    time_zone = StringField("Time zone")
    office_days = SelectMultipleField(
        "Days",
        choices=[
            SelectChoice(str(number), name) for number, name in enumerate(availability.WEEKDAYS)
        ],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    office_opens = StringField("From")
    office_closes = StringField("To")
    UPLOADS = ("logo_upload", "remove_logo")  # not widget columns: see ``logo_bytes``
    # Notifications: a reply that arrives while the visitor's widget is closed.
    notify_sound = BooleanField("Play a short sound (once the visitor has used the page)")
    notify_title = BooleanField("Flash the page title while the visitor's tab is in the background")
    unread_mail_delay = IntegerField(
        "Email unread replies after (minutes)",
        validators=[NumberRange(0, 1440, "Enter 0 to 1440 minutes (0 sends no email).")],
    )

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, obj=obj, **kwargs)
        self.language.choices = [SelectChoice(code, name) for code, name in language_choices()]
        if obj is not None and not self.is_submitted():
            self.office_days.data = obj.office_days.split(",")

    def validate_accent_color(self, field):
        field.data = (field.data or "").strip().lower()
        problem = accent_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_time_zone(self, field):
        field.data = (field.data or "").strip()
        if availability.zone_or_none(field.data) is None:
            raise ValidationError("Enter a time zone by its IANA name, such as Europe/Oslo.")

    def validate_office_opens(self, field):
        if availability.parse_time(field.data) is None:
            raise ValidationError("Enter a time as HH:MM, such as 09:00.")

    def validate_office_closes(self, field):
        closes = availability.parse_time(field.data)
        if closes is None:
            raise ValidationError("Enter a time as HH:MM, such as 17:00.")
        opens = availability.parse_time(self.office_opens.data)
        if opens is not None and closes <= opens:
            raise ValidationError("The office hours must end after they start.")

    def validate_office_days(self, field):
        if self.office_hours_on.data and not field.data:
            raise ValidationError("Choose at least one day, or turn office hours off.")

    def validate_logo_upload(self, field):
        """A logo must be a PNG, JPEG or WebP under 200 KB; its bytes are kept on the form."""
        self.logo_bytes = uploaded_image(field)

    def populate_widget(self, widget):
        """The settings onto ``widget``, the upload fields aside (see ``logo_bytes``)."""
        for name, field in self._fields.items():
            if name not in self.UPLOADS and name != "csrf_token":
                field.populate_obj(widget, name)
        widget.team_name = (widget.team_name or "").strip() or None
        widget.office_days = ",".join(sorted(self.office_days.data or []))

    def validate_allowed_domains(self, field):
        """One site per line, as CSP's frame-ancestors reads it; stored tidied up."""
        try:
            field.data = clean_allowed_domains(field.data)
        except DomainListError as error:
            raise ValidationError(str(error)) from error


IMAGE_READ_LIMIT = 200 * 1024 + 1  # one byte more than allowed: enough to say it is too big


def uploaded_image(field):
    """The bytes of the image uploaded in ``field`` (None when no file was chosen), checked to
    be a PNG, JPEG or WebP under 200 KB; else a ``ValidationError`` saying why."""
    upload = field.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    data = upload.read(IMAGE_READ_LIMIT)
    try:
        image_type(data)
    except ImageProblem as error:
        raise ValidationError(str(error)) from error
    return data


class ChatProfileForm(FlaskForm):
    """Your account > How clients see you: the name and picture on your replies in the chat."""

    display_name = StringField(
        "Name in the chat",
        validators=[Length(max=NAME_MAX_LENGTH, message="Keep the name under 100 characters.")],
    )
    avatar_upload = FileField("Picture")
    remove_avatar = BooleanField("Remove the picture (clients then see your initials)")

    def validate_avatar_upload(self, field):
        self.avatar_bytes = uploaded_image(field)


class ReplyForm(FlaskForm):
    """An agent's reply in a conversation."""

    body = TextAreaField(
        "Reply",
        validators=[
            DataRequired("Write a reply first."),
            Length(
                max=MESSAGE_MAX_LENGTH,
                message=f"Keep the reply under {MESSAGE_MAX_LENGTH} characters.",
            ),
        ],
    )


class AgentForm(FlaskForm):
    """Administration > Agents: add a member of the support team."""

    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter the agent's name."),
            Length(max=NAME_MAX_LENGTH, message="Keep the name under 100 characters."),
        ],
    )
    email = EmailField("Email", validators=[DataRequired("Enter an email."), Email()])
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Choose a password."),
            Length(min=10, message="Use at least 10 characters."),
        ],
    )
    is_admin = BooleanField("Admin rights (can change settings and manage agents)")

    def validate_email(self, field):
        if Agent.by_email(field.data):
            raise ValidationError("An agent with this email already exists.")


class RatingForm(WidgetForm):
    """A client's rating of the conversation: good or bad, with an optional comment."""

    verdict = StringField()
    comment = TextAreaField()

    def validate_verdict(self, field):
        if field.data not in ("good", "bad"):
            raise ValidationError(self.labels("error.rating_choice"))

    def validate_comment(self, field):
        field.data = (field.data or "").strip() or None
        if field.data and len(field.data) > Rating.COMMENT_MAX_LENGTH:
            raise ValidationError(
                self.labels("error.comment_too_long", max=Rating.COMMENT_MAX_LENGTH)
            )
