"""Live updates: who must look again, and the Server-Sent Events streams that tell them.

A change is *published* under a topic (``conversation:7``, ``client:3``, ``inbox``); a stream
*waits* on its topics and then reads what is new from the database. The broker carries no data,
only "look again", so a stream that missed a wake-up loses nothing: it always reads from the
database past the last event id it sent, and a reconnecting browser names that id in
``Last-Event-ID``.

The broker is in-process (a condition variable, which gevent turns into a greenlet-friendly one).
That serves one process: the development server's threads, or one gunicorn gevent worker, which
holds thousands of idle streams. Several processes would need a shared broker (PostgreSQL
LISTEN/NOTIFY) behind the same two calls.
"""

import re
import threading
from collections import defaultdict

from flask import Response, stream_with_context

from db import database

HEARTBEAT_SECONDS = 15


class Broker:
    """Wakes the streams waiting on a topic; each topic has a version that counts its changes."""

    def __init__(self):
        self._condition = threading.Condition()
        self._versions = defaultdict(int)

    def publish(self, *topics):
        """Tell every stream waiting on any of ``topics`` to look again (call after commit)."""
        with self._condition:
            for topic in topics:
                self._versions[topic] += 1
            self._condition.notify_all()

    def snapshot(self, topics):
        with self._condition:
            return tuple(self._versions[topic] for topic in topics)

    def wait(self, topics, seen, timeout):
        """Block until a topic moves past ``seen`` or ``timeout`` passes; the new snapshot."""
        with self._condition:
            self._condition.wait_for(
                lambda: tuple(self._versions[topic] for topic in topics) != seen, timeout
            )
            return tuple(self._versions[topic] for topic in topics)


broker = Broker()


def format_event(data, event_id=None, event=None):
    """One SSE event; every line of ``data`` gets its own ``data:`` field."""
    lines = []
    if event:
        lines.append(f"event: {event}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


def event_stream(topics, read_new, heartbeat=HEARTBEAT_SECONDS):
    """An SSE response: each round, ``read_new()`` gives the events to send, as SSE text
    (None ends the stream).

    ``read_new`` runs inside a short database connection; between rounds the stream holds no
    connection, only its place in the broker's queue.
    """

    def generate():
        seen = broker.snapshot(topics)
        with database.connection_context():
            replay = read_new()
        yield "retry: 1000\n\n" + replay  # what was missed comes with the first bytes
        while True:
            now = broker.wait(topics, seen, heartbeat)
            if now == seen:
                yield ": heartbeat\n\n"
                continue
            seen = now
            with database.connection_context():
                chunk = read_new()
            if chunk is None:  # the reader says the stream is over (e.g. agent deactivated)
                return
            if chunk:
                yield chunk

    if not database.is_closed():
        database.close()  # the request's own connection is not held for the stream's life
    response = Response(stream_with_context(generate()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def last_event_id(request, fallback_arg="after"):
    """Where a stream resumes: the browser's ``Last-Event-ID``, else ``?after=``, else 0."""
    for raw in (request.headers.get("Last-Event-ID"), request.args.get(fallback_arg)):
        if raw and re.fullmatch(r"[0-9]{1,18}", raw):
            return int(raw)
    return 0
