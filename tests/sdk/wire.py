"""Checks the JSON the gateway sent against the SDK's own model declarations.

The SDK parses leniently: a primitive is converted with ``klass(value)``, so a
``package_id`` sent as ``123`` still reaches a ``str`` attribute as ``"123"``, and a
misspelt field only leaves ``None`` behind. ``assert_wire`` walks the raw body next to
the model's ``openapi_types`` / ``attribute_map`` and fails on a missing field or a
JSON type other than the one the SDK declares, so the vendor's typed clients (Java,
Go) would read our answers as the Python one does.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from huaweicloudsdkdataartsstudio.v1 import model as sdk_model

_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
    "float": (int, float),
}


def assert_wire(response: Any, *, nullable: Collection[str] = ()) -> Any:
    """The raw JSON body of an SDK response, after checking it field by field against
    the response's model class. Fields named in ``nullable`` may be ``null``."""
    body = json.loads(response.raw_content)
    _check(body, type(response).__name__, "$", frozenset(nullable))
    return body


def _check(value: Any, declared: str, where: str, nullable: frozenset[str]) -> None:
    if declared.startswith("list["):
        assert isinstance(value, list), f"{where}: expected a JSON array, got {value!r}"
        for i, element in enumerate(value):
            _check(element, declared[5:-1], f"{where}[{i}]", nullable)
        return
    if declared in _PRIMITIVES:
        ok = isinstance(value, _PRIMITIVES[declared]) and (
            declared == "bool" or not isinstance(value, bool)
        )
        assert ok, f"{where}: the SDK declares {declared}, the gateway sent {value!r}"
        return
    klass = getattr(sdk_model, declared)
    assert isinstance(value, dict), f"{where}: expected a JSON object ({declared}), got {value!r}"
    for attr, attr_type in klass.openapi_types.items():
        key = klass.attribute_map[attr]
        if key.lower().startswith("x-"):
            continue  # a response header, not a body field
        path = f"{where}.{key}"
        assert key in value, f"{path}: missing (declared by {declared})"
        if value[key] is None:
            assert key in nullable, f"{path}: null, but the SDK declares {attr_type}"
            continue
        _check(value[key], attr_type, path, nullable)
