"""Live updates: who must look again, and the Server-Sent Events streams that tell them.

A change is *published* under a topic (``conversation:7``, ``client:3``, ``inbox``); a stream
*subscribes* to its topics and, when woken, reads what is new from the database. The broker
carries no data, only "look again", so a stream that missed a wake-up loses nothing: it always
reads from the database past the last event id it sent, and a reconnecting browser names that id
in ``Last-Event-ID``.

Each topic keeps its own set of waiting streams, so an event wakes only the streams of its
topics: its cost does not grow with the number of other open streams.

Open streams are bounded (``StreamLimits``): a few per holder (a visitor token, an agent), the
newest ending the oldest, and a cap per visitor address, past which a new stream is refused, so
one visitor cannot use up a server's connections.

On SQLite (one process) events stay in the process. On PostgreSQL they go through
``NOTIFY frontdesk_events``: every process of every server LISTENs on one connection of its own
and wakes its local streams, so a reply posted to one process reaches a visitor whose stream is
held by another. A NOTIFY sent inside a transaction is delivered at its commit, so no stream is
woken before the row it should read is visible.
"""

import logging
import re
import select
import threading
import time
from collections import defaultdict

import psycopg2
from flask import Response, stream_with_context
from peewee import PostgresqlDatabase

from db import UNAVAILABLE, database

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15
CHANNEL = "frontdesk_events"


class Subscription:
    """One stream's place in the broker: woken when any of its topics is published."""

    def __init__(self, broker, topics):
        self.broker = broker
        self.topics = tuple(topics)
        self._woken = threading.Event()
        self.ended = False  # set by ``end``: the stream stops at its next round
        self.holder = self.address = None  # whose stream it is, for ``StreamLimits``

    def wake(self):
        self._woken.set()

    def end(self):
        """Make the stream stop (a newer one of the same holder took its place)."""
        self.ended = True
        self.wake()

    def wait(self, timeout):
        """Block until woken or ``timeout`` passes; True when woken (and ready for the next)."""
        woken = self._woken.wait(timeout)
        self._woken.clear()
        return woken

    def close(self):
        self.broker.unsubscribe(self)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()


class Broker:
    """Per-topic sets of waiting streams, woken in this process or through PostgreSQL."""

    def __init__(self, local=False):
        self._lock = threading.Lock()
        self._waiting = defaultdict(set)
        self._listener = None
        self.local = local  # True: never through PostgreSQL, whatever the database

    def subscribe(self, topics):
        """A subscription to ``topics``; take it before reading, so nothing slips in between."""
        subscription = Subscription(self, topics)
        with self._lock:
            for topic in subscription.topics:
                self._waiting[topic].add(subscription)
        listener = self.listener()
        if listener is not None:
            listener.ensure_running()
        return subscription

    def unsubscribe(self, subscription):
        with self._lock:
            for topic in subscription.topics:
                waiting = self._waiting.get(topic)
                if waiting is not None:
                    waiting.discard(subscription)
                    if not waiting:
                        del self._waiting[topic]

    def publish(self, *topics):
        """Tell every stream subscribed to any of ``topics`` to look again.

        Call it after the change is committed, or inside its transaction on PostgreSQL.
        """
        listener = self.listener()
        if listener is not None:
            listener.notify(topics)
        else:
            self.deliver(topics)

    def deliver(self, topics):
        """Wake this process' subscribers of ``topics``."""
        with self._lock:
            woken = set().union(*(self._waiting.get(topic, ()) for topic in topics))
        for subscription in woken:
            subscription.wake()

    def deliver_all(self):
        """Wake every subscriber: after a lost connection, they all look again."""
        with self._lock:
            woken = set().union(*self._waiting.values())
        for subscription in woken:
            subscription.wake()

    def listener(self):
        """The PostgreSQL listener of the bound database, or None on SQLite (one process)."""
        bound = database.obj
        if self.local or not isinstance(bound, PostgresqlDatabase):
            return None
        params = {"dbname": bound.database, **bound.connect_params}
        where = repr(sorted(params.items()))
        if self._listener is None or self._listener.where != where:
            self._listener = PostgresListener(self, lambda: psycopg2.connect(**params), where)
        return self._listener


class PostgresListener:
    """One connection per process that LISTENs and wakes local subscribers."""

    RECONNECT_SECONDS = 1.0

    def __init__(self, broker, connect, where):
        self.broker = broker
        self.connect = connect
        self.where = where
        self._thread = None
        self._lock = threading.Lock()
        self._lost = False  # the connection failed, and has not been made again since

    def notify(self, topics):
        """NOTIFY on the request's own connection: inside a transaction, sent at its commit."""
        database.execute_sql("SELECT pg_notify(%s, %s)", (CHANNEL, " ".join(topics)))

    def ensure_running(self):
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="frontdesk-listen", daemon=True
                )
                self._thread.start()

    def _run(self):
        while True:
            try:
                self._listen()
            except Exception as error:  # the database went away: wait, then listen again
                if not self._lost:  # one line per outage, not one per attempt
                    log.warning(
                        "event listener lost PostgreSQL (%s); retrying", type(error).__name__
                    )
                self._lost = True
            # The streams are not woken here: the database is likely down, and they would only
            # fail. They look again once LISTEN holds again (below), so nothing published
            # meanwhile is missed.
            time.sleep(self.RECONNECT_SECONDS)

    def _listen(self):
        connection = self.connect()
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
            if self._lost:
                log.warning("event listener reached PostgreSQL again")
                self._lost = False
            self.broker.deliver_all()  # anything sent before LISTEN took hold
            while True:
                readable, _, _ = select.select([connection], [], [], HEARTBEAT_SECONDS)
                if not readable:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT 1")  # notice a dead server while idle
                    continue
                connection.poll()
                topics = set()
                while connection.notifies:
                    topics.update(connection.notifies.pop(0).payload.split())
                if topics:
                    self.broker.deliver(topics)
        finally:
            connection.close()


class TooManyStreams(Exception):
    """A new stream over the cap of its address: the view answers 429."""


class StreamLimits:
    """The open streams of each holder and of each address.

    At most ``per_holder`` streams per holder (a visitor's token, an agent): a new one ends the
    oldest, so a visitor with many tabs keeps the newest. At most ``per_address`` streams per
    address, whoever holds them: past that, new streams are refused.

    The bookkeeping is in this process only: with several workers each counts its own streams
    (gunicorn's connections are per worker too, which is what these limits protect).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._held = defaultdict(list)  # holder -> subscriptions, oldest first
        self._per_address = defaultdict(int)

    def admit(self, subscription, holder, per_holder, address=None, per_address=None):
        """Count ``subscription`` as ``holder``'s stream from ``address``; end the holder's oldest
        streams beyond ``per_holder``. TooManyStreams when the address has ``per_address``."""
        with self._lock:
            held = self._held[holder]
            ending = held[: max(0, len(held) - per_holder + 1)]
            if address is not None and per_address is not None:
                freed = sum(1 for old in ending if old.address == address)
                if self._per_address[address] - freed >= per_address:
                    if not held:
                        del self._held[holder]
                    raise TooManyStreams(address)
            for old in ending:
                self._forget(old)
            subscription.holder, subscription.address = holder, address
            self._held[holder].append(subscription)
            if address is not None:
                self._per_address[address] += 1
        for old in ending:
            old.end()

    def release(self, subscription):
        """The stream is over: it no longer counts (again: nothing happens)."""
        with self._lock:
            self._forget(subscription)

    def _forget(self, subscription):
        held = self._held.get(subscription.holder)
        if held is None or subscription not in held:
            return
        held.remove(subscription)
        if not held:
            del self._held[subscription.holder]
        if subscription.address is not None:
            self._per_address[subscription.address] -= 1
            if self._per_address[subscription.address] <= 0:
                del self._per_address[subscription.address]

    def count(self, holder=None, address=None):
        """Open streams of a holder, or from an address (for tests and logs)."""
        with self._lock:
            if holder is not None:
                return len(self._held.get(holder, ()))
            return self._per_address.get(address, 0)


broker = Broker()
stream_limits = StreamLimits()


def format_event(data, event_id=None, event=None):
    """One SSE event; every line of ``data`` gets its own ``data:`` field."""
    lines = []
    if event:
        lines.append(f"event: {event}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


# The last event of a stream that ends for good: the pages close their stream on it
# (``hx-sse:close="end"``) rather than reconnecting.
END_EVENT = "end"


def event_stream(
    topics, read_new, heartbeat=HEARTBEAT_SECONDS, holder=None, limits=None, on_heartbeat=None
):
    """An SSE response: each round, ``read_new()`` gives the events to send, as SSE text
    (None ends the stream). ``on_heartbeat()``, if given, runs (with a database connection)
    when the stream starts and at each heartbeat: a sign that whoever holds it is still there.

    ``read_new`` runs inside a short database connection; between rounds the stream holds no
    connection, only its subscription. With ``holder`` (``(key, per_holder)``) and ``limits``
    (``(address, per_address)``, or None), the stream counts in ``stream_limits``: it may end
    an older stream of the same holder, or raise TooManyStreams before anything is sent.
    """
    subscription = broker.subscribe(topics)  # now, so that a newer stream can end it
    if holder is not None:
        address, per_address = limits or (None, None)
        try:
            stream_limits.admit(subscription, *holder, address, per_address)
        except TooManyStreams:
            subscription.close()
            raise

    def finish():
        stream_limits.release(subscription)
        subscription.close()

    def generate():
        try:
            with database.connection_context():
                replay = read_new()
                if on_heartbeat is not None:
                    on_heartbeat()
            if replay is None:
                yield format_event("", event=END_EVENT)
                return
            yield "retry: 1000\n\n" + replay  # what was missed comes with the first bytes
            while True:
                woken = subscription.wait(heartbeat)
                if subscription.ended:  # a newer stream of the same holder took its place
                    yield format_event("", event=END_EVENT)
                    return
                if not woken:
                    if on_heartbeat is not None:
                        with database.connection_context():
                            on_heartbeat()
                    yield ": heartbeat\n\n"
                    continue
                with database.connection_context():
                    chunk = read_new()
                if chunk is None:  # the reader says the stream is over (e.g. agent deactivated)
                    yield format_event("", event=END_EVENT)
                    return
                if chunk:
                    yield chunk
        except UNAVAILABLE as error:
            # The database went away mid-stream: end it with one line, not a traceback. The
            # browser comes back naming its Last-Event-ID, and gets a 503 until the database
            # answers again.
            cause = (str(error).strip().splitlines() or [""])[0][:200]
            log.warning("stream ended, database unavailable: %s: %s", type(error).__name__, cause)
        finally:
            finish()

    if not database.is_closed():
        database.close()  # the request's own connection is not held for the stream's life
    response = Response(stream_with_context(generate()), mimetype="text/event-stream")
    response.call_on_close(finish)  # also when the generator never started
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def last_event_id(request, fallback_arg="after"):
    """Where a stream resumes: the browser's ``Last-Event-ID``, else ``?after=``, else 0."""
    for raw in (request.headers.get("Last-Event-ID"), request.args.get(fallback_arg)):
        if raw and re.fullmatch(r"[0-9]{1,18}", raw):
            return int(raw)
    return 0
