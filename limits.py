"""Rate limits for what strangers can do cheaply: widget writes and admin sign-in attempts.

Counts live in the process (Frontdesk runs as one process, see the README) and are lost on a
restart, which is fine for throttling. Each app has its own limiter.
"""

import threading
import time
from collections import deque

from flask import current_app


class RateLimiter:
    """A sliding window per key: at most ``limit`` events in ``window`` seconds."""

    PRUNE_EVERY_SECONDS = 60

    def __init__(self):
        self._events = {}  # key -> (window, deque of times)
        self._lock = threading.Lock()
        self._pruned_at = time.monotonic()

    def allow(self, key, limit, window):
        """Count one event for ``key``; False (and not counted) when the limit is reached."""
        now = time.monotonic()
        with self._lock:
            if now - self._pruned_at > self.PRUNE_EVERY_SECONDS:
                self._prune(now)
            _, events = self._events.setdefault(key, (window, deque()))
            while events and events[0] <= now - window:
                events.popleft()
            if len(events) >= max(1, limit):
                return False
            events.append(now)
            return True

    def _prune(self, now):
        """Forget keys whose newest event has left their own window."""
        self._pruned_at = now
        stale = [
            key
            for key, (window, events) in self._events.items()
            if not events or events[-1] <= now - window
        ]
        for key in stale:
            del self._events[key]


def limiter():
    """This app's limiter."""
    return current_app.extensions.setdefault("frontdesk_limiter", RateLimiter())


def allow(bucket, who, setting, window):
    """Whether ``who`` may do one more ``bucket`` thing; the limit is the config ``setting``."""
    return limiter().allow((bucket, who), int(current_app.config[setting]), window)
