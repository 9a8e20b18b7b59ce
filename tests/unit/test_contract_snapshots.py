"""Contracts change only on purpose: the JSON Schemas generated from the models must
equal the committed ones in docs/events (regenerate: releasegate contracts --out
docs/events, and bump schema_version for any breaking change)."""

from __future__ import annotations

from pathlib import Path

from releasegate.cli.contracts import markdown_table, render, schema_files
from releasegate.shared.contracts import all_contracts

ROOT = Path(__file__).resolve().parents[2]


def test_schemas_match_the_committed_snapshots() -> None:
    folder = ROOT / "docs" / "events"
    generated = schema_files()
    committed = {p.name for p in folder.glob("*.schema.json")}
    assert committed == set(generated), "contracts added or removed: regenerate docs/events"
    for name, schema in generated.items():
        assert (folder / name).read_text() == render(schema), f"{name} changed"


def test_readme_lists_every_contract() -> None:
    readme = (ROOT / "README.md").read_text()
    assert markdown_table() in readme
    for c in all_contracts():
        assert f"`{c.type}`" in readme


def test_contracts_are_frozen_and_reject_unknown_fields() -> None:
    for c in all_contracts():
        assert c.model.model_config.get("frozen") is True, c.type
        assert c.model.model_config.get("extra") == "forbid", c.type


def test_the_api_reference_documents_every_error_code() -> None:
    from releasegate.shared.errors import error_table

    reference = (ROOT / "docs" / "api.md").read_text()
    for error in error_table():
        assert f"`{error.code}` | {error.http_status} |" in reference, error.code


def test_readme_endpoint_table_matches_the_code() -> None:
    from releasegate.cli.embedded import build_embedded
    from releasegate.gateway.catalog import endpoint_table

    app = build_embedded().gateway.app
    assert endpoint_table(app) in (ROOT / "README.md").read_text()
