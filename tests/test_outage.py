"""With the database unreachable, every answer is a clear 503 or, where no database is needed,
a 200: the loader keeps working on customers' sites."""

import logging
import secrets
import socket

import pytest

from app import create_app


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def down_app(request, tmp_path):
    """The app pointed at a database that cannot be reached."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'missing-dir' / 'frontdesk.db'}"
    else:
        url = f"postgresql://postgres@127.0.0.1:{unused_port()}/frontdesk"
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16)})


def test_pages_that_need_no_database_still_answer(down_app):
    client = down_app.test_client()
    assert client.get("/embed.js").status_code == 200
    assert client.get("/static/widget.css").status_code == 200


def test_health_check_says_unavailable(down_app):
    response = down_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}


def test_widget_shows_its_own_notice_in_the_visitors_language(down_app, caplog):
    client = down_app.test_client()
    headers = {"X-Frontdesk-Token": secrets.token_hex(24), "HX-Request": "true"}
    with caplog.at_level(logging.WARNING):
        response = client.get("/widget/somekey/pane", headers={**headers, "Accept-Language": "de"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Der Chat ist gerade nicht erreichbar" in response.get_data(as_text=True)
    posted = client.post("/widget/somekey/messages", data={"body": "hi"}, headers=headers)
    assert posted.status_code == 503
    assert "reach the chat right now" in posted.get_data(as_text=True)
    # one line per failed request, with the cause, and no traceback
    lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(lines) == 2
    assert all(line.exc_info is None for line in lines)


def test_admin_shows_a_plain_unavailable_page(down_app):
    client = down_app.test_client()
    with client.session_transaction() as session:  # an agent signed in before the outage
        session["_user_id"] = "1"
        session["_fresh"] = True
    response = client.get("/admin/")
    assert response.status_code == 503
    assert client.get("/admin/login").status_code == 503
    page = response.get_data(as_text=True)
    assert "can't reach its database" in page
    assert "Traceback" not in page
