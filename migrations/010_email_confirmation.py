"""010: typed emails are confirmed before they earn trust.

``client.email_confirmed`` says whether the client proved their email is theirs (a signed
identity, or the confirmation link mailed to it). Signed clients count as confirmed. Clients who
filled in the form before this change are kept with their contact, unconfirmed, and get the
name and email they typed copied from it, as the form now stores them. Transcript mails are
counted per recipient and day, so their recipients are stored in lower case and indexed.
"""

import peewee as pw

from schema import add_columns

CONFIRM_SIGNED = "UPDATE client SET email_confirmed = verified WHERE email IS NOT NULL"

COPY_TYPED = """
UPDATE client SET
    name = (SELECT contact.name FROM contact WHERE contact.id = client.contact_id),
    email = (SELECT contact.email FROM contact WHERE contact.id = client.contact_id)
WHERE contact_id IS NOT NULL AND email IS NULL AND external_id IS NULL
"""

LOWER_RECIPIENTS = "UPDATE transcriptmail SET recipient = LOWER(recipient)"


def migrate(migrator, database, *, fake=False):
    add_columns(migrator, "client", fake=fake, email_confirmed=pw.BooleanField(default=False))
    migrator.sql(CONFIRM_SIGNED)
    migrator.sql(COPY_TYPED)
    migrator.sql(LOWER_RECIPIENTS)
    migrator.add_index("transcriptmail", "recipient", safe=True)
