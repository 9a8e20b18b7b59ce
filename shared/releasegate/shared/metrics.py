"""In-process counters, served as Prometheus text on each service's /metrics."""

from __future__ import annotations

from collections import Counter
from threading import Lock


class Metrics:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._lock = Lock()

    def inc(self, name: str, amount: int = 1, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._counts[key] += amount

    def value(self, name: str, **labels: str) -> int:
        return self._counts.get((name, tuple(sorted(labels.items()))), 0)

    def render(self) -> str:
        lines = []
        for (name, labels), value in sorted(self._counts.items()):
            label_text = ",".join(f'{k}="{v}"' for k, v in labels)
            lines.append(f"releasegate_{name}{{{label_text}}} {value}")
        return "\n".join(lines) + "\n"
