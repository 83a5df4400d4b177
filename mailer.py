"""Email: a conversation's transcript, and replies a visitor did not read in the chat (see
``unread_mail``), through SMTP or, without SMTP settings, into a folder.

A transcript holds what the visitor wrote, so it only goes to an address the client proved is
theirs (``Client.email_confirmed``). To an unconfirmed address goes a short confirmation mail
instead, with a signed one-click link (``confirmation_link``, valid 24 hours) and no text from
the visitor; the transcript follows when the link is used (``widget.tools.confirm_email``).

Settings (``FRONTDESK_SMTP_*``): ``HOST``, ``PORT`` (587), ``USERNAME``, ``PASSWORD``,
``SECURITY`` (``starttls``, ``ssl`` or ``none``; default ``starttls`` when a username is set) and
``FROM``. With no ``FRONTDESK_SMTP_HOST``, each mail is written to ``instance/outbox/`` (or
``FRONTDESK_OUTBOX_DIR``) as an ``.eml`` file, which is what ``make run`` does out of the box.
"""

import datetime
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from babel.dates import format_datetime
from flask import current_app, render_template, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from models import TranscriptMail, database

SMTP_TIMEOUT_SECONDS = 10
CONFIRMATION_MAX_AGE = 24 * 3600  # seconds a confirmation link works


class MailError(Exception):
    """The mail could not be handed over; the text is safe to show admins (no credentials)."""


def local_time(moment, language):
    """A stored UTC time, written the way the language writes dates and times."""
    aware = moment.replace(tzinfo=datetime.UTC)
    return format_datetime(aware, "medium", tzinfo=datetime.UTC, locale=language) + " UTC"


def transcript_message(conversation, recipient):
    """The transcript as a mail in the widget's language, with a plain and an HTML body."""
    widget = conversation.widget
    labels = widget.labels(requested=conversation.language)
    client = conversation.client
    lines = [
        {
            "system": message.is_system,
            "sender": None if message.is_system else message.sender_label(labels),
            "text": message.status_label(labels) if message.is_system else message.body,
            "time": message.created_at,
        }
        for message in conversation.messages_for_client()
    ]
    context = {
        "labels": labels,
        "widget": widget,
        "name": client.known_name,
        "lines": lines,
        "when": lambda moment: local_time(moment, labels.code),
    }
    mail = EmailMessage()
    mail["Subject"] = " ".join(labels("email.subject", site=widget.name).split())  # one line
    sender = current_app.config.get("SMTP_FROM") or formataddr((widget.name, "no-reply@localhost"))
    mail["From"] = sender
    mail["To"] = recipient
    mail["Message-ID"] = make_msgid(domain="frontdesk.invalid")
    mail.set_content(render_template("email/transcript.txt", **context))
    mail.add_alternative(render_template("email/transcript.html", **context), subtype="html")
    mail["Content-Language"] = labels.code  # after the bodies: set_content drops Content-*
    return mail


def deliver(mail):
    """Hand a mail to the SMTP server, or write it to the outbox folder when none is set."""
    config = current_app.config
    host = config.get("SMTP_HOST")
    if not host:
        outbox = Path(config.get("OUTBOX_DIR") or Path(current_app.instance_path) / "outbox")
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = f"{datetime.datetime.now(datetime.UTC):%Y%m%d-%H%M%S}"
        path = outbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(mail))
        current_app.logger.warning("No FRONTDESK_SMTP_HOST: mail written to %s", path)
        return
    username = config.get("SMTP_USERNAME")
    security = config.get("SMTP_SECURITY") or ("starttls" if username else "none")
    if security not in ("starttls", "ssl", "none"):
        raise MailError(f"FRONTDESK_SMTP_SECURITY must be starttls, ssl or none, not {security!r}")
    port = int(config.get("SMTP_PORT") or (465 if security == "ssl" else 587))
    tls = ssl.create_default_context()  # the server's certificate is checked
    try:
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=tls)
        else:
            smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=tls)
            if username:
                smtp.login(username, config.get("SMTP_PASSWORD") or "")
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as error:
        # Never the password: smtplib's errors carry codes and server replies only.
        reason = f"{type(error).__name__}: {error}"[:250]
        current_app.logger.warning("Mail to the SMTP server %s failed: %s", host, reason)
        raise MailError(reason) from error


def confirmation_serializer():
    return URLSafeTimedSerializer(current_app.secret_key, salt="frontdesk.confirm-email")


def confirmation_link(conversation, recipient):
    """The one-click link that proves ``recipient`` belongs to the conversation's client."""
    token = confirmation_serializer().dumps(
        {"client": conversation.client_id, "email": recipient, "conversation": conversation.id}
    )
    return url_for("widget.confirm_email", key=conversation.widget.key, token=token, _external=True)


def read_confirmation(token):
    """The claims of a confirmation link made in the last 24 hours, or None."""
    try:
        claims = confirmation_serializer().loads(token, max_age=CONFIRMATION_MAX_AGE)
    except BadSignature:  # forged, damaged or expired (SignatureExpired is a BadSignature)
        return None
    return claims if isinstance(claims, dict) else None


def confirmation_message(conversation, recipient):
    """The confirmation mail: the site's name and the link, nothing the visitor wrote."""
    widget = conversation.widget
    labels = widget.labels(requested=conversation.language)
    context = {
        "labels": labels,
        "widget": widget,
        "link": confirmation_link(conversation, recipient),
    }
    mail = EmailMessage()
    mail["Subject"] = " ".join(labels("email.confirm_subject", site=widget.name).split())
    sender = current_app.config.get("SMTP_FROM") or formataddr((widget.name, "no-reply@localhost"))
    mail["From"] = sender
    mail["To"] = recipient
    mail["Message-ID"] = make_msgid(domain="frontdesk.invalid")
    mail.set_content(render_template("email/confirm.txt", **context))
    mail.add_alternative(render_template("email/confirm.html", **context), subtype="html")
    mail["Content-Language"] = labels.code
    return mail


def unread_replies_message(client, replies):
    """Agents' replies the client has not read, as a mail in the language they chatted in."""
    conversation = replies[-1].conversation
    widget = conversation.widget
    labels = widget.labels(requested=conversation.language)
    context = {
        "labels": labels,
        "widget": widget,
        "name": client.known_name,
        "replies": replies,
        "page_url": conversation.page_url,
        "when": lambda moment: local_time(moment, labels.code),
    }
    mail = EmailMessage()
    mail["Subject"] = " ".join(labels("email.unread_subject", site=widget.name).split())
    sender = current_app.config.get("SMTP_FROM") or formataddr((widget.name, "no-reply@localhost"))
    mail["From"] = sender
    mail["To"] = client.display_email
    mail["Message-ID"] = make_msgid(domain="frontdesk.invalid")
    mail.set_content(render_template("email/unread.txt", **context))
    mail.add_alternative(render_template("email/unread.html", **context), subtype="html")
    mail["Content-Language"] = labels.code
    return mail


def send_transcript(conversation, requested_by):
    """Email the conversation to the client's stored address; the attempt is recorded.

    The address always comes from what is stored for the client (the one they gave, or their
    contact's), never from the request. Until the client confirmed it, a confirmation mail goes
    instead (status ``confirm``), whoever asked.
    """
    client = conversation.client
    recipient = client.display_email
    attempt = TranscriptMail(
        conversation=conversation, recipient=recipient.lower(), requested_by=requested_by
    )
    confirmed = client.email_confirmed
    try:
        if confirmed:
            deliver(transcript_message(conversation, recipient))
        else:
            deliver(confirmation_message(conversation, recipient))
        attempt.status = TranscriptMail.SENT if confirmed else TranscriptMail.CONFIRM
    except MailError as error:
        attempt.status, attempt.error = TranscriptMail.FAILED, str(error)
    except ValueError as error:  # a header the mail library refuses (odd wording or names)
        attempt.status, attempt.error = TranscriptMail.FAILED, f"mail not built: {error}"[:250]
    with database.atomic():
        attempt.save()
    return attempt
