"""Unread replies by mail: ``flask --app app send-unread-replies``, run every minute by cron or a
systemd timer (see the README's production section).

A client whose address is proven (confirmed by its link, or signed by the site) and who has not
seen an agent's reply in the open widget for the widget's ``unread_mail_delay`` minutes gets one
mail holding every reply they have not seen. Each reply is claimed before its mail is sent
(``Client.claim_unread_for_mail``), so no reply is ever mailed twice, even by two runs at once; a
mail the server refuses is logged and not retried.
"""

import click
from flask import current_app
from flask.cli import with_appcontext

from db import utcnow
from mailer import MailError, deliver, unread_replies_message
from models import Client, Widget


def send_unread_replies(now=None):
    """Mail every client their unread replies that waited long enough; how many mails went."""
    now = now or utcnow()
    sent = 0
    for widget in Widget.select().where(Widget.unread_mail_delay > 0):
        for client in Client.owed_unread_mail(widget, now):
            if client.display_email and mail_unread(client):
                sent += 1
    return sent


def mail_unread(client):
    """Claim the client's unread replies and mail them; whether a mail went."""
    replies = client.claim_unread_for_mail()
    if not replies:
        return False
    try:
        deliver(unread_replies_message(client, replies))
    except (MailError, ValueError) as error:  # ValueError: a header the mail library refuses
        current_app.logger.warning("Unread replies to client %s not mailed: %s", client.id, error)
        return False
    return True


@click.command("send-unread-replies")
@with_appcontext
def send_unread_replies_command():
    """Mail visitors the replies they have not read (run it every minute)."""
    click.echo(f"Unread-reply mails sent: {send_unread_replies()}.")
