"""Deleting a person's data on request: a contact with all of their browsers, or one visitor.

Admins only. A GET page says what will go, counted; its POST deletes it in one transaction.
"""

from flask import abort, flash, redirect, render_template, url_for
from playhouse.flask_utils import get_object_or_404

from admin import admin_required, bp
from events import broker
from models import Client, Contact, PersonalData


@bp.get("/contacts/<id:contact_id>/delete")
@admin_required
def confirm_delete_contact(contact_id):
    """What deleting this contact's data removes, and the button that does it."""
    contact = get_object_or_404(Contact, Contact.id == contact_id)
    return confirmation(
        contact_label(contact),
        contact.personal_data_counts(),
        url_for("admin.delete_contact", contact_id=contact.id),
        url_for("admin.contact", contact_id=contact.id),
    )


@bp.post("/contacts/<id:contact_id>/delete")
@admin_required
def delete_contact(contact_id):
    """Delete the contact and everything of theirs, for good."""
    contact = get_object_or_404(Contact, Contact.id == contact_id)
    label = contact_label(contact)
    counts = contact.erase()  # one transaction
    return deleted(label, counts, url_for("admin.contacts"))


@bp.get("/clients/<id:client_id>/delete")
@admin_required
def confirm_delete_client(client_id):
    """The same for a visitor who is no contact; a contact's browser is deleted with them."""
    client = visitor_or_404(client_id)
    conversation = client.latest_conversation()
    back = (
        url_for("admin.conversation", conversation_id=conversation.id)
        if conversation
        else url_for("admin.inbox")
    )
    return confirmation(
        client_label(client),
        client.personal_data_counts(),
        url_for("admin.delete_client", client_id=client.id),
        back,
    )


@bp.post("/clients/<id:client_id>/delete")
@admin_required
def delete_client(client_id):
    """Delete the visitor, their other browsers and their conversations, for good."""
    client = visitor_or_404(client_id)
    label = client_label(client)
    counts = client.erase()  # one transaction
    return deleted(label, counts, url_for("admin.inbox"))


def visitor_or_404(client_id):
    """A client a conversation belongs to (not a browser linked to another client's row).

    A contact's browser goes with the contact: the admin is sent to the contact's page.
    """
    client = get_object_or_404(Client, (Client.id == client_id) & Client.linked_to.is_null())
    if client.contact_id:
        abort(redirect(url_for("admin.confirm_delete_contact", contact_id=client.contact_id)))
    return client


def contact_label(contact):
    return f"{contact.name} <{contact.email}>"


def client_label(client):
    email = client.display_email
    return f"{client.display_name} <{email}>" if email else client.display_name


def confirmation(label, counts, action, back):
    return render_template(
        "admin/delete_personal_data.html",
        label=label,
        summary=PersonalData.describe(counts),
        action=action,
        back=back,
    )


def deleted(label, counts, then):
    """After the commit: open inboxes refresh, the admin is told what went."""
    broker.publish("inbox")
    flash(f"Deleted permanently: {label}: {PersonalData.describe(counts)}.")
    return redirect(then)
