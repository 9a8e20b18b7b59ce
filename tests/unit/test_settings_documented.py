"""docs/operations.md's settings table is the full one (the README says so): every
field of every service's settings class has a row, with its default, and no row names
a setting that does not exist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings

from releasegate.deployer.settings import DeployerSettings
from releasegate.gateway.settings import GatewaySettings
from releasegate.review.settings import ReviewSettings
from releasegate.shared.config import CommonSettings
from releasegate.submission.settings import SubmissionSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
CLASSES: tuple[type[BaseSettings], ...] = (
    CommonSettings,
    GatewaySettings,
    SubmissionSettings,
    ReviewSettings,
    DeployerSettings,
)


def _table() -> dict[str, str]:
    """variable -> its default cell, from the table under `| variable | default | ...`."""
    lines = DOC.read_text().splitlines()
    start = lines.index("| variable | default | meaning |")
    rows: dict[str, str] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1]
    return rows


def _shown(default: Any) -> str:
    """How the table writes a default."""
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, float):
        return f"{default:g}"
    if isinstance(default, int):
        return str(default)
    if isinstance(default, list):
        return f"`{json.dumps(default)}`"
    if default in (None, ""):
        return "none"
    return f"`{default}`"


def _defaults() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for cls in CLASSES:
        for name, field in cls.model_fields.items():
            default = field.get_default(call_default_factory=True)
            found.setdefault(f"RELEASEGATE_{name.upper()}", set()).add(_shown(default))
    return found


def test_every_setting_has_a_row_and_every_row_a_setting() -> None:
    table, settings = _table(), _defaults()
    assert sorted(set(settings) - set(table)) == [], "settings missing from the table"
    assert sorted(set(table) - set(settings)) == [], "rows naming no setting"


def test_the_rows_give_the_defaults() -> None:
    table = _table()
    # Secrets default to a dev placeholder that is refused outside dev mode.
    required = {"RELEASEGATE_TOKEN_SECRET", "RELEASEGATE_CREDENTIALS_KEY"}
    for variable, shown in _defaults().items():
        if variable in required:
            assert "required" in table[variable]
            continue
        for default in shown:
            assert default in table[variable], (variable, default, table[variable])
