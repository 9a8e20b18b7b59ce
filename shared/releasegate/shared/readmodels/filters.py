"""Pieces of query filters the read models share."""

from __future__ import annotations

_REGEX_SPECIAL = set("\\.^$|?*+()[]{}-/#")


def literal_regex(text: str) -> str:
    """A regex matching ``text`` literally, valid for both MongoDB's PCRE and
    FerretDB's Go regexp (which rejects ``re.escape``'s escaped spaces)."""
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in text)


def fuzzy(text: str) -> dict[str, str]:
    """Case-insensitive substring match; the caller's text is literal, not a regex."""
    return {"$regex": literal_regex(text), "$options": "i"}


def time_window(begin: int | None, end: int | None) -> dict[str, int] | None:
    """``begin <= t <= end`` (either bound optional), or None for no bound at all."""
    out: dict[str, int] = {}
    if begin is not None:
        out["$gte"] = begin
    if end is not None:
        out["$lte"] = end
    return out or None
