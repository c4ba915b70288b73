from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Studies and series record whether they are stable (no new instance for PACSBOX_STABLE_AGE seconds)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pacs", description=DESCRIPTION)
    for class_name, tablename in (("Study", "studies"), ("Series", "series")):
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name="stable",
            db_column_name="stable",
            column_class_name="Boolean",
            column_class=Boolean,
            params={
                "default": False,
                "null": False,
                "primary_key": False,
                "unique": False,
                "index": True,
                "index_method": IndexMethod.btree,
                "choices": None,
                "db_column_name": None,
                "secret": False,
            },
            schema=None,
        )
    return manager
