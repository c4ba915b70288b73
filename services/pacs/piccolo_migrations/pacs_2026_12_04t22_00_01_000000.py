from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from pacsbox.pacs.tables import Study

ID = "2026-12-04T22:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Studies and series indexed before are stable: no Stable* changes are announced for them"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pacs", description=DESCRIPTION)

    async def mark_stable() -> None:
        await Study.raw("UPDATE studies SET stable = TRUE")
        await Study.raw("UPDATE series SET stable = TRUE")

    manager.add_raw(mark_stable)
    return manager
