"""Evaluation of MongoDB filters, sorts and updates over plain dicts, for the
in-memory adapter. Covers exactly the operators the store protocol promises; an
operator outside it raises, so a repository cannot come to depend on one silently.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

_MISSING = object()


def get_path(doc: Any, path: str) -> list[Any]:
    """Every value a dotted path reaches (arrays fan out, as in MongoDB)."""
    values = [doc]
    for part in path.split("."):
        nxt: list[Any] = []
        for value in values:
            if isinstance(value, Mapping):
                if part in value:
                    nxt.append(value[part])
            elif isinstance(value, list):
                if part.isdigit() and int(part) < len(value):
                    nxt.append(value[int(part)])
                else:
                    nxt.extend(v[part] for v in value if isinstance(v, Mapping) and part in v)
        values = nxt
    return values


def matches(doc: Mapping[str, Any], filt: Mapping[str, Any]) -> bool:
    for key, cond in filt.items():
        if key == "$and":
            if not all(matches(doc, sub) for sub in cond):
                return False
        elif key == "$or":
            if not any(matches(doc, sub) for sub in cond):
                return False
        elif key.startswith("$"):
            raise NotImplementedError(f"filter operator {key}")
        elif not _field_matches(get_path(doc, key), cond):
            return False
    return True


def _is_operator_doc(cond: Any) -> bool:
    return isinstance(cond, Mapping) and bool(cond) and all(k.startswith("$") for k in cond)


def _candidates(values: list[Any]) -> list[Any]:
    """Values plus the elements of array values (MongoDB's implicit array matching)."""
    out = list(values)
    for v in values:
        if isinstance(v, list):
            out.extend(v)
    return out


def _field_matches(values: list[Any], cond: Any) -> bool:
    if not _is_operator_doc(cond):
        return any(_eq(v, cond) for v in _candidates(values)) or (cond is None and not values)
    options = cond.get("$options", "")
    for op, arg in cond.items():
        if op == "$options":
            continue
        if not _op_matches(values, op, arg, options):
            return False
    return True


def _op_matches(values: list[Any], op: str, arg: Any, options: str) -> bool:
    cands = _candidates(values)
    if op == "$eq":
        return _field_matches(values, {"$in": [arg]})
    if op == "$ne":
        return not _field_matches(values, arg if not isinstance(arg, Mapping) else {"$eq": arg})
    if op == "$in":
        return any(_eq(v, a) for v in cands for a in arg) or (None in arg and not values)
    if op == "$nin":
        return not _op_matches(values, "$in", arg, options)
    if op == "$exists":
        return bool(values) == bool(arg)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return any(_compare(v, op, arg) for v in cands)
    if op == "$regex":
        flags = re.IGNORECASE if "i" in options else 0
        pattern = re.compile(arg, flags)
        return any(isinstance(v, str) and pattern.search(v) for v in cands)
    raise NotImplementedError(f"query operator {op}")


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _compare(v: Any, op: str, arg: Any) -> bool:
    if _type_rank(v) != _type_rank(arg):
        return False
    if op == "$gt":
        return bool(v > arg)
    if op == "$gte":
        return bool(v >= arg)
    if op == "$lt":
        return bool(v < arg)
    return bool(v <= arg)


def _type_rank(v: Any) -> int:
    if v is None:
        return 1
    if isinstance(v, bool):
        return 8
    if isinstance(v, int | float):
        return 2
    if isinstance(v, str):
        return 3
    if isinstance(v, Mapping):
        return 4
    if isinstance(v, list):
        return 5
    return 9


def sort_key(spec: Sequence[tuple[str, int]]) -> Any:
    def key(doc: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for field, direction in spec:
            values = get_path(doc, field)
            value = values[0] if values else None
            item = (_type_rank(value), value if value is not None else 0)
            out.append(_Directional(item, direction))
        return tuple(out)

    return key


class _Directional:
    __slots__ = ("direction", "item")

    def __init__(self, item: tuple[int, Any], direction: int) -> None:
        self.item = item
        self.direction = direction

    def __lt__(self, other: _Directional) -> bool:
        if self.direction >= 0:
            return bool(self.item < other.item)
        return bool(self.item > other.item)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Directional) and self.item == other.item

    __hash__ = None  # type: ignore[assignment]


def apply_update(doc: dict[str, Any], update: Mapping[str, Any], *, inserting: bool) -> bool:
    """Apply an update document in place; True if anything changed."""
    before = copy.deepcopy(doc)
    for op, fields in update.items():
        for path, value in fields.items():
            if op == "$set":
                _set(doc, path, copy.deepcopy(value))
            elif op == "$setOnInsert":
                if inserting:
                    _set(doc, path, copy.deepcopy(value))
            elif op == "$unset":
                _unset(doc, path)
            elif op == "$inc":
                current = get_path(doc, path)
                _set(doc, path, (current[0] if current else 0) + value)
            elif op in ("$push", "$addToSet"):
                current = get_path(doc, path)
                array = list(current[0]) if current else []
                each = isinstance(value, Mapping) and "$each" in value
                items = value["$each"] if each else [value]
                for item in items:
                    if op == "$push" or item not in array:
                        array.append(copy.deepcopy(item))
                if isinstance(value, Mapping) and "$slice" in value:
                    n = value["$slice"]
                    array = array[n:] if n < 0 else array[:n]
                _set(doc, path, array)
            else:
                raise NotImplementedError(f"update operator {op}")
    return doc != before


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    target = doc
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _unset(doc: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    target: Any = doc
    for part in parts[:-1]:
        if not isinstance(target, dict) or part not in target:
            return
        target = target[part]
    if isinstance(target, dict):
        target.pop(parts[-1], None)


def project(doc: Mapping[str, Any], projection: Mapping[str, int] | None) -> dict[str, Any]:
    if not projection:
        return copy.deepcopy(dict(doc))
    include = {k for k, v in projection.items() if v}
    if include:
        out = {k: copy.deepcopy(v) for k, v in doc.items() if k in include}
        if projection.get("_id", 1) and "_id" in doc:
            out["_id"] = doc["_id"]
        return out
    return {k: copy.deepcopy(v) for k, v in doc.items() if k not in projection}


def equality_fields(filt: Mapping[str, Any]) -> dict[str, Any]:
    """Plain equality conditions, used to seed a document on upsert."""
    return {
        k: v
        for k, v in filt.items()
        if not k.startswith("$") and not _is_operator_doc(v) and "." not in k
    }
