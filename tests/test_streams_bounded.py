"""Open streams are bounded: a few per visitor token and per agent (the newest ends the oldest),
a cap per address (past it, 429 with the widget's notice), and a logout ends the token's streams.

Request-level: each stream is requested and read (``buffered=False``) in a thread of its own, as
a server's worker would serve it, and held open until it ends or the test ends it.
"""

import queue
import secrets
import threading

import pytest
from helpers import send_message, set_auth_type, sign_in, start_chat, visitor_headers

from admin.inbox import STREAMS_PER_AGENT
from events import broker, stream_limits
from models import AuthType, Message, hash_token
from widget.chat import STREAMS_PER_TOKEN

END = "event: end\ndata: \n\n"
ADDRESS = "198.51.100.7"


class Stream:
    """One stream, requested and read in its own thread; ``status`` once it answered."""

    open = []

    def __init__(self, test_client, url, **options):
        self.chunks = queue.Queue()
        answered = queue.Queue()
        self.thread = threading.Thread(
            target=self._run, args=(test_client, url, options, answered), daemon=True
        )
        self.thread.start()
        self.status, self.body = answered.get(timeout=10)
        self.open.append(self)

    def _run(self, test_client, url, options, answered):
        response = test_client.get(url, buffered=False, **options)
        try:
            if response.status_code != 200:
                answered.put((response.status_code, response.get_data(as_text=True)))
                return
            answered.put((200, None))
            for chunk in response.response:
                self.chunks.put(chunk if isinstance(chunk, str) else chunk.decode())
        finally:
            response.close()
            self.chunks.put(None)

    def next(self, timeout=5):
        return self.chunks.get(timeout=timeout)

    def rest(self, timeout=5):
        """Everything up to the stream's end, which must come within ``timeout``."""
        parts = []
        while (chunk := self.next(timeout)) is not None:
            parts.append(chunk)
        return parts


def end_streams_of(holder):
    for subscription in list(stream_limits._held.get(holder, ())):
        subscription.end()


@pytest.fixture(autouse=True)
def streams_end_with_the_test():
    yield
    for holder in list(stream_limits._held):
        end_streams_of(holder)
    for stream in Stream.open:
        stream.thread.join(timeout=5)
    Stream.open.clear()
    assert not stream_limits._held


def visitor_stream(client, widget, token, address=ADDRESS):
    return Stream(
        client,
        f"/widget/{widget.key}/stream",
        headers=visitor_headers(token),
        environ_base={"REMOTE_ADDR": address},
    )


def holder(widget, token):
    return f"widget:{widget.id}:{hash_token(token)}"


def test_a_new_stream_of_the_same_token_ends_the_oldest(client, widget, db):
    token = secrets.token_hex(24)
    send_message(client, widget, token)
    streams = []
    for _ in range(STREAMS_PER_TOKEN + 2):
        stream = visitor_stream(client, widget, token)
        assert stream.status == 200 and stream.next().startswith("retry:")
        streams.append(stream)
    # The two oldest were told to end, and ended; the newest stay open.
    for stream in streams[:2]:
        assert stream.rest() == [END]
    assert stream_limits.count(holder=holder(widget, token)) == STREAMS_PER_TOKEN
    assert stream_limits.count(address=ADDRESS) == STREAMS_PER_TOKEN
    with pytest.raises(queue.Empty):
        streams[-1].next(timeout=0.2)
    assert client.get("/healthz").status_code == 200


def test_streams_past_the_address_cap_get_a_429_and_the_server_still_answers(
    app, client, widget, db
):
    app.config["STREAMS_PER_ADDRESS"] = 4
    tokens = [secrets.token_hex(24) for _ in range(6)]
    for token in tokens:
        send_message(client, widget, token)
    streams = [visitor_stream(client, widget, token) for token in tokens]
    assert [stream.status for stream in streams] == [200, 200, 200, 200, 429, 429]
    assert "You are sending a lot at once" in streams[-1].body  # the widget's own notice
    assert stream_limits.count(address=ADDRESS) == 4
    assert client.get("/healthz").status_code == 200
    # Another address is not affected; a stream that ends frees its place.
    assert visitor_stream(client, widget, tokens[4], address="203.0.113.9").status == 200
    end_streams_of(holder(widget, tokens[0]))
    assert streams[0].rest()[-1] == END
    assert stream_limits.count(address=ADDRESS) == 3
    assert visitor_stream(client, widget, tokens[5]).status == 200


def test_an_open_stream_ends_when_its_token_is_revoked(client, widget, db):
    set_auth_type(widget, AuthType.NONE)
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token)
    stream = visitor_stream(client, widget, token)
    stream.next()
    conversation.add_message("before logout", Message.FROM_AGENT)
    broker.publish(*conversation.topics)
    assert "before logout" in stream.next()

    logout = client.post(f"/widget/{widget.key}/logout", headers=visitor_headers(token))
    assert logout.status_code == 204
    conversation.add_message("after logout", Message.FROM_AGENT)
    broker.publish(*conversation.topics)
    assert stream.rest() == [END]  # the logout woke it; it ended without the new reply
    assert stream_limits.count(holder=holder(widget, token)) == 0


def test_an_agent_holds_a_few_live_streams_the_newest_ending_the_oldest(app, db):
    agent = app.test_client()
    sign_in(agent)
    streams = []
    for _ in range(STREAMS_PER_AGENT + 1):
        stream = Stream(agent, "/admin/live")
        assert stream.status == 200 and "inbox-changed" in stream.next()
        streams.append(stream)
    assert streams[0].rest() == [END]
    broker.publish("inbox")
    assert all("inbox-changed" in stream.next() for stream in streams[1:])
    assert agent.get("/healthz").status_code == 200
