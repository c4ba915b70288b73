from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T21:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Each study keeps the patient's name, birth date and sex as its own instances give them"

_COLUMNS = (
    ("patient_name", Text, {}),
    ("patient_name_key", Text, {}),
    ("patient_birth_date", Varchar, {"length": 8}),
    ("patient_sex", Varchar, {"length": 16}),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pacs", description=DESCRIPTION)
    for name, column_class, extra in _COLUMNS:
        manager.add_column(
            table_class_name="Study",
            tablename="studies",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={
                **extra,
                "default": "",
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
