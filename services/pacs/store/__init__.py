"""Storage domain: durable files, the index and the one ingest path."""

from pacsbox.pacs.store.files import Storage, WrittenFile
from pacsbox.pacs.store.ids import Level, ResourceIds, orthanc_id
from pacsbox.pacs.store.index import IndexStatus, Origin
from pacsbox.pacs.store.ingest import InstanceStore, StoreResult

__all__ = [
    "IndexStatus",
    "InstanceStore",
    "Level",
    "Origin",
    "ResourceIds",
    "Storage",
    "StoreResult",
    "WrittenFile",
    "orthanc_id",
]
