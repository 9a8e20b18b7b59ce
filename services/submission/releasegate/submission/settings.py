from __future__ import annotations

from releasegate.shared.config import CommonSettings


class SubmissionSettings(CommonSettings):
    """``RELEASEGATE_*`` env; see CommonSettings for the shared keys."""

    # Upstream bursts are many small independent writes: a deep prefetch keeps the
    # database busy while per-item locks keep each item's writes in order.
    prefetch: int = 64
    versions_kept: int = 100
    # Items the claims hint (a Bloom filter, 1.2 MB per million) holds at a 1 % error
    # rate; beyond it, more new items are read before they are claimed.
    item_hint_capacity: int = 1_000_000
