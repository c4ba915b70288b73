"""piccolo's view of the auth store (the `piccolo` CLI reads it; services call `use_engine`)."""

from pacsbox.core.db import engine_for
from pacsbox.core.settings import Settings
from piccolo.conf.apps import AppRegistry

DB = engine_for(Settings.load(), "auth")
APP_REGISTRY = AppRegistry(apps=["pacsbox.auth.piccolo_app"])
