"""002: a visitor token is unique per widget, not across widgets (commit 480d379).

The single-column unique index on ``client.token_hash`` is dropped, whatever its name: older
Frontdesk versions made the new index but left the old one, which then refused a token that a
visitor of another widget already had (a 500).
"""

from schema import drop_indexes_on


def migrate(migrator, database, *, fake=False):
    with migrator.fake():  # the snapshot only: the database gets the idempotent step below
        migrator.drop_index("client", "token_hash")
    migrator.run(drop_indexes_on, "client", ("token_hash",))
    migrator.add_index("client", "widget", "token_hash", unique=True, safe=True)
