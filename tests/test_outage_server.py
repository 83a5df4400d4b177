"""The production server (gunicorn, a gevent worker) through a PostgreSQL outage and back.

The server reaches PostgreSQL through a TCP proxy that the test cuts, as a network drop or a
restarting database server would: every open connection is reset and new ones are refused. While
it is cut, pages that need no database still answer, everything else is a readable 503 with one
log line and no traceback, and nothing is half-stored. Once the proxy lets connections through
again, the same server process recovers by itself: no request fails with a 500, and the visitor's
live stream (reconnected with ``Last-Event-ID`` if the outage ended it, as the browser does) gets
the agent's next reply once, with nothing from before the outage lost or repeated.
"""

import contextlib
import http.client
import http.cookiejar
import logging
import os
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import psycopg2
import pytest
from flask import Flask
from helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CuttableProxy,
    LiveServer,
    ServerProcess,
    csrf_token_from,
    demo_widget_key,
    postgres_database,
)
from peewee import OperationalError

import events
from db import connect_database

WIDGET_NOTICE = "We can't reach the chat right now"
ADMIN_NOTICE = "can't reach its database"
# A line of gunicorn's access log: '... "GET /healthz HTTP/1.1" 503 ...'; the status.
ACCESS_LINE = re.compile(r'"(?:GET|POST|HEAD) [^"]*" (\d{3}) ')


@pytest.fixture
def outage_server(tmp_path):
    """gunicorn on a PostgreSQL database of its own, reached through a cuttable proxy; the
    server, the proxy and the database's direct URL (for looking at the rows)."""
    with contextlib.ExitStack() as stack:
        direct_url = stack.enter_context(postgres_database(f"frontdesk_outage_{os.getpid()}"))
        parts = urllib.parse.urlsplit(direct_url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            pytest.skip("the proxy forwards to 127.0.0.1 only")
        # With gunicorn's access log in server.log: every request's status can be checked.
        server = ServerProcess(tmp_path, command="gunicorn", options=["--access-logfile", "-"])
        server.env["FRONTDESK_DATABASE_URL"] = direct_url
        server.init_db()  # directly: the proxy is for the running server
        # The proxy takes a LiveServer as its target; only the port matters here.
        postgres = LiveServer(parts.port or 5432, ADMIN_EMAIL, ADMIN_PASSWORD, server.log_path)
        proxy = CuttableProxy(postgres)
        stack.callback(proxy.stop)
        netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else None
        server.env["FRONTDESK_DATABASE_URL"] = urllib.parse.urlunsplit(
            parts._replace(netloc=netloc or f"127.0.0.1:{proxy.port}")
        )
        server.start()
        stack.callback(server.stop)  # before the proxy stops and the database is dropped
        yield server, proxy, direct_url


class Stream:
    """A visitor's widget stream, read in a thread: its events (id, data) as they arrive."""

    def __init__(self, port, path, token, last_event_id=None):
        self.events = []
        self.status = None
        self.ended = threading.Event()
        headers = {"X-Frontdesk-Token": token}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self._thread = threading.Thread(target=self._read, args=(path, headers), daemon=True)
        self._thread.start()

    def _read(self, path, headers):
        try:
            self._connection.request("GET", path, headers=headers)
            response = self._connection.getresponse()
            self.status = response.status
            event_id, data = None, []
            while line := response.fp.readline():
                line = line.decode().rstrip("\r\n")
                if line.startswith("id: "):
                    event_id = int(line[4:])
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif not line and data:
                    self.events.append((event_id, "\n".join(data)))
                    event_id, data = None, []
        except (OSError, http.client.HTTPException):
            pass  # the connection was cut
        finally:
            self.ended.set()

    @property
    def last_id(self):
        ids = [event_id for event_id, _ in self.events if event_id is not None]
        return ids[-1] if ids else None

    def wait_for(self, text, timeout=10):
        """True once an event holding ``text`` has arrived; False if the stream ends first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in data for _, data in self.events):
                return True
            if self.ended.is_set():
                return any(text in data for _, data in self.events)
            time.sleep(0.05)
        return False

    def close(self):
        with contextlib.suppress(OSError):
            if self._connection.sock is not None:
                self._connection.sock.shutdown(2)
        self._thread.join(timeout=5)
        self._connection.close()


def fetch(opener, url, data=None, headers=None):
    """(status, text) of a request, whatever its status."""
    encoded = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=encoded, headers=headers or {})
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for_status(url, status, timeout):
    """Poll ``url`` until it answers ``status`` (a wait, not a timed assertion); every status
    seen, in order (None: no answer)."""
    opener = urllib.request.build_opener()
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        try:
            seen.append(fetch(opener, url)[0])
        except (urllib.error.URLError, OSError):
            seen.append(None)
        if seen[-1] == status or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def server_connections(direct_url):
    """How many connections the server holds to its database (pooled, and the listener's)."""
    with (
        contextlib.closing(psycopg2.connect(direct_url)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def count_bodies(direct_url, body):
    """How many stored messages hold ``body``, asked directly (not through the proxy)."""
    with (
        contextlib.closing(psycopg2.connect(direct_url)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT count(*) FROM message WHERE body = %s", (body,))
        return cursor.fetchone()[0]


def test_a_postgresql_outage_and_recovery(outage_server):
    server, proxy, direct_url = outage_server
    base = server.base_url
    plain = urllib.request.build_opener()
    status, page = fetch(plain, f"{base}/demo")
    assert status == 200
    key = demo_widget_key(page)
    token = secrets.token_hex(24)
    visitor = {"X-Frontdesk-Token": token, "HX-Request": "true"}

    def visitor_sends(body):
        data = {"body": body, "client_msg_id": secrets.token_hex(8)}
        return fetch(plain, f"{base}/widget/{key}/messages", data, visitor)

    assert visitor_sends("Hello before the outage")[0] == 200

    agent = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    status, login_page = fetch(agent, f"{base}/admin/login")
    csrf = csrf_token_from(login_page)
    signed_in = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": csrf}
    assert fetch(agent, f"{base}/admin/login", signed_in)[0] == 200  # redirected to the inbox
    inbox = fetch(agent, f"{base}/admin/")[1]
    opened = re.search(r'href="/admin/\?conversation=(\d+)"', inbox).group(1)  # a row
    conversation = f"{base}/admin/conversations/{opened}"

    def agent_replies(body):
        data = {"body": body, "csrf_token": csrf}
        return fetch(agent, f"{conversation}/reply", data, {"HX-Request": "true"})

    assert agent_replies("Answered before the outage")[0] == 200
    streams = [Stream(server.port, f"/widget/{key}/stream", token)]
    try:
        assert streams[0].wait_for("Answered before the outage")
        assert streams[0].status == 200
        # Requests at once leave several connections in the worker's pool: the outage breaks
        # them all, and none may serve a request after it.
        statuses = []

        def open_conversation():
            statuses.append(fetch(agent, conversation)[0])

        at_once = [threading.Thread(target=open_conversation) for _ in range(8)]
        for thread in at_once:
            thread.start()
        for thread in at_once:
            thread.join()
        assert statuses == [200] * 8
        assert server_connections(direct_url) >= 2  # the listener's and the pool's
        log_before = server.log_path.read_text(errors="replace")

        # --- the database goes away -----------------------------------------------------------
        proxy.cut()
        failed = 0
        seen = wait_for_status(f"{base}/healthz", 503, timeout=5)
        assert seen[-1] == 503
        failed += len(seen)
        assert fetch(plain, f"{base}/embed.js")[0] == 200
        assert fetch(plain, f"{base}/static/widget.css")[0] == 200
        status, text = visitor_sends("Hello during the outage")
        failed += 1
        assert status == 503
        assert WIDGET_NOTICE in text.replace("&#39;", "'")
        status, text = fetch(agent, conversation)
        failed += 1
        assert status == 503
        assert ADMIN_NOTICE in text.replace("&#39;", "'")
        status, text = agent_replies("Answered during the outage")
        failed += 1
        assert status == 503, text
        outage_log = server.log_path.read_text(errors="replace")[len(log_before) :]

        # --- and comes back -------------------------------------------------------------------
        proxy.restore()
        seen = wait_for_status(f"{base}/healthz", 200, timeout=15)
        assert seen == [200]  # the first request after it already finds the database
        for _ in range(8):  # and no connection the outage broke is handed out again
            status, text = fetch(agent, conversation)
            assert status == 200, text
        assert agent_replies("Answered after the outage")[0] == 200
        if not streams[-1].wait_for("Answered after the outage", timeout=5):
            assert streams[-1].ended.is_set(), "the stream stayed open but missed the reply"
            # The outage ended it: the browser reconnects, naming the last event it got.
            streams.append(Stream(server.port, f"/widget/{key}/stream", token, streams[0].last_id))
            assert streams[-1].wait_for("Answered after the outage")
            assert streams[-1].status == 200
    finally:
        for stream in streams:
            stream.close()

    received = [data for stream in streams for _, data in stream.events]
    for body in ("Answered before the outage", "Answered after the outage"):
        assert sum(body in data for data in received) == 1, (body, received)
    assert not any("during the outage" in data for data in received)
    assert count_bodies(direct_url, "Answered during the outage") == 0
    assert count_bodies(direct_url, "Hello during the outage") == 0
    assert count_bodies(direct_url, "Answered after the outage") == 1

    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log
    requests = [line for line in log.splitlines() if ACCESS_LINE.search(line)]
    assert requests, "no access log"
    assert not [line for line in requests if ACCESS_LINE.search(line).group(1) == "500"], log
    # One line per failed request (and the listener's): the access log aside.
    outage_lines = [line for line in outage_log.splitlines() if not ACCESS_LINE.search(line)]
    unavailable = [line for line in outage_lines if "database unavailable" in line]
    assert 1 <= len(unavailable) <= failed, outage_log
    assert len(outage_lines) <= failed + 3, outage_log


def test_a_stream_whose_database_goes_away_ends_with_one_line(tmp_path, caplog):
    """A stream woken while the database is down ends (the browser comes back with its
    Last-Event-ID) with one warning, not a traceback from inside the response."""
    connect_database(f"sqlite:///{tmp_path / 'frontdesk.db'}")
    reads = []

    def read_new():
        reads.append(True)
        if len(reads) > 1:
            raise OperationalError("server closed the connection unexpectedly")
        return "id: 1\ndata: before\n\n"

    with Flask(__name__).test_request_context(), caplog.at_level(logging.WARNING):
        chunks = iter(events.event_stream(("outage-test",), read_new, heartbeat=5).response)
        assert "data: before" in next(chunks)
        events.broker.deliver(("outage-test",))
        assert list(chunks) == []  # ended, without raising
    assert len(reads) == 2
    lines = [r for r in caplog.records if "stream ended" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].exc_info is None
