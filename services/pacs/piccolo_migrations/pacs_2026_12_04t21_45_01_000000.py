from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from pacsbox.pacs.tables import Study

ID = "2026-12-04T21:45:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Studies indexed before take their patient's details as their own"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pacs", description=DESCRIPTION)

    async def copy_patient_details() -> None:
        await Study.raw(
            "UPDATE studies SET"
            " patient_name = (SELECT p.patient_name FROM patients p WHERE p.id = studies.patient),"
            " patient_name_key = (SELECT p.patient_name_key FROM patients p WHERE p.id = studies.patient),"
            " patient_birth_date = (SELECT p.birth_date FROM patients p WHERE p.id = studies.patient),"
            " patient_sex = (SELECT p.sex FROM patients p WHERE p.id = studies.patient)"
        )

    manager.add_raw(copy_patient_details)
    return manager
