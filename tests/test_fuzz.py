"""Property-based checks (issue 13, item 6): malformed, oversized and hostile values at every
widget and admin endpoint, in form fields, headers, tokens, ids in URLs, ``custom_user_data`` of
every JSON shape and ``Last-Event-ID``.

Whatever comes in, the answer is a clear 4xx or a valid page (never a 5xx), and a refused request
leaves the database as it found it. ``make test`` runs a few examples per test (profile
``frontdesk``); ``make fuzz`` many more (``HYPOTHESIS_PROFILE=fuzz``).
"""

import json
import os
import secrets
from urllib.parse import quote, urlencode

import jwt
from helpers import csrf_token_from, set_auth_type, start_chat, visitor_headers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inputs import ID_MAX
from models import MODELS, AuthType, Conversation, Message, Widget

settings.register_profile(
    "frontdesk",
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("fuzz", settings.get_profile("frontdesk"), max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "frontdesk"))

# --- what a stranger sends ---------------------------------------------------------------------

HOSTILE = [
    "", " ", "\x00", "\ud800", "\udfff", "\x07", "\x1b[2J", "\x7f", "\x85", "\u202e", "\ufeff",
    "\r\n", "%00", "%ff", "null", "None", "[]", "{}", "' OR 1=1 --", '"; DROP TABLE client; --',
    "<script>alert(1)</script>", "{{7*7}}", "{name}", "${jndi:x}", "../../etc/passwd",
    "-1", "0", "1e999", "NaN", "Infinity", str(ID_MAX), str(ID_MAX + 1), "9" * 40, "١٢٣",
    "a" * 300, "ß" * 200, "\U0001f600" * 50,
]  # fmt: skip

# Any character, lone surrogates and control characters included.
CHARACTERS = st.one_of(
    st.characters(),
    st.characters(min_codepoint=0, max_codepoint=0x9F),
    st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "\x00"]),
)
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(CHARACTERS, max_size=40),
    # plain text with hostile pieces inside it: Hypothesis seldom draws these characters itself
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=6)), max_size=5).map("".join),
    st.integers(min_value=1000, max_value=70_000).map(lambda n: "x" * n),  # oversized
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["1", "2", str(ID_MAX), str(ID_MAX + 1), "0", "007", "1.5", ""]),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(CHARACTERS, max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = st.one_of(st.sampled_from(["name", "email", "plan"]), st.text(CHARACTERS))
USER_DATA = st.one_of(
    st.builds(
        lambda user_id, fields: {**fields, "id": user_id},
        st.one_of(st.text("abc123", min_size=1, max_size=8), st.integers(), TEXT, JSON),
        st.dictionaries(
            FIELD_NAMES, st.one_of(TEXT, TEXT.map(lambda text: "Ada " + text), JSON), max_size=5
        ),
    ),
    JSON,
)


def wire_text(text):
    """``text`` as a server hands a header over: its UTF-8 bytes (surrogates kept) as Latin-1."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


HEADER_VALUE = TEXT.map(wire_text).filter(lambda value: "\r" not in value and "\n" not in value)
TOKEN = st.one_of(st.just(None), HEADER_VALUE, st.text("0123456789abcdef", min_size=30))
FRONTDESK_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "X-Frontdesk-Page": st.one_of(HEADER_VALUE, HEADER_VALUE.map("https://x.example/".__add__)),
        "X-Frontdesk-Language": HEADER_VALUE,
        "Accept-Language": HEADER_VALUE,
        "Last-Event-ID": st.one_of(HEADER_VALUE, NUMBERS),
        "Origin": HEADER_VALUE,
        "HX-Request": st.just("true"),
    },
)


def form_body(fields):
    """Form fields as a urlencoded body, with lone surrogates as their (invalid) UTF-8 bytes."""
    return urlencode(fields, encoding="utf-8", errors="surrogatepass")


def url_part(text):
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


# --- checking an answer ------------------------------------------------------------------------


def row_counts(app):
    with app.app_context():
        return {model.__name__: model.select().count() for model in MODELS}


def check(app, send):
    """Send one request: never a 5xx, and a refused one changes no row."""
    before = row_counts(app)
    response = send()
    status = response.status_code
    response.close()
    assert status < 500, f"{status}: {response.request.method} {response.request.path}"
    if status >= 400:
        assert row_counts(app) == before, f"{status} wrote rows"
    return status


def lift_rate_limits(app):
    for setting in ("WIDGET_WRITES_PER_MINUTE", "NEW_CLIENTS_PER_HOUR"):
        app.config[setting] = 10**9
    app.config["SIGN_IN_ATTEMPTS_PER_15_MINUTES"] = 10**9


def the_widget(app, auth_type):
    with app.app_context():
        return set_auth_type(Widget.select().order_by(Widget.id).get(), auth_type)


AUTH_TYPES = st.sampled_from([AuthType.NONE, AuthType.CODE, AuthType.FORM, AuthType.OPTIONAL_FORM])
WIDGET_POSTS = {
    "identify": ("identity_token", "custom_user_data"),
    "logout": (),
    "contact": ("name", "email"),
    "guest": (),
    "messages": ("body", "client_msg_id"),
    "transcript": (),
    "rating": ("verdict", "comment"),
    "email": ("email",),
}


# --- the widget --------------------------------------------------------------------------------


@given(
    auth_type=AUTH_TYPES,
    action=st.sampled_from(sorted(WIDGET_POSTS)),
    values=st.lists(TEXT, min_size=2, max_size=2),
    extra=st.dictionaries(TEXT, TEXT, max_size=2),
    token=TOKEN,
    headers=FRONTDESK_HEADERS,
    known_client=st.booleans(),
)
def test_widget_posts(app, client, auth_type, action, values, extra, token, headers, known_client):
    lift_rate_limits(app)
    widget = the_widget(app, auth_type)
    if known_client and auth_type == AuthType.NONE:  # a visitor with a conversation already
        token = secrets.token_hex(24)
        with app.app_context():
            start_chat(client, widget, token, body=f"hello {token}")
    fields = {**extra, **dict(zip(WIDGET_POSTS[action], values, strict=False))}
    sent_headers = {**headers}
    if token is not None:
        sent_headers["X-Frontdesk-Token"] = token
    check(
        app,
        lambda: client.post(
            f"/widget/{widget.key}/{action}",
            data=form_body(fields),
            content_type="application/x-www-form-urlencoded",
            headers=sent_headers,
        ),
    )


@given(user=USER_DATA, signed=st.booleans(), strict=st.booleans())
def test_custom_user_data_of_every_shape(app, admin, user, signed, strict):
    """Whatever a host page (or its server) says about its user: a clear answer, and what was
    taken never breaks the agent's page of the conversation."""
    lift_rate_limits(app)
    widget = the_widget(app, AuthType.CODE)
    with app.app_context():
        widget.require_verified_identity = strict
        widget.save()
    if signed:
        claims = user if isinstance(user, dict) else {"id": user}
        try:
            token = jwt.encode({**claims, "exp": 2**31}, widget.identity_secret, "HS256")
        except (TypeError, ValueError):  # claims JSON cannot hold (a float key, say)
            return
        data = {"identity_token": token}
    else:
        data = {"custom_user_data": json.dumps(user)}
    visitor = app.test_client()
    headers = visitor_headers()
    status = check(
        app,
        lambda: visitor.post(
            f"/widget/{widget.key}/identify",
            data=form_body(data),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        ),
    )
    if status == 200:
        body = f"hello {secrets.token_hex(8)}"
        sent = visitor.post(f"/widget/{widget.key}/messages", data={"body": body}, headers=headers)
        assert sent.status_code == 200
        with app.app_context():
            conversation = Message.get(Message.body == body).conversation_id
        assert admin.get(f"/admin/conversations/{conversation}").status_code == 200


@given(
    auth_type=AUTH_TYPES,
    key=st.one_of(st.none(), TEXT),
    page=st.sampled_from(["", "/settings.json", "/pane", "/stream", "/rating"]),
    query=st.dictionaries(st.sampled_from(["lang", "fresh", "after", "x"]), TEXT, max_size=2),
    token=TOKEN,
    headers=FRONTDESK_HEADERS,
)
def test_widget_pages(app, client, auth_type, key, page, query, token, headers):
    widget = the_widget(app, auth_type)
    path_key = widget.key if key is None else url_part(key) or "x"
    sent_headers = {**headers}
    if token is not None:
        sent_headers["X-Frontdesk-Token"] = token
    url = f"/widget/{path_key}{page}?{form_body(query)}"
    check(app, lambda: client.get(url, headers=sent_headers, buffered=False))


# --- the admin ---------------------------------------------------------------------------------


def admin_setup(app, admin):
    """A conversation to open, and the CSRF token of the signed-in session."""
    lift_rate_limits(app)
    with app.app_context():
        if not Conversation.select().exists():
            widget = set_auth_type(Widget.select().order_by(Widget.id).get(), AuthType.NONE)
            start_chat(admin.application.test_client(), widget, secrets.token_hex(24))
        conversation_id = Conversation.select().get().id
    return conversation_id, csrf_token_from(admin.get("/admin/agents/"))


ADMIN_PAGES = [
    "/admin/", "/admin/live", "/admin/contacts/", "/admin/contacts/{id}",
    "/admin/conversations/{id}", "/admin/widgets/", "/admin/widgets/{id}/general",
    "/admin/widgets/{id}/install", "/admin/widgets/{id}/language", "/admin/reports",
    "/admin/agents/", "/admin/login",
]  # fmt: skip
ADMIN_POSTS = {
    "/admin/conversations/{id}/reply": ("body",),
    "/admin/conversations/{id}/status": ("status",),
    "/admin/conversations/{id}/transcript": (),
    "/admin/widgets/{id}/general": (
        "name", "auth_type", "language", "allowed_domains", "follow_browser_language",
        "require_verified_identity",
    ),
    "/admin/widgets/{id}/language": ("label:composer.send", "label:launcher.open", "reset"),
    "/admin/widgets/{id}/language/preview": ("label:composer.send", "label:header.title"),
    "/admin/agents/": ("name", "email", "password", "is_admin"),
    "/admin/agents/{id}/admin": (),
    "/admin/login": ("email", "password", "remember"),
}  # fmt: skip
ADMIN_IDS = st.one_of(st.none(), NUMBERS, TEXT)


def admin_url(template, number, conversation_id):
    if number is None:  # a row that exists
        number = str(conversation_id if "conversation" in template else 1)
    return template.replace("{id}", url_part(number) or "0")


@given(
    page=st.sampled_from(ADMIN_PAGES),
    number=ADMIN_IDS,
    query=st.dictionaries(
        st.sampled_from(["q", "status", "conversation", "lang", "after", "next"]), TEXT, max_size=3
    ),
    headers=FRONTDESK_HEADERS,
)
def test_admin_pages(app, admin, page, number, query, headers):
    conversation_id, _ = admin_setup(app, admin)
    url = f"{admin_url(page, number, conversation_id)}?{form_body(query)}"
    check(app, lambda: admin.get(url, headers=headers, buffered=False))


@given(
    action=st.sampled_from(sorted(ADMIN_POSTS)),
    number=ADMIN_IDS,
    values=st.lists(TEXT, min_size=6, max_size=6),
    with_csrf=st.booleans(),
    htmx=st.booleans(),
)
def test_admin_posts(app, admin, action, number, values, with_csrf, htmx):
    conversation_id, csrf = admin_setup(app, admin)
    fields = dict(zip(ADMIN_POSTS[action], values, strict=False))
    if with_csrf:
        fields["csrf_token"] = csrf
    headers = {"HX-Request": "true"} if htmx else {}
    url = admin_url(action, number, conversation_id)
    check(
        app,
        lambda: admin.post(
            url,
            data=form_body(fields),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        ),
    )
