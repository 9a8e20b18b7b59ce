"""A log line is one JSON object: time, level, service, message, the message's ids
from the context, then the call's extra fields."""

from __future__ import annotations

import json
import logging
import random
from datetime import UTC, datetime

from releasegate.shared import logs


def _line(created: float, **extra: object) -> dict[str, object]:
    record = logging.makeLogRecord(
        {"name": "releasegate.bus", "levelname": "INFO", "msg": "handled", **extra}
    )
    record.created = created
    return json.loads(logs.JsonFormatter("submission").format(record))  # type: ignore[no-any-return]


def test_a_line_carries_context_ids_and_extras_in_order() -> None:
    token = logs.message_id_var.set("m-1")
    try:
        line = _line(1_795_000_000.25, queue="submission.inbox", attempt=0, ms=1.5)
    finally:
        logs.message_id_var.reset(token)
    assert list(line) == [
        *("ts", "level", "service", "logger", "msg", "message_id"),
        *("queue", "attempt", "ms"),
    ]
    assert line["message_id"] == "m-1" and line["level"] == "info" and line["ms"] == 1.5


def test_the_time_is_utc_to_the_millisecond_as_isoformat_writes_it() -> None:
    formatter = logs.JsonFormatter("s")
    rng = random.Random(7)
    moments = [1_795_000_000.0, 1_795_000_000.9999996, 1_795_000_520.1369998]
    for created in [*moments, *(1_795_000_000 + rng.random() * 1000 for _ in range(20_000))]:
        record = logging.makeLogRecord({"msg": "x"})
        record.created = created
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert json.loads(formatter.format(record))["ts"] == expected
