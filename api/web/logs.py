"""Logging: one JSON object per line, so a request's fields can be queried later.

Every line has an ISO 8601 UTC timestamp, the level, the logger, the message, the process id
(several workers write to one stream) and, while a request runs, its id (api.web.access), so
an error finds its request line. Each server process configures it for itself: uvicorn's
workers are fresh interpreters that inherit nothing of the parent's set-up.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

#: The id of the request being served (api.web.access sets it).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
# uvicorn adds `color_message`, its message with ANSI colour codes: never written.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = {
            "ts": ts.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        line.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # psycopg's pool says each failed attempt, dozens a second while the database is away;
    # geo.outages says once that it is away and once that it is back.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
