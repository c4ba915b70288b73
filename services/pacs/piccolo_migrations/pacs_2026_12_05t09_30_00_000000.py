from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Each job records the pacs process running it, so that the jobs of a process that died can be failed"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pacs", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Job",
        tablename="jobs",
        column_name="process",
        db_column_name="process",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
