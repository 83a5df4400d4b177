"""Peewee models and the database handle.

The database is chosen by URL (``FRONTDESK_DATABASE_URL``): a SQLite file by default, PostgreSQL
for larger installs. Queries live here as model methods so views read like the question they ask.
"""

import datetime
import hashlib
import json
import re
import secrets

from flask import current_app, has_app_context
from flask_login import UserMixin
from peewee import (
    JOIN,
    BigIntegerField,
    BlobField,
    BooleanField,
    Case,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
    fn,
)
from werkzeug.security import check_password_hash, generate_password_hash

import availability
import fulltext
from branding import DEFAULT_ACCENT, image_type, initials
from db import BaseModel, database, utcnow
from labels import Labels, resolve_language
from origins import domain_list, domain_matches


class AuthType:
    """The four client authentication types, as stored in ``Widget.auth_type``.

    Templates and views name them through this class (``AuthType.CODE``), never as literals;
    what each type lets a visitor do is decided by ``Widget``'s methods.
    """

    NONE = "none"
    CODE = "code"
    FORM = "form"
    OPTIONAL_FORM = "optional_form"
    ALL = (NONE, CODE, FORM, OPTIONAL_FORM)


MESSAGE_MAX_LENGTH = 5000
NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
USER_AGENT_MAX_LENGTH = 200
# werkzeug's own default; the app's PASSWORD_HASH_METHOD setting (tests make it cheap) wins.
DEFAULT_PASSWORD_HASH_METHOD = "scrypt"


def hash_token(token):
    """The stored form of a visitor token (or an agent's session token): a leaked table must not
    let anyone act as a visitor or an agent."""
    return hashlib.sha256(token.encode()).hexdigest()


def password_hash_method():
    """How passwords are hashed: the app's PASSWORD_HASH_METHOD, else werkzeug's default."""
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD") or DEFAULT_PASSWORD_HASH_METHOD
    return DEFAULT_PASSWORD_HASH_METHOD


_dummy_hashes = {}


def dummy_password_hash():
    """A hash of no agent's password, made the way agents' passwords are: checking a password
    against it costs what checking a real one costs, so an unknown email answers no faster."""
    method = password_hash_method()
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    return _dummy_hashes[method]


def new_identity_secret():
    return secrets.token_urlsafe(48)  # 384 bits, 64 characters


class Image(BaseModel):
    """An uploaded logo or avatar (PNG, JPEG or WebP, checked by its bytes; see ``branding``).

    A new upload is a new row, so its id in the URL is a version: served cached for good."""

    data = BlobField()
    content_type = CharField(max_length=20)
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def store(cls, data):
        """A new image from uploaded bytes; ``branding.ImageProblem`` when they are no image."""
        return cls.create(data=data, content_type=image_type(data))

    @classmethod
    def replace(cls, old_id, data):
        """Store ``data`` (None: nothing) in place of the image ``old_id``; the new one, or None."""
        new = cls.store(data) if data is not None else None
        if old_id is not None:
            cls.delete().where(cls.id == old_id).execute()
        return new


class Widget(BaseModel):
    """One chat widget: the public key a site embeds and the settings the admin picks."""

    key = CharField(unique=True, max_length=32, default=lambda: secrets.token_urlsafe(12))
    name = CharField(max_length=100)
    auth_type = CharField(max_length=20, default=AuthType.NONE)
    language = CharField(max_length=10, default="en")
    created_at = DateTimeField(default=utcnow)
    # The key a site's server signs its users' identity with; never shown outside the admin.
    identity_secret = CharField(null=True, max_length=64, default=new_identity_secret)
    require_verified_identity = BooleanField(default=False)
    allowed_domains = TextField(null=True)  # one per line; empty: any site may embed
    follow_browser_language = BooleanField(default=False)  # else always ``language``
    # A reply that arrives while the widget is closed (migration 013): a tone, a flashing title,
    # and a mail after this many minutes unread (0: none).
    notify_sound = BooleanField(default=True)
    notify_title = BooleanField(default=True)
    unread_mail_delay = IntegerField(default=10)
    # Its looks and office hours (migration 014).
    accent_color = CharField(max_length=7, default=DEFAULT_ACCENT)
    launcher_position = CharField(max_length=5, default="right")  # or "left"
    launcher_style = CharField(max_length=8, default="labelled")  # or "icon"
    team_name = CharField(null=True, max_length=60)
    logo = ForeignKeyField(Image, null=True, backref="+", on_delete="SET NULL", lazy_load=False)
    time_zone = CharField(max_length=64, default="UTC")
    office_hours_on = BooleanField(default=False)  # off: always open
    office_days = CharField(max_length=20, default="0,1,2,3,4")  # 0 = Monday
    office_opens = CharField(max_length=5, default="09:00")
    office_closes = CharField(max_length=5, default="17:00")

    @classmethod
    def by_key(cls, key):
        """The widget with this public key, or None (for any odd key a stranger sends)."""
        if not key or len(key) > 32 or "\x00" in key:
            return None
        return cls.get_or_none(cls.key == key)

    def labels(self, requested=None, accept_languages=()):
        """The texts a visitor sees: the language they get, with this widget's overrides."""
        code = resolve_language(
            self.language, self.follow_browser_language, requested, accept_languages
        )
        return Labels(code, LabelOverride.for_widget(self, code))

    def regenerate_identity_secret(self):
        """A new secret: tokens signed with the old one stop working at once."""
        self.identity_secret = new_identity_secret()
        self.save()

    @property
    def allowed_domain_list(self):
        return domain_list(self.allowed_domains)

    def allows_origin(self, origin):
        """Whether a page at ``origin`` (scheme://host[:port]) may embed this widget."""
        entries = self.allowed_domain_list
        if not entries:
            return True
        return any(domain_matches(entry, origin) for entry in entries)

    @property
    def office_hours(self):
        """The widget's ``availability.OfficeHours``, or None when it is always open."""
        return availability.office_hours_of(self)

    @property
    def launcher_look(self):
        """What the loader needs to draw the launcher in the widget's colours and place."""
        left, icon_only = self.launcher_position == "left", self.launcher_style == "icon"
        css = f"background:{self.accent_color}"  # a checked #rrggbb (see ``branding``)
        css += ";left:20px;right:auto" if left else ""
        css += ";padding:0 14px" if icon_only else ""
        return {"launcher_css": css, "left": left, "icon_only": icon_only}

    def availability(self, now):
        """Online, away or closed (with when it opens) at ``now``, an aware datetime."""
        return availability.availability(self.office_hours, Agent.anyone_online(), now)

    # The client authentication rules: what each type asks of a visitor before they chat.

    @property
    def asks_site_user(self):
        """Whether only a user the host page describes (``custom_user_data``) may chat."""
        return self.auth_type == AuthType.CODE

    @property
    def offers_form(self):
        """Whether a visitor of this widget is asked for name and email before chatting."""
        return self.auth_type in (AuthType.FORM, AuthType.OPTIONAL_FORM)

    @property
    def offers_guest(self):
        """Whether the form can be skipped with "Continue as guest"."""
        return self.auth_type == AuthType.OPTIONAL_FORM

    def admits(self, client):
        """Whether this widget's authentication type lets ``client`` (None: nobody yet) chat."""
        if self.asks_site_user:
            if client is None or client.external_id is None:
                return False
            return client.verified or not self.require_verified_identity
        if self.offers_form:
            if client is None:
                return False
            # The form gave an email (a contact's, or one kept by the client until confirmed).
            gave_email = client.contact_id is not None or client.email is not None
            return gave_email or (self.offers_guest and client.is_guest)
        return True


class Agent(UserMixin, BaseModel):
    """A member of the support team who signs in to the admin."""

    email = CharField(unique=True, max_length=EMAIL_MAX_LENGTH)
    name = CharField(max_length=NAME_MAX_LENGTH)
    password_hash = CharField(max_length=255)
    is_admin = BooleanField(default=False)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    # When an admin removed the agent from the team (migration 008). The row stays, so their
    # replies keep their name and ids are never given to someone else.
    removed_at = DateTimeField(null=True)
    # When one of the agent's admin pages last held its live stream (migration 012): refreshed
    # at each stream heartbeat, so an agent counts as online while a page of theirs is open.
    last_seen_at = DateTimeField(null=True)
    # How clients see the agent in the chat (migration 015): a name and a picture of their
    # choosing; by default their name and its initials.
    display_name = CharField(null=True, max_length=NAME_MAX_LENGTH)
    avatar = ForeignKeyField(Image, null=True, backref="+", on_delete="SET NULL", lazy_load=False)
    ONLINE_WINDOW = datetime.timedelta(seconds=45)  # three missed heartbeats: gone
    # How the admin tells this agent of a visitor's message while they look elsewhere
    # (migration 019; set on Your account).
    notify_desktop = BooleanField(default=True)
    notify_sound = BooleanField(default=True)

    @property
    def is_active(self):
        return self.active and self.removed_at is None

    @property
    def chat_name(self):
        """The name clients read on the agent's messages."""
        return self.display_name or self.name

    @property
    def chat_initials(self):
        """The default avatar: the initials of ``chat_name``."""
        return initials(self.chat_name)

    @property
    def admin_name(self):
        """The name the admin shows on the agent's messages and in reports."""
        return f"{self.name} (former agent)" if self.removed_at else self.name

    # The session token of the sign-in this object was loaded for (or just created by): what
    # Flask-Login keeps in the session and remember-me cookies instead of the agent's id.
    session_token = None
    session = None  # that sign-in's AgentSession row

    def get_id(self):
        """Flask-Login's "alternative id": the current sign-in's token, never the bare agent id,
        so that a cookie stops working when its session is ended on the server."""
        if not self.session_token:
            raise RuntimeError("an agent is signed in through AgentSession.start(), not directly")
        return self.session_token

    def set_password(self, password):
        """A new password. For an existing agent, every sign-in ends: whoever knew the old one
        and signed in with it is out."""
        self.password_hash = generate_password_hash(password, method=password_hash_method())
        if self.id is not None:
            AgentSession.end_all(self)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @classmethod
    def authenticate(cls, email, password):
        """The active agent with this email and password, else None; an unknown email costs the
        same password check as a known one (against a dummy hash), so timing tells nothing."""
        agent = cls.by_email(email)
        if agent is None:
            check_password_hash(dummy_password_hash(), password)
            return None
        if agent.check_password(password) and agent.is_active:
            return agent
        return None

    @classmethod
    def by_email(cls, email):
        """The agent with this email (case-insensitive), or None."""
        return cls.get_or_none(fn.LOWER(cls.email) == email.strip().lower())

    @classmethod
    def team(cls):
        """Everyone on the team (deactivated too, not removed), admins first, then by name."""
        return cls.select().where(cls.removed_at.is_null()).order_by(cls.is_admin.desc(), cls.name)

    def remove_from_team(self):
        """Take the agent off the team for good, keeping the row their replies point to.

        They can no longer sign in, their email is free for a new agent (it is kept nowhere)
        and the name stays on their replies, which the admin marks "former agent".
        """
        with database.atomic():
            self.removed_at = utcnow()
            self.active = False
            self.is_admin = False
            self.email = f"removed-{self.id}@invalid"
            self.password_hash = "!removed"  # no password hash looks like this
            self.save()
            AgentSession.end_all(self)
            Conversation.update(assignee=None, assigned_at=utcnow()).where(
                Conversation.assignee == self.id
            ).execute()

    def mark_online(self):
        """Note that one of this agent's admin pages is open now."""
        Agent.update(last_seen_at=utcnow()).where(Agent.id == self.id).execute()

    @classmethod
    def online(cls):
        """Active agents with an admin page open (seen within ``ONLINE_WINDOW``)."""
        return cls.select().where(
            cls.active,
            cls.removed_at.is_null(),
            cls.last_seen_at > utcnow() - cls.ONLINE_WINDOW,
        )

    @classmethod
    def anyone_online(cls):
        """Whether at least one agent has the admin open: the widget says "online"."""
        return cls.online().exists()

    @classmethod
    def last_seen(cls):
        """When an agent last had the admin open, or None if nobody ever had."""
        return cls.select(fn.MAX(cls.last_seen_at)).scalar()

    @classmethod
    def to_mail_about(cls, conversation):
        """Who gets the email of a conversation's new visitor messages: the agent it is
        assigned to, or every active agent while it is unassigned (or its assignee left)."""
        team = cls.assignable()
        if conversation.assignee_id is not None:
            assignee = list(team.where(cls.id == conversation.assignee_id))
            if assignee:
                return assignee
        return list(team)

    @classmethod
    def assignable(cls):
        """The agents a conversation can be given to: active team members, by name."""
        return cls.select().where(cls.active, cls.removed_at.is_null()).order_by(cls.name, cls.id)

    @classmethod
    def active_admin_count(cls):
        return cls.select().where(cls.is_admin & cls.active).count()

    def is_last_active_admin(self):
        """Whether taking admin rights or access from this agent would leave nobody in charge."""
        return self.is_admin and self.active and Agent.active_admin_count() <= 1

    @classmethod
    def create_with_password(cls, email, name, password, is_admin=False):
        agent = cls(email=email.strip().lower(), name=name, is_admin=is_admin)
        agent.set_password(password)
        agent.save()
        return agent


class Contact(BaseModel):
    """A person known by email, saved when a client fills in the widget's form."""

    widget = ForeignKeyField(Widget, backref="contacts", on_delete="CASCADE")
    email = CharField(max_length=EMAIL_MAX_LENGTH)
    name = CharField(max_length=NAME_MAX_LENGTH)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        # One contact per email; the list, most recent first (migration 009).
        indexes = ((("widget", "email"), True), (("updated_at", "id"), False))

    @classmethod
    def search(cls, query=""):
        """Contacts whose name or email contains ``query`` (any case), most recent first."""
        found = cls.select().order_by(cls.updated_at.desc(), cls.id.desc())
        query = query.strip()
        if query:
            found = found.where(cls.name.contains(query) | cls.email.contains(query))
        return found

    def conversations(self):
        """Every conversation of every browser that identified as this contact, newest first."""
        return (
            Conversation.select(Conversation, Client)
            .join(Client)
            .where(Client.contact == self.id)
            .order_by(Conversation.last_message_at.desc())
        )

    def browsers(self):
        """Every client row of this contact, and the other browsers linked to them."""
        own = Client.select(Client.id).where(Client.contact == self.id)
        return Client.with_linked_browsers(own)

    def personal_data_counts(self):
        """What erasing this contact deletes, counted (see ``PersonalData``)."""
        return PersonalData(self.browsers()).counts()

    def erase(self):
        """Delete everything of this person: browsers, conversations and all, then the contact."""
        with database.atomic():
            counts = PersonalData(self.browsers()).erase()
            self.delete_instance()
        return counts

    @classmethod
    def for_email(cls, widget, email):
        """The widget's contact for this email (any case), or None."""
        return cls.get_or_none(cls.widget == widget, cls.email == email.lower())

    @classmethod
    def create_if_new(cls, widget, name, email):
        """A new contact for an address nobody gave before; None when it exists already.

        What an unconfirmed email may do: start a contact, never rename or join one."""
        if cls.for_email(widget, email) is not None:
            return None
        try:
            with database.atomic():
                return cls.create(widget=widget, email=email.lower(), name=name)
        except IntegrityError:  # another request created it in between
            return None

    @property
    def confirmed(self):
        """Whether a client proved this email is theirs (a confirmation link, or signed)."""
        return (
            Client.select()
            .where((Client.contact == self.id) & (Client.email_confirmed == True))  # noqa: E712
            .exists()
        )

    @classmethod
    def upsert(cls, widget, name, email):
        """The widget's contact for this email, created or renamed: one contact per email.

        Only for a confirmed email (a signed identity, or a clicked confirmation link)."""
        email = email.lower()
        contact = cls.get_or_none(cls.widget == widget, cls.email == email)
        if contact is None:
            try:
                with database.atomic():
                    return cls.create(widget=widget, email=email, name=name)
            except IntegrityError:  # another request created it in between
                contact = cls.get(cls.widget == widget, cls.email == email)
        if contact.name != name:
            contact.name = name
            contact.updated_at = utcnow()
            contact.save()
        return contact


class Client(BaseModel):
    """Someone chatting in a widget, recognised by the random token their browser keeps.

    A client is an anonymous visitor, a guest, a contact from the form, or a user the site
    described through code (``external_id`` and ``custom_data``).
    """

    widget = ForeignKeyField(Widget, backref="clients", on_delete="CASCADE")
    token_hash = CharField(max_length=64)
    contact = ForeignKeyField(Contact, null=True, backref="clients", on_delete="SET NULL")
    is_guest = BooleanField(default=False)
    external_id = CharField(null=True, max_length=255)
    name = CharField(null=True, max_length=NAME_MAX_LENGTH)
    email = CharField(null=True, max_length=EMAIL_MAX_LENGTH)
    custom_data = TextField(null=True)
    # True when the site's server signed the identity (code type); only then may the client be
    # tied to a contact or to the same user's other browsers.
    verified = BooleanField(default=False)
    # Whether the client proved ``email`` is theirs: signed by the site, or by clicking the
    # confirmation link mailed to it. Until then the email is only what they typed: it never
    # renames or joins an existing contact, and no transcript goes to it.
    email_confirmed = BooleanField(default=False)
    # Another browser of the same verified user: requests with this token act as that client.
    linked_to = ForeignKeyField("self", null=True, backref="linked", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    # The newest agent reply the client saw in the open widget, and the newest mailed to them as
    # unread (migration 013; see ``unread_replies``).
    replies_read_upto = BigIntegerField(default=0)
    replies_mailed_upto = BigIntegerField(default=0)
    SEEN_PRECISION = datetime.timedelta(minutes=1)  # how stale a message lets it get

    class Meta:
        indexes = ((("widget", "token_hash"), True),)

    @classmethod
    def row_for_token(cls, widget, token):
        """The row this token was given, before following a link to another browser's client."""
        return cls.get_or_none(cls.widget == widget, cls.token_hash == hash_token(token))

    @classmethod
    def by_token(cls, widget, token):
        """The widget's client this token acts as, or None."""
        row = cls.row_for_token(widget, token)
        return row.acting_client if row is not None else None

    @property
    def acting_client(self):
        """The client a token's row acts as: itself, or the verified client it links to."""
        return self.linked_to if self.linked_to_id else self

    @classmethod
    def identify_verified(cls, widget, token, user):
        """The one client of a verified site user, this browser attached to it.

        The first browser's row becomes the user's client; later browsers link to it, so the
        user finds their conversations wherever they sign in. A verified email ties the client
        to the widget's contact for that email.
        """
        user = dict(user)
        external_id = user.pop("id")
        own = cls.row_for_token(widget, token)
        if own is not None:
            own.seen()  # lock this browser's row first, in the order sending a message does
        client = cls.get_or_none(
            cls.widget == widget,
            cls.external_id == external_id,
            cls.verified == True,  # noqa: E712 (peewee builds SQL from ==)
            cls.linked_to.is_null(),
        )
        if client is None:
            client = own or cls.for_token(widget, token)
            client.linked_to = None
        elif own is None:
            cls.create(widget=widget, token_hash=hash_token(token), linked_to=client)
        elif own.id != client.id:
            # The same person, now proven, on a browser they used unverified: one history.
            Conversation.update(client=client).where(Conversation.client == own.id).execute()
            Message.update(client=client).where(Message.client == own.id).execute()
            own.linked_to = client
            own.external_id = external_id
            own.save()
        client.external_id = external_id
        client.verified = True
        client.describe(user)
        if user.get("email"):
            client.email_confirmed = True  # the site signed it
        if client.email_confirmed:
            name = (client.name or client.email)[:NAME_MAX_LENGTH]
            client.contact = Contact.upsert(widget, name, client.email)
        client.save()
        return client

    def describe(self, user):
        """Take name, email and the other fields of a site user (``id`` already taken out).

        Without an email in the site's data, an email the visitor left in the widget stays
        (still unconfirmed): the site passes its data again on every page."""
        user = dict(user)
        self.name = user.pop("name", None)
        if "email" in user:
            email = user.pop("email")
            if email != self.email:
                self.email, self.email_confirmed = email, False
        self.custom_data = json.dumps(user) if user else None

    def give_typed_email(self, name, email):
        """Take the name and email typed in the widget's form, unconfirmed.

        A new address becomes a contact (the form type's promise). An address a contact
        already has only stays with this client: that contact is not renamed, and this client
        does not join its history, until the email is confirmed (``confirm_email``).
        """
        email = email.lower()
        if email != self.email:
            self.email, self.email_confirmed = email, False
        self.name = name
        contact_name = (name or email)[:NAME_MAX_LENGTH]  # None: an email left mid-chat
        if self.email_confirmed:  # the same address, proven earlier: as a signed one
            self.contact = Contact.upsert(self.widget, contact_name, email)
            return
        existing = Contact.for_email(self.widget, email)
        if existing is None:
            self.contact = Contact.create_if_new(self.widget, contact_name, email)
        elif existing.id != self.contact_id:  # someone else's contact: not joined
            self.contact = None

    def confirm_email(self):
        """The client clicked the link mailed to their email: it is theirs, so it now ties
        them to the contact for it (created, or renamed to the name they gave)."""
        self.email_confirmed = True
        name = (self.name or self.email)[:NAME_MAX_LENGTH]
        self.contact = Contact.upsert(self.widget, name, self.email)
        self.save()

    @property
    def claimed_contact(self):
        """The existing contact whose email this client typed but has not confirmed, or None."""
        if self.email_confirmed or not self.email:
            return None
        contact = Contact.for_email(self.widget_id, self.email)
        return contact if contact is not None and contact.id != self.contact_id else None

    @classmethod
    def revoke_token(cls, widget, token):
        """End this browser's session: the token stops working (logout on the host page).

        Returns the client the token acted as (whose streams must now look again), or None.
        """
        row = cls.row_for_token(widget, token)
        if row is None:
            return None
        row.token_hash = hash_token(secrets.token_hex(32))
        row.save()
        return row.acting_client

    def holds_token(self, token):
        """Whether ``token`` still acts as this client (not revoked by a logout)."""
        row = Client.row_for_token(self.widget_id, token)
        return row is not None and (row.linked_to_id or row.id) == self.id

    @classmethod
    def for_token(cls, widget, token):
        """The widget's client holding this token, created on first use."""
        client = cls.by_token(widget, token)
        return client if client is not None else cls.create_for_token(widget, token)

    @classmethod
    def create_for_token(cls, widget, token):
        """A new client for a token that has none yet (or the one a parallel request made)."""
        try:
            with database.atomic():
                return cls.create(widget=widget, token_hash=hash_token(token))
        except IntegrityError:  # a parallel request created it first
            return cls.get(cls.widget == widget, cls.token_hash == hash_token(token))

    @classmethod
    def with_linked_browsers(cls, client_ids):
        """The ids of the clients ``client_ids`` (a query) and of every browser linked to them."""
        ids = [client_id for (client_id,) in client_ids.tuples()]
        linked = cls.select(cls.id).where(cls.linked_to.in_(ids)).tuples()
        return sorted(set(ids) | {client_id for (client_id,) in linked})

    def browsers(self):
        """This client's row and the other browsers linked to it."""
        return Client.with_linked_browsers(Client.select(Client.id).where(Client.id == self.id))

    def personal_data_counts(self):
        """What erasing this client deletes, counted (see ``PersonalData``)."""
        return PersonalData(self.browsers()).counts()

    def erase(self):
        """Delete everything of this visitor: their browsers, conversations, messages and all."""
        with database.atomic():
            return PersonalData(self.browsers()).erase()

    @property
    def custom_fields(self):
        """The extra fields the site passed through code, as a dict."""
        return json.loads(self.custom_data) if self.custom_data else {}

    @property
    def display_name(self):
        """How agents see this client: a contact's or site user's name, else "Visitor #N"."""
        if self.contact_id and (self.email_confirmed or not self.name):
            return self.contact.name
        if self.name:
            return self.name
        return f"Visitor #{self.id}"

    @property
    def known_name(self):
        """The name the client gave (form or site data), or None for visitors and guests."""
        return self.display_name if (self.contact_id or self.name) else None

    @property
    def display_email(self):
        """The client's email: the one they gave (see ``email_confirmed``), else their contact's."""
        if self.contact_id and (self.email_confirmed or not self.email):
            return self.contact.email
        return self.email

    @property
    def kind(self):
        """A short word for how the client identified: contact, site user, guest or visitor."""
        if self.external_id:
            return "site user" if self.verified else "site user (unverified)"
        if self.contact_id or self.email:  # the form: a contact's, or one they typed
            return "contact"
        if self.is_guest:
            return "guest"
        return "visitor"

    def current_conversation(self):
        """The client's open conversation, or None when they have not written yet."""
        return (
            self.conversations.where(Conversation.status == Conversation.OPEN)
            .order_by(Conversation.id.desc())
            .first()
        )

    def latest_conversation(self):
        """The conversation the widget shows: the newest, open or closed."""
        return self.conversations.order_by(Conversation.id.desc()).first()

    def post_message(self, body, client_msg_id=None, **context):
        """Store the client's message in their open conversation; returns (conversation, message).

        The conversation's row is found and touched in one statement, which also locks it, so
        messages of one conversation get their ids in commit order. The first message starts
        the conversation, with the ``context`` it was written in (see ``start_conversation``).
        A resend with the same client-made id returns the first message, stored once.
        """
        now = utcnow()
        try:
            with database.atomic():
                if self.last_seen_at < now - self.SEEN_PRECISION:
                    self.seen()
                conversation = Conversation.touch_open(self, now) or self.start_conversation(
                    now, **context
                )
                message = Message.create(
                    conversation=conversation,
                    client=self,
                    sender=Message.FROM_CLIENT,
                    body=body,
                    client_msg_id=client_msg_id,
                    created_at=now,
                )
        except IntegrityError:  # a resend: the unique (client, client_msg_id) refused it
            # Everything above was rolled back, a conversation started for it too.
            message = Message.sent_by(self.id, client_msg_id) if client_msg_id else None
            if message is None:
                raise
            conversation = message.conversation
        return conversation, message

    def start_conversation(self, now, page_url=None, browser_language=None, language=None):
        """The conversation a first message goes to; call it inside the message's transaction.

        Touching the client's row first makes two first messages sent at once wait for each
        other, so the second finds (and touches) the conversation the first one started.
        """
        self.seen()
        return Conversation.touch_open(self, now) or Conversation.create(
            widget=self.widget_id,
            client=self,
            page_url=page_url,
            browser_language=browser_language,
            language=language,
            last_message_at=now,
        )

    def seen(self):
        """Note that the client is here now (and lock their row until the transaction ends)."""
        self.last_seen_at = utcnow()
        Client.update(last_seen_at=self.last_seen_at).where(Client.id == self.id).execute()

    # Replies that arrive while the widget is closed: the launcher's count, the unread-reply mail.

    PREVIEW_LENGTH = 80  # characters of the newest unread reply the host page shows
    UNREAD_MAIL_WINDOW = datetime.timedelta(days=1)  # older unread replies are never mailed

    def unread_replies(self):
        """Agents' replies in the client's conversations that the client has not seen yet."""
        return (
            Message.select()
            .join(Conversation)
            .where(
                (Conversation.client == self.id)
                & (Message.sender == Message.FROM_AGENT)
                & (Message.id > self.replies_read_upto)
            )
            .order_by(Message.id)
        )

    def unread_notice(self):
        """(how many replies are unread, the newest one's first words as plain text)."""
        count = self.unread_replies().count()
        if not count:
            return 0, ""
        newest = self.unread_replies().order_by(Message.id.desc()).first()
        text = " ".join(newest.body.split())
        if len(text) > self.PREVIEW_LENGTH:
            text = text[: self.PREVIEW_LENGTH - 1].rstrip() + "…"
        return count, text

    def mark_replies_read(self):
        """The client has seen every reply so far: the open widget showed them."""
        newest = self.unread_replies().select(fn.MAX(Message.id)).order_by().scalar()
        if not newest:
            return
        with database.atomic():
            Client.update(replies_read_upto=newest).where(
                (Client.id == self.id) & (Client.replies_read_upto < newest)
            ).execute()
        self.replies_read_upto = max(self.replies_read_upto, newest)

    @classmethod
    def owed_unread_mail(cls, widget, now):
        """The widget's clients with a proven address and a reply they have neither seen nor been
        mailed, written at least the widget's ``unread_mail_delay`` ago (and within a day)."""
        waited = now - datetime.timedelta(minutes=widget.unread_mail_delay)
        pending = (
            Message.select(Message.id)
            .join(Conversation)
            .where(
                (Conversation.client == cls.id)
                & (Message.sender == Message.FROM_AGENT)
                & (Message.id > cls.replies_read_upto)
                & (Message.id > cls.replies_mailed_upto)
                & (Message.created_at <= waited)
                & (Message.created_at > now - cls.UNREAD_MAIL_WINDOW)
            )
        )
        return cls.select().where(
            (cls.widget == widget)
            & cls.email_confirmed  # a signed email is confirmed too; a left one must be
            & cls.linked_to.is_null()
            & fn.EXISTS(pending)
        )

    def claim_unread_for_mail(self):
        """The unread replies one mail should carry, oldest first; claimed at once, so no other
        run (or process) mails them again. Empty when there is nothing, or another run won."""
        with database.atomic():
            replies = list(self.unread_replies().where(Message.id > self.replies_mailed_upto))
            if not replies:
                return []
            claimed = (
                Client.update(replies_mailed_upto=replies[-1].id)
                .where(
                    (Client.id == self.id)
                    & (Client.replies_mailed_upto == self.replies_mailed_upto)
                )
                .execute()
            )
        return replies if claimed else []


class Conversation(BaseModel):
    """A thread of messages between one client and the support team."""

    OPEN = "open"
    CLOSED = "closed"

    widget = ForeignKeyField(Widget, backref="conversations", on_delete="CASCADE")
    client = ForeignKeyField(Client, backref="conversations", on_delete="CASCADE")
    status = CharField(max_length=10, default=OPEN)
    created_at = DateTimeField(default=utcnow)
    last_message_at = DateTimeField(default=utcnow)  # indexed with status (migration 009)
    page_url = CharField(null=True, max_length=1000)
    browser_language = CharField(null=True, max_length=35)
    language = CharField(null=True, max_length=10)  # the widget language the client saw
    # The newest message already mailed to the agents (migration 019, ``flask notify-agents``).
    agents_mailed_upto = BigIntegerField(default=0)
    # When each side last said it was typing (migration 016); see ``note_typing``.
    client_typing_at = DateTimeField(null=True)
    agent_typing_at = DateTimeField(null=True)
    # The agent answering it (migration 017); None: unassigned. Indexed with status (see Meta).
    assignee = ForeignKeyField(
        Agent, null=True, index=False, backref="assigned_conversations", on_delete="SET NULL"
    )
    # When the assignee last changed (migration 017): live inbox rows follow assignments.
    assigned_at = DateTimeField(null=True, index=True)

    # Whose conversations an inbox shows (``inbox(assigned=...)``).
    MINE = "mine"
    UNASSIGNED = "unassigned"
    EVERYONE = "all"
    SEARCH_RESULTS = 50

    class Meta:
        # The inbox: one status, latest activity first (migration 009); and one status of one
        # agent's (or nobody's) conversations (migration 017).
        indexes = (
            (("status", "last_message_at"), False),
            (("assignee", "status", "last_message_at"), False),
        )

    @property
    def is_open(self):
        return self.status == self.OPEN

    @property
    def topics(self):
        """The live-update topics a change to this conversation concerns."""
        return (f"conversation:{self.id}", f"client:{self.client_id}", "inbox")

    @classmethod
    def inbox(cls, agent, status=OPEN, assigned=EVERYONE):
        """Conversations with this status (None: any), latest activity first, in one statement;
        ``assigned``: ``MINE`` (the agent's), ``UNASSIGNED`` or ``EVERYONE``'s.

        Each comes with its client and contact, its assigned agent (``assignee_agent``), its last
        message (not a status change) and that message's agent, its rating (``rating``,
        ``last_message()``) and ``unread``: the agent's unread client messages in it. Every part
        is an index lookup per row (migrations 009, 017).
        """
        read_upto = fn.COALESCE(ReadMark.last_read_id, 0)
        unread = Message.alias("unread_message")
        unread_count = unread.select(fn.COUNT(unread.id)).where(
            (unread.conversation == cls.id)
            & (unread.sender == Message.FROM_CLIENT)
            & (unread.id > read_upto)
        )
        newest = Message.alias("newest")
        last_id = (
            newest.select(newest.id)
            .where((newest.conversation == cls.id) & (newest.sender != Message.FROM_SYSTEM))
            .order_by(newest.id.desc())
            .limit(1)
        )
        last = Message.alias("last_message")
        last_agent = Agent.alias("last_agent")
        assignee = Agent.alias("assignee_agent")
        query = (
            cls.select(
                cls,
                # What a row shows of the client (``display_name``, ``kind``, ``display_email``)
                Client.id,
                Client.contact,
                Client.is_guest,
                Client.external_id,
                Client.name,
                Client.email,
                Client.verified,
                Contact.id,
                Contact.name,
                Contact.email,
                last.id,
                last.sender,
                last.agent,
                last.body,
                last_agent.id,
                last_agent.name,
                last_agent.removed_at,
                assignee.id,
                assignee.name,
                assignee.removed_at,
                Rating.id,
                Rating.good,
                Rating.comment,
                unread_count.alias("unread"),
            )
            .join(Client)
            .join(Contact, JOIN.LEFT_OUTER)
            .switch(cls)
            .join(last, JOIN.LEFT_OUTER, on=(last.id == last_id), attr="preloaded_last")
            .join(last_agent, JOIN.LEFT_OUTER, on=(last.agent == last_agent.id), attr="agent")
            .switch(cls)
            .join(
                assignee, JOIN.LEFT_OUTER, on=(cls.assignee == assignee.id), attr="assignee_agent"
            )
            .switch(cls)
            .join(
                Rating, JOIN.LEFT_OUTER, on=(Rating.conversation == cls.id), attr="preloaded_rating"
            )
            .switch(cls)
            .join(
                ReadMark,
                JOIN.LEFT_OUTER,
                on=((ReadMark.conversation == cls.id) & (ReadMark.agent == agent.id)),
                attr="preloaded_mark",
            )
            .order_by(cls.last_message_at.desc(), cls.id.desc())
        )
        if status is not None:
            query = query.where(cls.status == status)
        if assigned == cls.MINE:
            query = query.where(cls.assignee == agent.id)
        elif assigned == cls.UNASSIGNED:
            query = query.where(cls.assignee.is_null())
        return query

    @classmethod
    def search(cls, agent, text):
        """Conversations whose messages, client or contact match ``text``, as inbox rows.

        Messages match by full-text search (``fulltext``: every word of ``text`` as a word
        prefix, whatever the backend); people by name or email containing ``text``. Any status,
        anyone's, the latest activity first, at most ``SEARCH_RESULTS``. A row found by a
        message carries ``snippet``: that message's words around the match (None otherwise).
        """
        text = text.strip()[:200]
        if not text:
            return []
        found = Message.newest_matching(fulltext.search_words(text), cls.SEARCH_RESULTS)
        people = Client.select(Client.id).join(Contact, JOIN.LEFT_OUTER)
        people = people.where(
            Client.name.contains(text)
            | Client.email.contains(text)
            | Contact.name.contains(text)
            | Contact.email.contains(text)
        )
        rows = list(
            cls.inbox(agent, status=None)
            .where(cls.id.in_(list(found)) | cls.client.in_(people))
            .limit(cls.SEARCH_RESULTS)
        )
        for row in rows:
            body = found.get(row.id)
            row.snippet = fulltext.snippet(body, text) if body else None
        return rows

    def assign(self, agent):
        """Give the conversation to ``agent`` (None: to nobody)."""
        now = utcnow()
        with database.atomic():
            Conversation.update(assignee=agent, assigned_at=now).where(
                Conversation.id == self.id
            ).execute()
        self.assignee, self.assigned_at = agent, now

    def claim(self, agent):
        """Assign the conversation to ``agent`` unless someone has it: whoever answers first.

        One conditional update, so two agents replying at once cannot both take it.
        """
        now = utcnow()
        with database.atomic():
            taken = (
                Conversation.update(assignee=agent, assigned_at=now)
                .where((Conversation.id == self.id) & Conversation.assignee.is_null())
                .execute()
            )
        if taken:
            self.assignee, self.assigned_at = agent, now
        return bool(taken)

    @classmethod
    def unread_count(cls, agent):
        """How many open conversations have client messages this agent has not read.

        One index lookup per open conversation (message: conversation, sender, id), never a
        scan of the messages.
        """
        unread = Message.select(Message.id).where(
            (Message.conversation == cls.id)
            & (Message.sender == Message.FROM_CLIENT)
            & (Message.id > fn.COALESCE(ReadMark.last_read_id, 0))
        )
        return (
            cls.select(fn.COUNT(cls.id))
            .join(
                ReadMark,
                JOIN.LEFT_OUTER,
                on=((ReadMark.conversation == cls.id) & (ReadMark.agent == agent.id)),
            )
            .where((cls.status == cls.OPEN) & fn.EXISTS(unread))
            .scalar()
            or 0
        )

    @classmethod
    def touch_open(cls, client, now):
        """The client's open conversation, its ``last_message_at`` set to ``now``; or None.

        One statement finds, updates and locks the row the client's next message goes to.
        """
        newest = cls.alias()
        newest_open = (
            newest.select(newest.id)
            .where((newest.client == client.id) & (newest.status == cls.OPEN))
            .order_by(newest.id.desc())
            .limit(1)
        )
        touched = (
            cls.update(last_message_at=now)
            .where((cls.id == newest_open) & (cls.status == cls.OPEN))
            .returning(cls)
        )
        return next(iter(touched.execute()), None)

    @property
    def rating(self):
        """The client's rating of this conversation, or None (read with it by ``inbox()``)."""
        if "preloaded_rating" in self.__dict__:
            return self.__dict__["preloaded_rating"]
        return Rating.get_or_none(Rating.conversation == self.id)

    def messages_in_order(self):
        """Every message, agents' notes too: what the admin shows."""
        return self.messages.order_by(Message.id)

    def messages_for_client(self):
        """What the client may see of this conversation (no internal notes), in order."""
        return self.messages.where(Message.visible_to_client()).order_by(Message.id)

    @classmethod
    def awaiting_agent_mail(cls):
        """{conversation: [client messages]} that must be mailed to the agents.

        Client messages past each conversation's ``agents_mailed_upto``, written after the last
        time an agent had the admin open (the page told whoever was there of the earlier ones).
        """
        last_seen = Agent.last_seen()
        query = (
            Message.select(Message, cls)
            .join(cls)
            .where((Message.sender == Message.FROM_CLIENT) & (Message.id > cls.agents_mailed_upto))
            .order_by(Message.conversation, Message.id)
        )
        if last_seen is not None:
            query = query.where(Message.created_at > last_seen)
        pending = {}
        for message in query:
            pending.setdefault(message.conversation, []).append(message)
        return pending

    def claim_agent_mail(self, previous, upto):
        """Move ``agents_mailed_upto`` from ``previous`` to ``upto``; False if it was not at
        ``previous`` (another run claimed these messages first)."""
        with database.atomic():
            moved = (
                Conversation.update(agents_mailed_upto=upto)
                .where((Conversation.id == self.id) & (Conversation.agents_mailed_upto == previous))
                .execute()
            )
        if moved:
            self.agents_mailed_upto = upto
        return bool(moved)

    def has_agent_reply(self):
        """Whether an agent has answered yet: only then may the client rate the chat."""
        return self.messages.where(Message.sender == Message.FROM_AGENT).exists()

    # One typing event per side every few seconds reaches the other side, whose indicator
    # goes away by itself a few seconds after the last one (see widget.css and admin.css).
    TYPING_EVERY = datetime.timedelta(seconds=3)
    TYPING_SHOWN = datetime.timedelta(seconds=6)

    def note_typing(self, side):
        """Note that the ``side`` ("client" or "agent") is typing; False when it said so less
        than ``TYPING_EVERY`` ago (nothing changes, nobody need be told)."""
        field = Conversation.client_typing_at if side == "client" else Conversation.agent_typing_at
        now = utcnow()
        with database.atomic():
            changed = (
                Conversation.update({field: now})
                .where(
                    (Conversation.id == self.id)
                    & (field.is_null() | (field <= now - self.TYPING_EVERY))
                )
                .execute()
            )
        return bool(changed)

    def client_typing_since(self, seen):
        """When the client last said they were typing here, if after ``seen`` and recent enough
        to show; else None. Read afresh from the database."""
        at = Conversation.select(Conversation.client_typing_at).where(Conversation.id == self.id)
        return self.fresh_typing(at.scalar(), seen)

    @classmethod
    def agent_typing_since(cls, client, seen):
        """When an agent last said they were typing in ``client``'s latest conversation, if
        after ``seen`` and recent enough to show; else None. One query."""
        latest = (
            cls.select(cls.agent_typing_at)
            .where(cls.client == client.id)
            .order_by(cls.id.desc())
            .limit(1)
        )
        return cls.fresh_typing(latest.scalar(), seen)

    @classmethod
    def fresh_typing(cls, at, seen):
        """``at`` if it is news (after ``seen``) and not older than ``TYPING_SHOWN``; else None."""
        if at is None or (seen is not None and at <= seen) or at < utcnow() - cls.TYPING_SHOWN:
            return None
        return at

    def last_message(self):
        """The newest message that is not a status change, or None (read by ``inbox()``)."""
        if "preloaded_last" in self.__dict__:
            return self.__dict__["preloaded_last"]
        return (
            self.messages.where(Message.sender != Message.FROM_SYSTEM)
            .order_by(Message.id.desc())
            .first()
        )

    def messages_for_agent_after(self, agent, after, upto=None):
        """What an agent viewing this conversation has not been shown: others' messages (up to
        message ``upto``, when given)."""
        found = self.messages.where(
            (Message.id > after) & ((Message.agent.is_null()) | (Message.agent != agent.id))
        )
        if upto is not None:
            found = found.where(Message.id <= upto)
        return found.order_by(Message.id)

    def add_message(self, body, sender, agent=None, client_msg_id=None):
        """Store a message once: a resend with the same client-made id returns the first one.

        A client's message ids are unique across all of their conversations, so a resend that
        arrives after the conversation was closed (and a new one started) finds the first too.
        The caller publishes ``self.topics`` once its transaction is committed.
        """
        client = self.client_id if sender == Message.FROM_CLIENT else None
        resend_key = client is not None and client_msg_id
        if resend_key:
            existing = Message.sent_by(client, client_msg_id)
            if existing:
                return existing
        now = utcnow()
        try:
            with database.atomic():
                # Updating the conversation first takes its row lock, so messages of one
                # conversation get their ids in commit order: a stream that has sent id N never
                # sees a smaller id commit later.
                Conversation.update(last_message_at=now).where(Conversation.id == self.id).execute()
                message = Message.create(
                    conversation=self,
                    client=client,
                    sender=sender,
                    agent=agent,
                    body=body,
                    client_msg_id=client_msg_id,
                    created_at=now,
                )
        except IntegrityError:  # the same resend raced the first request
            existing = Message.sent_by(client, client_msg_id) if resend_key else None
            if existing is None:
                raise
            return existing
        return message

    def set_status(self, status, agent):
        """Close or reopen, leaving a system message both sides see in the thread."""
        if self.status == status:
            return None
        with database.atomic():
            self.status = status
            self.save()
            return self.add_message(status, Message.FROM_SYSTEM, agent=agent)

    def mark_read(self, agent, upto=None):
        """Note that the agent has seen this conversation up to message ``upto`` (default: all)."""
        if upto is None:
            last = self.messages.order_by(Message.id.desc()).first()
            upto = last.id if last else 0
        with database.atomic():
            mark, created = ReadMark.get_or_create(
                agent=agent, conversation=self, defaults={"last_read_id": upto}
            )
            if not created and mark.last_read_id < upto:
                mark.last_read_id = upto
                mark.save()


class Message(BaseModel):
    """One message in a conversation, from the client or from an agent."""

    FROM_CLIENT = "client"
    FROM_AGENT = "agent"
    FROM_SYSTEM = "system"  # body is the conversation's new status: "closed" or "open"
    FROM_NOTE = "note"  # an agent's internal note: never shown to the client

    # Indexed with id, and with sender and id (see Meta).
    conversation = ForeignKeyField(
        Conversation, backref="messages", index=False, on_delete="CASCADE"
    )
    # Who wrote it, for a client's messages (None for agents' and system messages). No index
    # of its own: the unique index on (client, client_msg_id) starts with it.
    client = ForeignKeyField(Client, null=True, index=False, backref="+", on_delete="CASCADE")
    sender = CharField(max_length=10)
    agent = ForeignKeyField(Agent, null=True, backref="messages", on_delete="SET NULL")
    body = TextField()
    client_msg_id = CharField(null=True, max_length=64)  # the widget's id for a resend
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            # A client's message ids are unique across their conversations (migration 007).
            (("client", "client_msg_id"), True),
            # A conversation's messages in order, its newest one; and its client's messages
            # past an agent's read mark: unread counts without reading messages (migration 009).
            (("conversation", "id"), False),
            (("conversation", "sender", "id"), False),
        )

    @classmethod
    def sent_by(cls, client, client_msg_id):
        """The message ``client`` sent with this client-made id, in any conversation, or None."""
        return cls.get_or_none((cls.client == client) & (cls.client_msg_id == client_msg_id))

    @property
    def from_client(self):
        return self.sender == self.FROM_CLIENT

    @property
    def is_system(self):
        return self.sender == self.FROM_SYSTEM

    @property
    def is_note(self):
        return self.sender == self.FROM_NOTE

    @classmethod
    def visible_to_client(cls):
        """The condition on the messages a client may see: all but internal notes."""
        return cls.sender != cls.FROM_NOTE

    @classmethod
    def from_clients_after(cls, after):
        """Clients' messages with an id past ``after``, oldest first, with their conversation
        and client: what the admin's live stream notifies an agent of."""
        return (
            cls.select(cls, Conversation, Client)
            .join(Conversation)
            .join(Client)
            .where((cls.sender == cls.FROM_CLIENT) & (cls.id > after))
            .order_by(cls.id)
        )

    def starts_conversation(self):
        """Whether this is the first client message of its conversation."""
        earlier = Message.select().where(
            (Message.conversation == self.conversation_id)
            & (Message.sender == Message.FROM_CLIENT)
            & (Message.id < self.id)
        )
        return not earlier.exists()

    def sender_label(self, labels):
        """Who wrote it, as the client reads it: "You", the agent's name, or "Support"."""
        if self.from_client:
            return labels("chat.you")
        if not self.agent:
            return labels("chat.agent")
        return self.agent.chat_name  # never "former agent"

    @property
    def sender_key(self):
        """Who wrote it, for grouping consecutive messages: the client, an agent, the system."""
        return f"agent:{self.agent_id}" if self.sender == self.FROM_AGENT else self.sender

    def previous(self):
        """The message before this one in its conversation, or None."""
        return (
            Message.select()
            .where(Message.conversation == self.conversation_id, Message.id < self.id)
            .order_by(Message.id.desc())
            .first()
        )

    def is_first_answer(self):
        """Whether this is the first agent's message of its conversation."""
        return self.sender == self.FROM_AGENT and not (
            Message.select()
            .where(
                (Message.conversation == self.conversation_id)
                & (Message.sender == self.FROM_AGENT)
                & (Message.id < self.id)
            )
            .exists()
        )

    def status_label(self, labels):
        """A system message as the client reads it: closed, or reopened."""
        return labels("chat.closed" if self.body == Conversation.CLOSED else "chat.reopened")

    @classmethod
    def newest_matching(cls, words, limit):
        """{conversation id: body of its newest message matching every word}, for the
        ``limit`` conversations with the newest matches (status changes never match)."""
        if not words:
            return {}
        newest = (
            cls.select(fn.MAX(cls.id))
            .where(fulltext.matches(cls, words) & (cls.sender != cls.FROM_SYSTEM))
            .group_by(cls.conversation)
            .order_by(fn.MAX(cls.id).desc())
            .limit(limit)
        )
        ids = [message_id for (message_id,) in newest.tuples()]
        if not ids:
            return {}
        return dict(cls.select(cls.conversation, cls.body).where(cls.id.in_(ids)).tuples())

    @classmethod
    def last_id_for(cls, client):
        """The client's newest message id, in any conversation: where their stream starts."""
        if client is None:
            return 0
        newest = cls.select(fn.MAX(cls.id)).join(Conversation)
        return newest.where(Conversation.client == client.id).scalar() or 0

    @classmethod
    def for_client_after(cls, client, after):
        """What the client's widget has not shown yet: agents' and system messages."""
        return (
            cls.select()
            .join(Conversation)
            .where(
                (Conversation.client == client.id)
                & (cls.id > after)
                & (cls.sender != cls.FROM_CLIENT)
                & cls.visible_to_client()
            )
            .order_by(cls.id)
        )


class AgentSession(BaseModel):
    """One sign-in of an agent: its cookies hold a random token, the table only its sha256.

    Signing out, deactivation, removal and a password change delete the rows, so a copied
    cookie stops working at once. A "keep me signed in" session lasts REMEMBER_COOKIE_DURATION
    (30 days) from the sign-in and gets a new token each time the remember-me cookie is used;
    another lasts SESSION_IDLE_HOURS from its last use.
    """

    token_hash = CharField(max_length=64, unique=True)
    agent = ForeignKeyField(Agent, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    remember = BooleanField(default=False)
    user_agent = CharField(null=True, max_length=USER_AGENT_MAX_LENGTH)
    ip = CharField(null=True, max_length=64)
    # The token before the last rotation, honoured for ROTATION_GRACE after it: two tabs that
    # a restarted browser opens at once both come in with the old remember-me cookie.
    previous_token_hash = CharField(null=True, max_length=64, index=True)
    rotated_at = DateTimeField(null=True)

    SESSION_IDLE = datetime.timedelta(hours=12)
    REMEMBER = datetime.timedelta(days=30)
    ROTATION_GRACE = datetime.timedelta(seconds=30)
    SEEN_EVERY = datetime.timedelta(minutes=1)  # last_seen_at is written at most this often

    @classmethod
    def lifetime(cls, remember):
        if remember and has_app_context():
            duration = current_app.config.get("REMEMBER_COOKIE_DURATION") or cls.REMEMBER
            if isinstance(duration, int | float):
                duration = datetime.timedelta(seconds=duration)
            return duration
        return cls.REMEMBER if remember else cls.SESSION_IDLE

    @classmethod
    def start(cls, agent, remember=False, user_agent=None, ip=None):
        """A new sign-in for ``agent``; the agent comes back carrying its token (``get_id``)."""
        now = utcnow()
        token = secrets.token_urlsafe(32)
        with database.atomic():
            cls.delete().where((cls.agent == agent) & (cls.expires_at < now)).execute()
            row = cls.create(
                token_hash=hash_token(token),
                agent=agent,
                created_at=now,
                last_seen_at=now,
                expires_at=now + cls.lifetime(remember),
                remember=bool(remember),
                user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH] or None,
                ip=(ip or "")[:64] or None,
            )
        agent.session_token, agent.session = token, row
        return agent

    @classmethod
    def agent_for_token(cls, token, ip=None):
        """The active agent a cookie's token signs in, carrying the token and its session; None
        for an unknown, ended or expired session, or an agent who may no longer sign in."""
        if not token or len(token) > 100:
            return None
        now = utcnow()
        token_hash = hash_token(token)
        row = (
            cls.select(cls, Agent)
            .join(Agent)
            .where(
                (cls.expires_at > now)
                & (
                    (cls.token_hash == token_hash)
                    | (
                        (cls.previous_token_hash == token_hash)
                        & (cls.rotated_at > now - cls.ROTATION_GRACE)
                    )
                )
            )
            .first()
        )
        if row is None or not row.agent.is_active:
            return None
        if now - row.last_seen_at >= cls.SEEN_EVERY or (ip and ip != row.ip):
            row.last_seen_at = now
            row.ip = (ip or row.ip or "")[:64] or None
            if not row.remember:
                row.expires_at = now + cls.SESSION_IDLE
            row.save(only=[cls.last_seen_at, cls.ip, cls.expires_at])
        agent = row.agent
        agent.session_token, agent.session = token, row
        return agent

    def rotate(self, presented):
        """A new token for this session, whose cookie came in with ``presented`` (the remember-me
        cookie was used); the old one works only for ROTATION_GRACE more. Returns the new token,
        or None when ``presented`` is already the previous one (a parallel request rotated)."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        updated = (
            AgentSession.update(
                token_hash=hash_token(token),
                previous_token_hash=hash_token(presented),
                rotated_at=now,
                last_seen_at=now,
            )
            .where(
                (AgentSession.id == self.id) & (AgentSession.token_hash == hash_token(presented))
            )
            .execute()
        )
        if not updated:
            return None
        self.token_hash, self.previous_token_hash, self.rotated_at = hash_token(token), None, now
        return token

    def remaining(self):
        return max(self.expires_at - utcnow(), datetime.timedelta(0))

    @classmethod
    def live_for(cls, agent):
        """The agent's sessions that still work, the most recently used first."""
        return (
            cls.select()
            .where((cls.agent == agent) & (cls.expires_at > utcnow()))
            .order_by(cls.last_seen_at.desc(), cls.id.desc())
        )

    def end(self):
        AgentSession.delete().where(AgentSession.id == self.id).execute()

    @classmethod
    def end_all(cls, agent, keep=None):
        """End every session of ``agent`` (but ``keep``); returns how many ended."""
        query = cls.delete().where(cls.agent == agent)
        if keep is not None:
            query = query.where(cls.id != keep.id)
        return query.execute()


class ReadMark(BaseModel):
    """How far an agent has read a conversation: the source of unread counts."""

    agent = ForeignKeyField(Agent, backref="read_marks", on_delete="CASCADE")
    conversation = ForeignKeyField(Conversation, backref="read_marks", on_delete="CASCADE")
    last_read_id = BigIntegerField(default=0)

    class Meta:
        indexes = ((("agent", "conversation"), True),)


class LabelOverride(BaseModel):
    """A widget's own wording for one label in one language (the label editor)."""

    widget = ForeignKeyField(Widget, backref="label_overrides", on_delete="CASCADE")
    language = CharField(max_length=10)
    key = CharField(max_length=64)
    text = TextField()

    class Meta:
        indexes = ((("widget", "language", "key"), True),)

    @classmethod
    def for_widget(cls, widget, language):
        """{key: text} of the widget's overrides in ``language``."""
        rows = cls.select(cls.key, cls.text).where(
            (cls.widget == widget) & (cls.language == language)
        )
        return {row.key: row.text for row in rows}

    @classmethod
    def replace_all(cls, widget, language, overrides):
        """Make ``overrides`` ({key: text}) the widget's whole wording in ``language``."""
        with database.atomic():
            cls.delete().where((cls.widget == widget) & (cls.language == language)).execute()
            for key, text in overrides.items():
                cls.create(widget=widget, language=language, key=key, text=text)

    @classmethod
    def reset(cls, widget, language, key=None):
        """Back to the language file's text: one label, or all of them."""
        query = cls.delete().where((cls.widget == widget) & (cls.language == language))
        if key is not None:
            query = query.where(cls.key == key)
        with database.atomic():
            query.execute()


class Rating(BaseModel):
    """A client's verdict on a conversation, good or bad; rating again replaces it."""

    COMMENT_MAX_LENGTH = 1000

    conversation = ForeignKeyField(Conversation, unique=True, backref="+", on_delete="CASCADE")
    good = BooleanField()
    comment = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow, index=True)

    @classmethod
    def rate(cls, conversation, good, comment=None):
        """Store the rating of ``conversation``, replacing an earlier one."""
        with database.atomic():
            rating = cls.get_or_none(cls.conversation == conversation)
            if rating is None:
                try:
                    with database.atomic():
                        return cls.create(conversation=conversation, good=good, comment=comment)
                except IntegrityError:  # rated twice at once: the later one wins below
                    rating = cls.get(cls.conversation == conversation)
            rating.good, rating.comment, rating.updated_at = good, comment, utcnow()
            rating.save()
            return rating

    @classmethod
    def per_day(cls, days=30):
        """[(date, good, bad)] for the last ``days`` days, oldest first, zeros included."""
        since = utcnow() - datetime.timedelta(days=days - 1)
        first_day = since.date()
        counts = {first_day + datetime.timedelta(days=n): [0, 0] for n in range(days)}
        for rating in cls.select(cls.good, cls.updated_at).where(cls.updated_at >= since):
            day = counts.get(rating.updated_at.date())
            if day is not None:
                day[0 if rating.good else 1] += 1
        return [(day, good, bad) for day, (good, bad) in counts.items()]

    @classmethod
    def share_good_per_agent(cls, days=30):
        """[(agent's admin name, ratings, share good)] for agents, former agents too, who replied
        in conversations rated in the last ``days`` days (the ratings ``per_day`` draws): bounded
        by the rating index, and an index lookup per rating for its agents' replies."""
        since = utcnow() - datetime.timedelta(days=days - 1)
        agents = (
            Agent.select(
                Agent,
                fn.COUNT(fn.DISTINCT(cls.id)).alias("total"),
                fn.COUNT(fn.DISTINCT(Case(None, [(cls.good, cls.id)], None))).alias("good"),
            )
            .join(Message, on=(Message.agent == Agent.id))
            .join(cls, on=(cls.conversation == Message.conversation))
            .where((cls.updated_at >= since) & (Message.sender == Message.FROM_AGENT))
            .group_by(Agent)
            .order_by(Agent.name, Agent.id)
        )
        return [(each.admin_name, each.total, (each.good or 0) / each.total) for each in agents]


class CannedReply(BaseModel):
    """A widget's prepared answer, inserted into a reply; ``{name}`` is the client's name."""

    PLACEHOLDER = re.compile(r"\{([^{}\n]{0,40})\}")
    PLACEHOLDERS = ("name",)
    TITLE_MAX_LENGTH = 100

    widget = ForeignKeyField(Widget, backref="canned_replies", on_delete="CASCADE")
    title = CharField(max_length=TITLE_MAX_LENGTH)
    body = TextField()
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def for_widget(cls, widget):
        return cls.select().where(cls.widget == widget).order_by(fn.LOWER(cls.title), cls.id)

    @classmethod
    def unknown_placeholders(cls, text):
        """The ``{placeholders}`` in ``text`` that nothing fills in, in order, once each."""
        found = [name for name in cls.PLACEHOLDER.findall(text) if name not in cls.PLACEHOLDERS]
        return list(dict.fromkeys(found))

    def filled_for(self, client):
        """The text with ``{name}`` replaced by the client's display name."""
        values = {"name": client.display_name}
        return self.PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.body)


class TranscriptMail(BaseModel):
    """One attempt to email a conversation's transcript, kept so admins see what happened."""

    SENT = "sent"
    FAILED = "failed"

    conversation = ForeignKeyField(Conversation, backref="transcript_mails", on_delete="CASCADE")
    recipient = CharField(max_length=EMAIL_MAX_LENGTH, index=True)  # lower case (migration 010)
    requested_by = CharField(max_length=10)  # "client" or "agent"
    status = CharField(max_length=10)
    error = CharField(null=True, max_length=300)
    created_at = DateTimeField(default=utcnow)

    CONFIRM = "confirm"  # a confirmation link went instead: the address was not confirmed

    COOLDOWN = datetime.timedelta(minutes=2)
    PER_RECIPIENT_PER_DAY = 5  # mails (transcripts and confirmation links) to one address

    @classmethod
    def sent_recently(cls, conversation):
        """Whether the client had this conversation mailed moments ago (one mail per 2 minutes)."""
        since = utcnow() - cls.COOLDOWN
        return (
            cls.select()
            .where(
                (cls.conversation == conversation)
                & (cls.requested_by == "client")
                & (cls.status.in_([cls.SENT, cls.CONFIRM]))
                & (cls.created_at > since)
            )
            .exists()
        )

    @classmethod
    def enough_for_today(cls, recipient):
        """Whether ``recipient`` had its day's share of mails, whoever asked, from any browser."""
        since = utcnow() - datetime.timedelta(days=1)
        sent = cls.select().where(
            (cls.recipient == recipient.lower())
            & (cls.status.in_([cls.SENT, cls.CONFIRM]))
            & (cls.created_at > since)
        )
        return sent.count() >= cls.PER_RECIPIENT_PER_DAY


class PersonalData:
    """Everything stored about one person, by the ids of their browsers' client rows.

    Their conversations, the messages in them (agents' replies too) and any message they wrote
    elsewhere, ratings, transcript mail records, read marks, then the client rows. Deleted by
    explicit statements, children first, so nothing depends on how a database's foreign keys
    were made; the caller holds the transaction.
    """

    # What the confirmation page and the flash message count, in this order: (key, one, many).
    NOUNS = (
        ("browsers", "browser", "browsers"),
        ("conversations", "conversation", "conversations"),
        ("messages", "message", "messages"),
        ("ratings", "rating", "ratings"),
        ("transcript_mails", "transcript email", "transcript emails"),
    )

    def __init__(self, client_ids):
        self.client_ids = list(client_ids)

    def conversations(self):
        return Conversation.select(Conversation.id).where(Conversation.client.in_(self.client_ids))

    def queries(self):
        """{what: query of its rows}, in the order they can be deleted."""
        conversations = self.conversations()
        return {
            "read_marks": ReadMark.select().where(ReadMark.conversation.in_(conversations)),
            "ratings": Rating.select().where(Rating.conversation.in_(conversations)),
            "transcript_mails": TranscriptMail.select().where(
                TranscriptMail.conversation.in_(conversations)
            ),
            "messages": Message.select().where(
                Message.conversation.in_(conversations) | Message.client.in_(self.client_ids)
            ),
            "conversations": Conversation.select().where(Conversation.client.in_(self.client_ids)),
            "browsers": Client.select().where(Client.id.in_(self.client_ids)),
        }

    def counts(self):
        """{what: how many rows}, for the keys of ``NOUNS``."""
        queries = self.queries()
        return {key: queries[key].count() for key, _, _ in self.NOUNS}

    def erase(self):
        """Delete every row, children first; returns the counts of what was deleted."""
        counts = self.counts()
        for query in self.queries().values():
            model = query.model
            model.delete().where(model.id.in_(query.select(model.id))).execute()
        return counts

    @classmethod
    def describe(cls, counts):
        """ "2 browsers, 3 conversations, 41 messages, 1 rating, 2 transcript emails"."""
        return ", ".join(
            f"{counts[key]} {one if counts[key] == 1 else many}" for key, one, many in cls.NOUNS
        )


MODELS = [
    Image,
    Widget,
    Agent,
    AgentSession,
    Contact,
    Client,
    Conversation,
    Message,
    ReadMark,
    LabelOverride,
    Rating,
    TranscriptMail,
    CannedReply,
]
