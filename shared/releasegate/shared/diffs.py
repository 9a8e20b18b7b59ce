"""Diffs of item contents, free of I/O: unified text diffs for scripts, key-ordered
pretty-printed JSON diffs for job definitions."""

from __future__ import annotations

import difflib
import json
from typing import Any


def render(content: Any) -> list[str]:
    if content is None:
        return []
    if isinstance(content, str):
        return content.splitlines(keepends=True)
    text = json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return text.splitlines(keepends=True)


def unified(old: Any, new: Any, old_label: str, new_label: str) -> str:
    lines = difflib.unified_diff(render(old), render(new), fromfile=old_label, tofile=new_label)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
