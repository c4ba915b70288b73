"""DIMSE: the SCP (listener, handlers, association control) and pacsbox as an SCU of remote servers."""

from pacsbox.pacs.dimse.listener import DicomListener
from pacsbox.pacs.dimse.remotes import RemoteServer, RetrieveMode

__all__ = ["DicomListener", "RemoteServer", "RetrieveMode"]
