"""Rate limits for what strangers can do cheaply: widget writes and admin sign-in attempts.

Counts live in the process (Frontdesk runs as one process, see the README) and are lost on a
restart, which is fine for throttling. Each app has its own limiter.
"""

import threading
import time
from collections import defaultdict, deque

from flask import current_app

PRUNE_ABOVE_KEYS = 10_000


class RateLimiter:
    """A sliding window per key: at most ``limit`` events in ``window`` seconds."""

    def __init__(self):
        self._events = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key, limit, window):
        """Count one event for ``key``; False (and not counted) when the limit is reached."""
        now = time.monotonic()
        with self._lock:
            if len(self._events) > PRUNE_ABOVE_KEYS:
                self._prune(now, window)
            events = self._events[key]
            while events and events[0] <= now - window:
                events.popleft()
            if len(events) >= limit:
                return False
            events.append(now)
            return True

    def _prune(self, now, window):
        for key in [key for key, events in self._events.items() if events[-1] <= now - window]:
            del self._events[key]


def limiter():
    """This app's limiter."""
    return current_app.extensions.setdefault("frontdesk_limiter", RateLimiter())


def allow(bucket, who, setting, window):
    """Whether ``who`` may do one more ``bucket`` thing; the limit is the config ``setting``."""
    return limiter().allow((bucket, who), int(current_app.config[setting]), window)
