"""gunicorn's settings for Frontdesk, read from the working directory at start.

Live updates hold one connection per open widget and admin page, so workers are gevent
workers: each holds thousands of idle streams. Anything here can be overridden on the command
line (``--workers 4``) or in ``GUNICORN_CMD_ARGS``.
"""

import os

worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
# Every open widget holds a stream: one gevent worker holds this many connections at once.
worker_connections = int(os.environ.get("FRONTDESK_WORKER_CONNECTIONS", "4000"))
graceful_timeout = 5
timeout = 30


def post_fork(server, worker):
    """In each gevent worker, let psycopg2 wait for PostgreSQL cooperatively: one slow query
    then stalls only its own request, not every stream of the worker."""
    if server.cfg.worker_class_str == "gevent":
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()


def when_ready(server):
    """Warn when several processes would each keep to themselves what they must share."""
    database = os.environ.get("FRONTDESK_DATABASE_URL", "sqlite")
    if server.cfg.workers > 1 and database.startswith("sqlite"):
        server.log.warning(
            "Frontdesk runs %d workers on SQLite: live events stay inside each worker, so a "
            "reply can wait until its visitor's next message. Run one worker on SQLite, or use "
            "PostgreSQL, whose LISTEN/NOTIFY carries events between workers.",
            server.cfg.workers,
        )
    storage = os.environ.get("FRONTDESK_RATELIMIT_STORAGE_URI", "memory://")
    if server.cfg.workers > 1 and storage.startswith("memory"):
        server.log.warning(
            "Frontdesk runs %d workers but counts rate limits in memory, so each worker counts "
            "alone and the limits are %d times looser. Set FRONTDESK_RATELIMIT_STORAGE_URI="
            "redis://HOST:6379 to share them.",
            server.cfg.workers,
            server.cfg.workers,
        )
