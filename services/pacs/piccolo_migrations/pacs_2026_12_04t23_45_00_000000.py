from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-04T23:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique columns lose their second, plain index: the constraint's own index serves the same lookups, and every stored instance wrote both"

UNIQUE_COLUMNS = (  # (table class, table, column): each unique column's own constraint indexes it
    ("Patient", "patients", "public_id"),
    ("Study", "studies", "public_id"),
    ("Study", "studies", "study_uid"),
    ("Series", "series", "public_id"),
    ("Series", "series", "series_uid"),
    ("Instance", "instances", "public_id"),
    ("Instance", "instances", "sop_uid"),
    ("Modality", "modalities", "name"),
    ("Job", "jobs", "public_id"),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pacs", description=DESCRIPTION)
    for table_class_name, tablename, column in UNIQUE_COLUMNS:
        manager.alter_column(
            table_class_name=table_class_name, tablename=tablename, column_name=column, db_column_name=column,
            params={"index": False}, old_params={"index": True}, column_class=Varchar, old_column_class=Varchar,
        )
    return manager
