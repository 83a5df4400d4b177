"""Rate limits for what strangers can do cheaply: widget writes and failed admin sign-ins.

Counting is Flask-Limiter's (the ``limits`` library's moving window), in the storage that
``FRONTDESK_RATELIMIT_STORAGE_URI`` names: ``memory://`` by default, which holds for one process,
and ``redis://host:6379`` in production, so that every process and worker shares one count. The
checks are explicit calls where the views need them, not decorators, because each limit has its
own key (an address, or an email and an address) and its own setting.
"""

import logging
import math
import time

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItemPerSecond

log = logging.getLogger(__name__)

limiter = Limiter(get_remote_address, strategy="moving-window", headers_enabled=False)

DEFAULT_STORAGE_URI = "memory://"


def init_app(app):
    """Give the app its limiter, on the storage its configuration names."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", DEFAULT_STORAGE_URI)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "frontdesk")
    limiter.init_app(app)


def uses_shared_storage(config):
    """Whether limits are counted where every process sees them (not in one process' memory)."""
    return not str(config.get("RATELIMIT_STORAGE_URI", DEFAULT_STORAGE_URI)).startswith("memory")


def allow(bucket, who, setting, window):
    """Whether ``who`` may do one more ``bucket`` thing: at most the config ``setting`` times in
    ``window`` seconds. A limit below 1 counts as 1.

    When the storage cannot be reached (Redis down) the request is let through and the outage
    is logged: a rate limit must not take the chat down with it.
    """
    return _count("hit", bucket, who, setting, window, True)


def record(bucket, who, setting, window):
    """Count one ``bucket`` thing (a failed sign-in, say) for ``who``, whatever the count."""
    _count("hit", bucket, who, setting, window, None)


def seconds_to_wait(bucket, who, setting, window):
    """0 while ``who`` is under the ``bucket`` limit (nothing is counted); once it is reached,
    the seconds until the oldest counted thing leaves the window. For limits that count only
    failures: check this before trying, ``record`` after a failure."""
    if _count("test", bucket, who, setting, window, True):
        return 0
    stats = _count("get_window_stats", bucket, who, setting, window, None)
    if stats is None:
        return window
    return max(1, math.ceil(stats.reset_time - time.time()))


def _limit(setting, window):
    return RateLimitItemPerSecond(max(1, int(current_app.config[setting])), window)


def _count(operation, bucket, who, setting, window, unavailable):
    """``limiter.limiter.<operation>`` for this limit and key; ``unavailable`` when the storage
    cannot be reached (logged)."""
    limit = _limit(setting, window)
    key = who if isinstance(who, str) else "|".join(str(part) for part in who)
    # These explicit checks bypass Flask-Limiter's own keys, so they add its prefix themselves:
    # servers (or test runs) sharing one Redis keep apart by RATELIMIT_KEY_PREFIX.
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    try:
        return getattr(limiter.limiter, operation)(
            limit, *([prefix] if prefix else []), bucket, key
        )
    except Exception as error:  # the storage's own errors differ per backend
        log.warning(
            "rate limit storage unavailable (%s): request let through", type(error).__name__
        )
        return unavailable
