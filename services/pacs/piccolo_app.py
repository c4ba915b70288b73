"""The pacs index as a piccolo app: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from pacsbox.core.db import ServiceSchema
from pacsbox.pacs.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="pacs",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=[],
    commands=[],
)

SCHEMA = ServiceSchema(
    name="pacs",
    conf="pacsbox.pacs.piccolo_conf",
    migrations="pacsbox.pacs.piccolo_migrations",
    tables=TABLES,
)
