"""One log format for every pacsbox service: time, level, service, message.

Plain text by default, one JSON object per line with `--log-json`. Messages at
INFO and above never carry patient data or tokens; such details are logged at
DEBUG only.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings

__all__ = ["configure_logging"]


class _TextFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = f"{stamp}.{int(record.msecs):03d}Z {record.levelname:<7} {self.service:<6} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _JsonFormatter(_TextFormatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, level: str = "INFO", as_json: bool = False) -> None:
    """Route the root logger (and uvicorn's, pynetdicom's) to stderr in the pacsbox format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter(service) if as_json else _TextFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # pynetdicom logs every PDU at INFO; keep its chatter for DEBUG runs.
    logging.getLogger("pynetdicom").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("pydicom").setLevel(logging.ERROR)  # per-value complaints about stored files
    warnings.filterwarnings("ignore", module="pydicom")
    logging.getLogger("piccolo").setLevel(max(logging.WARNING, root.level))
    # Access lines carry query strings (patient names, tokens): DEBUG only.
    logging.getLogger("uvicorn.access").setLevel(max(logging.WARNING, root.level))
    # httpx logs each request a service makes to another (UIDs in the URL) at INFO: DEBUG only.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
