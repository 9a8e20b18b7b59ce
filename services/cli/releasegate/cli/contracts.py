"""``releasegate contracts``: the message catalogue, as JSON Schema files generated
from the pydantic models and as a Markdown table (the README's event catalogue)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from releasegate.shared.bus.topology import QUEUES
from releasegate.shared.contracts import all_contracts
from releasegate.shared.contracts.envelope import Contract, Envelope


def schema_files() -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {"envelope.schema.json": Envelope.model_json_schema()}
    for c in all_contracts():
        schema = c.model.model_json_schema()
        schema["title"] = f"{c.type} v{c.version}"
        schema["description"] = c.summary
        files[f"{c.type}.v{c.version}.schema.json"] = schema
    return files


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schema_files().items():
        path = out / name
        path.write_text(render(schema))
        written.append(path)
    return written


def _queues_for(c: Contract[Any]) -> str:
    from releasegate.shared.bus.topology import topic_matches

    bound = [q.name for q in QUEUES if any(topic_matches(p, c.type) for p in q.bindings)]
    return ", ".join(bound) or "-"


def markdown_table() -> str:
    rows = ["| routing key | v | kind | what it says | bound queues |", "|---|---|---|---|---|"]
    for c in all_contracts():
        rows.append(f"| `{c.type}` | {c.version} | {c.kind} | {c.summary} | {_queues_for(c)} |")
    return "\n".join(rows) + "\n"
