"""The production command from the README (gunicorn, one gevent worker) carries a live exchange,
on SQLite and on PostgreSQL (where psycogreen makes psycopg2 wait cooperatively and events go
through LISTEN/NOTIFY)."""

import contextlib
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import threading
import time
import urllib.parse
import urllib.request

import pytest
from helpers import (
    ADMIN_PASSWORD,
    ServerProcess,
    csrf_token_from,
    demo_widget_key,
    postgres_database,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def gunicorn_server(request, tmp_path):
    """`gunicorn -k gevent` as the README gives it, on a fresh SQLite database or on a
    PostgreSQL database of its own (skipped without a server, failed so under ``CI``)."""
    with contextlib.ExitStack() as stack:
        server = ServerProcess(tmp_path, command="gunicorn")
        if request.param == "postgresql":
            name = f"frontdesk_gunicorn_{os.getpid()}"
            server.env["FRONTDESK_DATABASE_URL"] = stack.enter_context(postgres_database(name))
        stack.enter_context(server)  # init-db, start; stopped before the database is dropped
        yield server.base_url, server.port


def read_stream_until(port, path, token, wanted, found, timeout=10):
    """Read the widget's SSE stream until ``wanted`` shows up; record what was seen."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("GET", path, headers={"X-Frontdesk-Token": token})
    response = connection.getresponse()
    found["status"] = response.status
    found["headers"] = dict(response.getheaders())
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline and wanted not in text:
        line = response.fp.readline()
        if not line:
            break
        text += line.decode()
    found["text"] = text
    connection.close()


def test_live_reply_through_gunicorn(gunicorn_server):
    base, port = gunicorn_server
    token = secrets.token_hex(24)
    page = urllib.request.urlopen(f"{base}/demo").read().decode()
    key = demo_widget_key(page)

    first = urllib.request.Request(
        f"{base}/widget/{key}/messages",
        data=urllib.parse.urlencode({"body": "Hello via gunicorn", "client_msg_id": "m1"}).encode(),
        headers={"X-Frontdesk-Token": token},
    )
    assert urllib.request.urlopen(first).status == 200

    found = {}
    reader = threading.Thread(
        target=read_stream_until,
        args=(port, f"/widget/{key}/stream", token, "We are on it", found),
    )
    reader.start()
    time.sleep(0.5)  # the stream is open and waiting before the agent replies

    agent = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    login_page = agent.open(f"{base}/admin/login").read().decode()
    csrf = csrf_token_from(login_page)
    form = {"email": "admin@example.com", "password": ADMIN_PASSWORD, "csrf_token": csrf}
    agent.open(f"{base}/admin/login", data=urllib.parse.urlencode(form).encode())
    inbox = agent.open(f"{base}/admin/").read().decode()
    opened = re.search(r'href="/admin/\?conversation=(\d+)"', inbox).group(1)  # a row
    conversation_url = f"/admin/conversations/{opened}"
    agent.open(
        f"{base}{conversation_url}/reply",
        data=urllib.parse.urlencode({"body": "We are on it", "csrf_token": csrf}).encode(),
    )

    reader.join(timeout=15)
    assert found["status"] == 200
    assert found["headers"]["Content-Type"].startswith("text/event-stream")
    assert "We are on it" in found["text"]
    assert "Hello via gunicorn" not in found["text"]
    assert json.dumps(found["headers"].get("X-Accel-Buffering")) == '"no"'
