"""Rate limits for what strangers can do cheaply: widget writes and admin sign-in attempts.

Counting is Flask-Limiter's (the ``limits`` library's moving window), in the storage that
``FRONTDESK_RATELIMIT_STORAGE_URI`` names: ``memory://`` by default, which holds for one process,
and ``redis://host:6379`` in production, so that every process and worker shares one count. The
checks are explicit calls where the views need them, not decorators, because each limit has its
own key (an address, or an email and an address) and its own setting.
"""

import logging

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
    limit = RateLimitItemPerSecond(max(1, int(current_app.config[setting])), window)
    key = who if isinstance(who, str) else "|".join(str(part) for part in who)
    # These explicit checks bypass Flask-Limiter's own keys, so they add its prefix themselves:
    # servers (or test runs) sharing one Redis keep apart by RATELIMIT_KEY_PREFIX.
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
    try:
        return limiter.limiter.hit(limit, *([prefix] if prefix else []), bucket, key)
    except Exception as error:  # the storage's own errors differ per backend
        log.warning(
            "rate limit storage unavailable (%s): request let through", type(error).__name__
        )
        return True
