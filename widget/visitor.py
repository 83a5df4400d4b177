"""Who is asking, resolved once per widget request.

Every widget URL names its widget by key; the blueprint's URL preprocessor looks it up once and
puts a ``Visitor`` on ``flask.g``. The visitor's token, client and labels are each worked out the
first time a view (or the throttle) asks, and kept for the rest of the request.
"""

import re
from functools import cached_property

from flask import g, request

from models import Client, Widget, database
from widget import TOKEN_HEADER, WidgetProblem, bp, labels_for

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,128}")


class Visitor:
    """The widget this request is for and, on demand, the visitor behind its token."""

    def __init__(self, widget):
        self.widget = widget

    @cached_property
    def raw_token(self):
        """The token header as sent (empty when missing)."""
        return request.headers.get(TOKEN_HEADER, "")

    @property
    def has_token(self):
        """Whether the request carries a token of the right shape."""
        return TOKEN_PATTERN.fullmatch(self.raw_token) is not None

    @property
    def token(self):
        """The token the iframe sent, checked for shape (see ``check_token``)."""
        return self.check_token()

    def check_token(self):
        """Refuse a request whose token is missing or odd with a 400 notice; else the token."""
        if not self.has_token:
            raise WidgetProblem(400, "error.no_storage")
        return self.raw_token

    @cached_property
    def row(self):
        """The client row this token was given (before following a link), or None."""
        if self.widget is None or not self.has_token:
            return None
        return Client.row_for_token(self.widget, self.raw_token)

    @cached_property
    def client(self):
        """The client this token acts as, or None before they first did anything."""
        row = self.row if self.token else None  # no valid token: refused here, with a 400
        return row.acting_client if row is not None else None

    def client_or_new(self):
        """The client, created on their first write (a form sent, a first message)."""
        if self.client is None:
            self.client = Client.create_for_token(self.widget, self.token)
        return self.client

    def give_typed_email(self, email, name=None):
        """Keep the email (and name: the form's; none keeps the one known) the visitor typed,
        unconfirmed (see ``Client.give_typed_email``); the client, created if new."""
        with database.atomic():
            client = self.client_or_new()
            client.give_typed_email(client.name if name is None else name, email)
            client.save()
        return client

    @cached_property
    def labels(self):
        """The texts this visitor reads (see ``labels_for``)."""
        return labels_for(self.widget)


@bp.url_value_preprocessor
def find_visitor(endpoint, values):
    """Look the widget up once, by the ``key`` in its URL, and keep the visitor on ``g``."""
    key = values.pop("key", None) if values else None
    g.visitor = Visitor(Widget.by_key(key) if key is not None else None)


def current_visitor():
    """This request's visitor, of a widget that exists; else a friendly 404 inside the iframe."""
    visitor = g.visitor
    if visitor.widget is None:
        raise WidgetProblem(404, "error.widget_not_found")
    return visitor
