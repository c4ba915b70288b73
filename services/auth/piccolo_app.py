"""The auth store as a piccolo app: its tables and migrations."""

from pathlib import Path

from pacsbox.auth.tables import TABLES
from pacsbox.core.db import ServiceSchema
from piccolo.conf.apps import AppConfig

APP_CONFIG = AppConfig(
    app_name="auth",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=list(TABLES),
    migration_dependencies=[],
    commands=[],
)

SCHEMA = ServiceSchema(
    name="auth",
    conf="pacsbox.auth.piccolo_conf",
    migrations="pacsbox.auth.piccolo_migrations",
    tables=TABLES,
)
