"""Telling agents of visitors' messages: the live stream's ``visitor-message`` events (the page
shows a desktop notification and plays a sound, static/notify.js), and, while nobody has the
admin open, an email per conversation (``flask --app app notify-agents``, run by cron).
"""

import json
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import click
from flask import current_app, render_template, url_for
from flask.cli import with_appcontext
from peewee import fn

from events import format_event
from mailer import MailError, deliver
from models import Agent, Conversation, Message

LOOKBACK_IDS = 100  # PostgreSQL hands out ids before commit: look this far back for late ones
PREVIEW_LENGTH = 140


class VisitorAlerts:
    """The visitor messages one admin page's stream has not announced yet.

    Starts at the newest message when the page connects: history is never announced. Each
    round looks ``LOOKBACK_IDS`` back for a message that committed late, and remembers the ids
    it announced in that window so none is announced twice.
    """

    def __init__(self):
        self.after = Message.select(fn.MAX(Message.id)).scalar() or 0
        self.seen = {message.id for message in self.in_window()}

    def in_window(self):
        return Message.from_clients_after(max(0, self.after - LOOKBACK_IDS))

    def read(self):
        """This round's ``visitor-message`` events, one per new visitor message."""
        events = []
        for message in self.in_window():
            if message.id not in self.seen:
                events.append(format_event(json.dumps(alert(message)), event="visitor-message"))
                self.seen.add(message.id)
        self.after = max([self.after, *self.seen])
        self.seen = {known for known in self.seen if known > self.after - LOOKBACK_IDS}
        return "".join(events)


def alert(message):
    """What a desktop notification says of a visitor's message, and where it leads."""
    conversation = message.conversation
    return {
        "conversation": conversation.id,
        "title": "New conversation" if message.starts_conversation() else "New message",
        "name": conversation.client.display_name,
        "text": message.body[:PREVIEW_LENGTH],
        "url": url_for("admin.conversation", conversation_id=conversation.id),
    }


def agent_mail(conversation, messages, recipients):
    """One mail to the agents with a conversation's visitor messages not mailed before."""
    client = conversation.client
    widget = conversation.widget
    mail = EmailMessage()
    subject = f"{client.display_name} wrote on {widget.name}"
    mail["Subject"] = " ".join(subject.split())  # one line, whatever the names hold
    mail["From"] = current_app.config.get("SMTP_FROM") or formataddr(
        ("Frontdesk", "no-reply@localhost")
    )
    mail["To"] = ", ".join(agent.email for agent in recipients)
    mail["Message-ID"] = make_msgid(domain="frontdesk.invalid")
    link = url_for("admin.conversation", conversation_id=conversation.id, _external=True)
    mail.set_content(
        render_template(
            "email/agent_alert.txt",
            client=client,
            widget=widget,
            messages=messages,
            link=link,
        )
    )
    return mail


def mail_agents():
    """While nobody has the admin open, mail each conversation's unseen visitor messages.

    One mail per conversation, to ``Agent.to_mail_about``. A conversation is claimed (its
    ``agents_mailed_upto`` moved) before the mail goes, so two runs at once never mail a message
    twice; a mail that fails gives the claim back for the next run. Returns (sent, failed).
    """
    if Agent.anyone_online():
        return 0, 0
    sent = failed = 0
    for conversation, messages in Conversation.awaiting_agent_mail().items():
        recipients = Agent.to_mail_about(conversation)
        previous, upto = conversation.agents_mailed_upto, messages[-1].id
        if not recipients or not conversation.claim_agent_mail(previous, upto):
            continue
        try:
            deliver(agent_mail(conversation, messages, recipients))
        except (MailError, ValueError) as error:  # ValueError: a header the library refuses
            current_app.logger.warning("Agents not mailed about %s: %s", conversation.id, error)
            conversation.claim_agent_mail(upto, previous)
            failed += 1
            continue
        sent += 1
    return sent, failed


@click.command("notify-agents")
@with_appcontext
def notify_agents_command():
    """Email the agents visitors' new messages while nobody has the admin open (cron, every
    minute). Links in the mail start with FRONTDESK_WIDGET_URL."""
    base_url = current_app.config.get("WIDGET_URL") or "http://localhost"
    with current_app.test_request_context(base_url=base_url):
        sent, failed = mail_agents()
    click.echo(f"{sent} mail{'' if sent == 1 else 's'} sent to agents, {failed} failed.")
    if failed:
        raise SystemExit(1)
