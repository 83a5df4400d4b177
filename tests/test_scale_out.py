"""Frontdesk scaled out: several gunicorn processes on one PostgreSQL database, limits in Redis.

Real servers in subprocesses, talked to over HTTP: a visitor's widget on one server and an agent
on another exchange messages through their live streams; a server with two workers gets every
reply to the visitor whichever worker took it; widget writes counted in Redis are limited across
servers; and gunicorn warns at start when several workers would count limits each in memory.
Streams are read on threads of their own and waited on with a deadline.
"""

import contextlib
import http.client
import http.cookiejar
import os
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import redis
from helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ScaledServerProcess,
    csrf_token_from,
    demo_widget_key,
    postgres_database,
)

REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
WAIT_SECONDS = 30  # the longest a message may take to show up (two loaded cores)
MEMORY_WARNING = "counts rate limits in memory"


def unavailable(message):
    """Skip without the service, but fail when CI is set (there it must be tested)."""
    if os.environ.get("CI"):
        pytest.fail(f"{message}\nCI is set, so the scale-out tests must run.", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def postgres_url():
    """A PostgreSQL database of this test's own, dropped at the end."""
    with postgres_database(f"frontdesk_scale_{os.getpid()}_{secrets.token_hex(4)}") as url:
        yield url


@pytest.fixture
def redis_storage():
    """Rate-limit settings on Redis with a key prefix of this test's own; its keys go at the end."""
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        connection.ping()
    except redis.RedisError as error:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {error}")
    prefix = f"frontdesk-scale-{os.getpid()}-{secrets.token_hex(4)}"
    yield {"FRONTDESK_RATELIMIT_STORAGE_URI": REDIS_URL, "FRONTDESK_RATELIMIT_KEY_PREFIX": prefix}
    keys = list(connection.scan_iter(match=f"*{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


@contextlib.contextmanager
def running(*servers):
    """Start every server (the first one makes the tables and the seed); stop them all after."""
    servers[0].init_db()
    started = []
    try:
        for server in servers:
            server.start()
            started.append(server)
        yield servers
    finally:
        for server in started:
            server.stop()


def wait_for(condition, timeout=WAIT_SECONDS):
    """Poll ``condition`` until it holds or the time runs out; its last answer."""
    deadline = time.monotonic() + timeout
    while not (held := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return held


# --- the two sides of a chat, over HTTP ---------------------------------------------------------


class EventStream:
    """A Server-Sent Events stream read on a thread of its own: its events as they arrive."""

    def __init__(self, port, path, headers):
        self.path = path
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.connection.request("GET", path, headers={"Accept": "text/event-stream", **headers})
        self.response = self.connection.getresponse()
        assert self.response.status == 200, f"{path}: {self.response.status}"
        assert self.response.getheader("Content-Type", "").startswith("text/event-stream")
        self._lock = threading.Lock()
        self._events = []
        self.opened = threading.Event()  # the first bytes (retry hint and replay) have come
        self._thread = threading.Thread(target=self._read, name=f"sse {path}", daemon=True)
        self._thread.start()
        assert self.opened.wait(WAIT_SECONDS), f"{path} sent nothing"

    def _read(self):
        fields = {}
        try:
            while raw := self.response.readline():
                line = raw.decode().rstrip("\r\n")
                if not line:  # an empty line ends an event
                    if fields:
                        with self._lock:
                            self._events.append(fields)
                        if "retry" in fields:
                            self.opened.set()
                    fields = {}
                    continue
                if line.startswith(":"):  # a comment: the heartbeat
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data" and "data" in fields:
                    fields["data"] += "\n" + value
                else:
                    fields[name] = value
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed by close(), or by the server

    def messages(self):
        """The stream's message events (an id, no event name) so far: (id, data) pairs."""
        with self._lock:
            return [
                (int(event["id"]), event.get("data", ""))
                for event in self._events
                if "id" in event and "event" not in event
            ]

    def close(self):
        """End the stream: the reading thread sees it end, then the connection is closed."""
        with contextlib.suppress(OSError, AttributeError):
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self.connection.close()


def bodies_seen(stream, bodies):
    """Which of ``bodies`` the stream's message events carried, in the order they came (an
    event with none of them shows as its text, so that a stranger fails the comparison)."""
    seen = []
    for _event_id, data in stream.messages():
        found = [body for body in bodies if body in data]
        seen.extend(found or [f"<unexpected event: {data[:200]!r}>"])
    return seen


def arrives(stream, bodies, expected):
    """Wait until the stream has carried exactly ``expected`` of ``bodies``; fail showing what
    it carried when the time runs out."""
    wait_for(lambda: bodies_seen(stream, bodies) == expected)
    assert bodies_seen(stream, bodies) == expected, stream.path


class Visitor:
    """A visitor's widget on one server: posts with its token, holds its live stream."""

    def __init__(self, server):
        self.server = server
        page = urllib.request.urlopen(f"{server.base_url}/demo", timeout=20).read().decode()
        self.key = demo_widget_key(page)
        self.token = secrets.token_hex(24)

    def post(self, body):
        """Send a message; the response's status (429 and other refusals too)."""
        request = urllib.request.Request(
            f"{self.server.base_url}/widget/{self.key}/messages",
            data=urllib.parse.urlencode(
                {"body": body, "client_msg_id": secrets.token_hex(8)}
            ).encode(),
            headers={"X-Frontdesk-Token": self.token, "HX-Request": "true"},
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def stream(self):
        return EventStream(
            self.server.port, f"/widget/{self.key}/stream", {"X-Frontdesk-Token": self.token}
        )


class Agent:
    """An agent signed in on one server through the login form: cookies, CSRF token, replies."""

    def __init__(self, server):
        self.server = server
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        login = self.get("/admin/login")
        form = {
            "email": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "csrf_token": csrf_token_from(login),
        }
        with self.opener.open(self.url("/admin/login"), urllib.parse.urlencode(form).encode()) as r:
            assert not r.url.endswith("/admin/login"), "the sign-in did not take"

    def url(self, path):
        return f"{self.server.base_url}{path}"

    def get(self, path):
        with self.opener.open(self.url(path), timeout=20) as response:
            return response.read().decode()

    def only_conversation(self):
        """The id of the one conversation in the inbox."""
        ids = set(re.findall(r'href="/admin/\?conversation=(\d+)"', self.get("/admin/")))
        assert len(ids) == 1, ids
        return int(ids.pop())

    def reply(self, conversation_id, body):
        """Post a reply as the conversation page's htmx form does; the response's status."""
        page = f"/admin/conversations/{conversation_id}"
        if not hasattr(self, "csrf"):
            self.csrf = csrf_token_from(self.get(page))
        request = urllib.request.Request(
            self.url(f"{page}/reply"),
            data=urllib.parse.urlencode({"body": body, "csrf_token": self.csrf}).encode(),
            headers={"HX-Request": "true"},
        )
        with self.opener.open(request, timeout=20) as response:
            return response.status

    def live(self, conversation_id):
        """The admin page's live stream while the conversation is open."""
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        return EventStream(
            self.server.port, f"/admin/live?conversation={conversation_id}", {"Cookie": cookie}
        )


# --- live updates across processes ------------------------------------------------------------


def test_two_servers_on_one_database_carry_a_chat_both_ways(tmp_path, postgres_url):
    """The visitor on server A, the agent on server B: every message reaches the other side
    once, in order, however the posts interleave."""
    server_a = ScaledServerProcess(tmp_path / "a", postgres_url)
    server_b = ScaledServerProcess(tmp_path / "b", postgres_url)
    run = secrets.token_hex(3)
    asked = [f"question {n} {run}" for n in range(4)]
    answered = [f"answer {n} {run}" for n in range(1, 4)]
    with running(server_a, server_b):
        visitor = Visitor(server_a)
        assert visitor.post(asked[0]) == 200  # the conversation starts
        agent = Agent(server_b)
        conversation_id = agent.only_conversation()
        visitor_stream = visitor.stream()
        agent_stream = agent.live(conversation_id)
        try:
            # One round that waits for each message, then a burst that does not.
            arrives(agent_stream, asked, asked[:1])
            assert visitor.post(asked[1]) == 200
            arrives(agent_stream, asked, asked[:2])
            assert agent.reply(conversation_id, answered[0]) == 200
            arrives(visitor_stream, answered, answered[:1])
            for question, answer in zip(asked[2:], answered[1:], strict=True):
                assert visitor.post(question) == 200
                assert agent.reply(conversation_id, answer) == 200
            # A last message each way: once it is in, anything doubled before it is in too.
            last_question, last_answer = f"last question {run}", f"last answer {run}"
            assert visitor.post(last_question) == 200
            assert agent.reply(conversation_id, last_answer) == 200
            wait_for(lambda: last_question in bodies_seen(agent_stream, [last_question]))
            wait_for(lambda: last_answer in bodies_seen(visitor_stream, [last_answer]))
        finally:
            visitor_stream.close()
            agent_stream.close()

    assert bodies_seen(agent_stream, [*asked, last_question]) == [*asked, last_question]
    assert bodies_seen(visitor_stream, [*answered, last_answer]) == [*answered, last_answer]
    for stream in (agent_stream, visitor_stream):
        ids = [event_id for event_id, _data in stream.messages()]
        assert ids == sorted(set(ids)), f"{stream.path}: ids {ids}"


def test_every_reply_reaches_the_visitor_whichever_worker_takes_it(tmp_path, postgres_url):
    """One server, two worker processes: the visitor's stream is held by one of them, the
    agent's replies land on either, and every one of them reaches the visitor."""
    pid_log = ["--access-logfile", "-", "--access-logformat", "worker %(p)s %(m)s %(U)s %(s)s"]
    server = ScaledServerProcess(tmp_path, postgres_url, options=["--workers", "2", *pid_log])
    run = secrets.token_hex(3)
    with running(server):
        visitor = Visitor(server)
        assert visitor.post(f"hello {run}") == 200
        agent = Agent(server)
        conversation_id = agent.only_conversation()
        visitor_stream = visitor.stream()
        replies = []
        try:
            # Replies until both workers have taken some (at least six; each one a new
            # connection), so that some were posted to the worker not holding the stream.
            while len(replies) < 6 or len(reply_workers(server, conversation_id)) < 2:
                assert len(replies) < 40, "the replies all went to one worker"
                replies.append(f"reply {len(replies)} {run}")
                assert agent.reply(conversation_id, replies[-1]) == 200
            wait_for(lambda: bodies_seen(visitor_stream, replies) == replies)
        finally:
            visitor_stream.close()

    assert len(reply_workers(server, conversation_id)) == 2
    assert bodies_seen(visitor_stream, replies) == replies


def reply_workers(server, conversation_id):
    """The worker processes that answered the conversation's replies, from the access log."""
    path = f"/admin/conversations/{conversation_id}/reply"
    return set(re.findall(rf"^worker <(\d+)> POST {re.escape(path)} 200$", server.log_text(), re.M))


# --- rate limits across processes -------------------------------------------------------------


def test_widget_write_limit_holds_across_two_servers_with_redis(
    tmp_path, postgres_url, redis_storage
):
    """Five writes a minute, counted in Redis: alternating between two servers does not get a
    sixth through."""
    env = {**redis_storage, "FRONTDESK_WIDGET_WRITES_PER_MINUTE": "5"}
    server_a = ScaledServerProcess(tmp_path / "a", postgres_url, env)
    server_b = ScaledServerProcess(tmp_path / "b", postgres_url, env)
    with running(server_a, server_b):
        visitor_a = Visitor(server_a)
        visitor_b = Visitor(server_b)
        visitor_b.token = visitor_a.token  # one visitor, one address, two servers
        visitors = [visitor_a, visitor_b] * 4
        statuses = [visitor.post(f"message {n}") for n, visitor in enumerate(visitors)]
    assert statuses == [200] * 5 + [429] * 3


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_several_workers_warn_at_start_when_limits_are_counted_in_memory(
    tmp_path, request, storage
):
    env = request.getfixturevalue("redis_storage") if storage == "redis" else {}
    server = ScaledServerProcess(tmp_path, env=env, options=["--workers", "2"])
    with running(server):
        assert wait_for(lambda: log_has_booted_workers(server.log_text(), 2))
    log = server.log_text()
    if storage == "memory":
        assert MEMORY_WARNING in log
        assert "Frontdesk runs 2 workers" in log
    else:
        assert MEMORY_WARNING not in log


def log_has_booted_workers(log, count):
    return len(re.findall(r"Booting worker with pid", log)) >= count
