from releasegate.shared.store.base import (
    Collection,
    Database,
    Doc,
    DuplicateKey,
    IndexSpec,
    StoreUnavailable,
    UpdateOutcome,
)

__all__ = [
    "Collection",
    "Database",
    "Doc",
    "DuplicateKey",
    "IndexSpec",
    "StoreUnavailable",
    "UpdateOutcome",
]
