from __future__ import annotations

from releasegate.shared.config import CommonSettings


class ReviewSettings(CommonSettings):
    """``RELEASEGATE_*`` env; see CommonSettings for the shared keys."""

    prefetch: int = 32
