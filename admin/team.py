"""The admin's people pages: the contact list and the support team's agents."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from playhouse.flask_utils import get_object_or_404

from admin import admin_required, bp, page_or_partial
from forms import AgentForm
from models import Agent, AgentSession, Contact, Widget, database

CONTACTS_PER_PAGE = 50


@bp.get("/contacts/")
@login_required
def contacts():
    """Contacts, searched by name or email (``?q=``), ``CONTACTS_PER_PAGE`` a page (``?page=``);
    the rows alone for htmx's active search. One statement, the widget's name included."""
    query = request.args.get("q", "")[:100]
    number = request.args.get("page", "1")
    number = min(int(number), 100_000) if number.isdigit() and int(number) > 0 else 1
    found = list(
        Contact.search(query)
        .select_extend(Widget.id, Widget.name)
        .join(Widget)
        .limit(CONTACTS_PER_PAGE + 1)
        .offset((number - 1) * CONTACTS_PER_PAGE)
    )
    return page_or_partial(
        "admin/contacts.html",
        "admin/_contact_rows.html",
        contacts=found[:CONTACTS_PER_PAGE],
        query=query,
        page_number=number,
        more=len(found) > CONTACTS_PER_PAGE,
    )


@bp.get("/contacts/<id:contact_id>")
@login_required
def contact(contact_id):
    """One contact and all of their conversations: the overview of past interactions."""
    found = get_object_or_404(Contact, Contact.id == contact_id)
    return render_template(
        "admin/contact.html", contact=found, conversations=list(found.conversations())
    )


@bp.route("/agents/", methods=["GET", "POST"])
@admin_required
def agents():
    """The support team, and a form to add an agent."""
    form = AgentForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            Agent.create_with_password(
                form.email.data, form.name.data, form.password.data, is_admin=form.is_admin.data
            )
            flash(f"{form.name.data} can now sign in.")
            return redirect(url_for("admin.agents"))
        status = 422
    return render_template("admin/agents.html", agents=list(Agent.team()), form=form), status


def other_agent_or_refuse(agent_id):
    """The agent to change. Nobody changes their own access, and the team keeps an admin."""
    agent = get_object_or_404(Agent, (Agent.id == agent_id) & Agent.removed_at.is_null())
    if agent.id == current_user.id:
        abort(409, "You cannot change your own access; ask another admin.")
    if agent.is_last_active_admin():
        abort(409, "The team needs at least one active admin.")
    return agent


def change_agent(agent_id, change):
    """Apply ``change(agent)`` (it returns the message to show) and go back to the team."""
    agent = other_agent_or_refuse(agent_id)
    with database.atomic():
        flash(change(agent))
    return redirect(url_for("admin.agents"))


def flip_active(agent):
    """Deactivate an active agent (signed out everywhere at once), or let one back in."""
    agent.active = not agent.active
    agent.save()
    if not agent.active:
        AgentSession.end_all(agent)
    return f"{agent.name} is {'active again' if agent.active else 'deactivated'}."


def flip_admin(agent):
    """Give or take admin rights."""
    agent.is_admin = not agent.is_admin
    agent.save()
    return f"{agent.name} {'now has' if agent.is_admin else 'no longer has'} admin rights."


def remove(agent):
    """Remove the agent from the team; the row stays for their replies (``remove_from_team``)."""
    agent.remove_from_team()
    return f"{agent.name} was removed. Their replies stay in the conversations, under their name."


@bp.post("/agents/<id:agent_id>/active")
@admin_required
def toggle_active(agent_id):
    """Deactivate an agent (they can no longer sign in) or let them back in."""
    return change_agent(agent_id, flip_active)


@bp.post("/agents/<id:agent_id>/admin")
@admin_required
def toggle_admin(agent_id):
    """Give or take admin rights."""
    return change_agent(agent_id, flip_admin)


@bp.post("/agents/<id:agent_id>/delete")
@admin_required
def delete_agent(agent_id):
    """Remove an agent; their replies stay in the conversations, marked "former agent"."""
    return change_agent(agent_id, remove)
