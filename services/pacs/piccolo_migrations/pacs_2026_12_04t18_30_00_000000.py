from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.engine import engine_finder

ID = "2026-12-04T18:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Instance checksums are SHA-256 (64 hex digits) instead of MD5"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="pacs", description=DESCRIPTION
    )

    engine = engine_finder()
    if engine is None or engine.engine_type == "sqlite":
        return manager  # SQLite enforces no lengths: nothing to change (piccolo would warn)

    manager.alter_column(
        table_class_name="Instance",
        tablename="instances",
        column_name="checksum",
        db_column_name="checksum",
        params={"length": 64},
        old_params={"length": 32},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
