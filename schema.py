"""Creating the tables and bringing an older database's tables up to date."""

from playhouse.migrate import SchemaMigrator, migrate

from db import database
from models import MODELS, Widget


def create_tables():
    """Create missing tables, bring older ones up to date, keep every row.

    Tables that exist get their new columns before any index is made, since an index may
    name a column that is new; then widgets from before identity secrets get one each.
    """
    existing = set(database.get_tables())
    older = [model for model in MODELS if model._meta.table_name in existing]
    with database.atomic():
        database.create_tables([model for model in MODELS if model not in older])
    add_missing_columns()
    with database.atomic():
        for model in older:
            model._schema.create_indexes(safe=True)
        for widget in Widget.select().where(Widget.identity_secret.is_null()):
            widget.regenerate_identity_secret()


def add_missing_columns():
    """Bring tables made by an older Frontdesk up to date, through peewee's migrator.

    New fields are therefore added as nullable or with a default, so old rows stay valid.
    """
    migrator = SchemaMigrator.from_database(database.obj)
    operations = []
    for model in MODELS:
        table = model._meta.table_name
        existing = {column.name for column in database.get_columns(table)}
        operations += [
            migrator.add_column(table, field.column_name, field)
            for field in model._meta.sorted_fields
            if field.column_name not in existing
        ]
    if operations:
        with database.atomic():
            migrate(*operations)
